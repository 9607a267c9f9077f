// The tolerances' arithmetic: percentiles, the share bound, chart bins, and the simulator's window replayed.
import { describe, expect, it } from "vitest";
import { binFor, burstCapacity, countSeries, maxOf, meanSeries, median, percentile, replayWindow, shareBound } from "../../scripts/e2e/stats.ts";

describe("percentile", () => {
  it("is the nearest rank, undefined for nothing", () => {
    const v = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(percentile(v, 50)).toBe(5);
    expect(percentile(v, 90)).toBe(9);
    expect(percentile(v, 99)).toBe(10);
    expect(percentile(v, 0)).toBe(1);
    expect(median([3])).toBe(3);
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe("maxOf", () => {
  it("takes a --long run's 10^5 values (Math.max(...) would overflow the stack) and gives `empty` for none", () => {
    const many = Array.from({ length: 300_000 }, (_, i) => i % 1000);
    expect(maxOf(many)).toBe(999);
    expect(maxOf([])).toBe(0);
    expect(maxOf([], -1)).toBe(-1);
    expect(maxOf([-5, -2])).toBe(-2);
  });
});

describe("shareBound", () => {
  it("is three binomial standard deviations plus one request per worker", () => {
    expect(shareBound(0.5, 400, 2)).toBeCloseTo(3 * Math.sqrt(0.25 / 400) + 2 / 400, 12);
    expect(shareBound(2 / 3, 300, 2)).toBeCloseTo(3 * Math.sqrt((2 / 9) / 300) + 2 / 300, 12);
  });

  it("narrows as the sample grows and allows anything for no sample", () => {
    expect(shareBound(0.5, 10_000, 2)).toBeLessThan(shareBound(0.5, 100, 2));
    expect(shareBound(0.5, 0, 2)).toBe(1);
  });
});

describe("chart bins", () => {
  it("countSeries: requests per second for every bin up to the last, empty ones included", () => {
    expect(countSeries([0.1, 0.5, 2.2], 1)).toEqual([[0, 2], [1, 0], [2, 1]]);
    expect(countSeries([0.1, 0.5, 2.2], 2)).toEqual([[0, 1], [2, 0.5]]);
    expect(countSeries([], 1)).toEqual([]);
  });

  it("binFor: a quarter second for --short, the toolkit's 10 s for minutes, 30 s past 10 minutes", () => {
    expect([binFor(3), binFor(45), binFor(360), binFor(900)]).toEqual([0.25, 1, 10, 30]);
  });

  it("meanSeries: the mean per bin, bins without points left out", () => {
    expect(meanSeries([[0.2, 10], [0.9, 20], [3.5, 40]], 1)).toEqual([[0, 15], [3, 40]]);
  });
});

describe("replayWindow: the simulator's own limiter over its request log", () => {
  it("gives a refusal the Retry-After the simulator sent (its unit-test example: costs 20,20,20,40 then 20 at t=50 → 20 s)", () => {
    const entries = [10, 20, 30, 40].map((t, i) => ({ time: t * 1000, cost: i === 3 ? 40 : 20, status: 200 }));
    const replayed = replayWindow(100, [...entries, { time: 50_000, cost: 20, status: 429 }]);
    expect(replayed.map((e) => e.admitted)).toEqual([true, true, true, true, false]);
    expect(replayed[4]!.retryAfterS).toBe(20);
  });

  it("takes the log in time order and leaves out what never touched the window (faults, 4xx)", () => {
    const replayed = replayWindow(10_000, [
      { time: 3, cost: 2000, status: 200 },
      { time: 1, cost: 2000, status: 200 },
      { time: 2, cost: 2000, status: 400 },
      { time: 4, cost: 2000, status: undefined },
    ]);
    expect(replayed.map((e) => e.time)).toEqual([1, 3]);
  });

  it("an empty 10k window admits five requests of 2000 tokens, then refuses for about a minute", () => {
    const replayed = replayWindow(10_000, Array.from({ length: 7 }, (_, i) => ({ time: 1000 + i * 10, cost: 2000, status: i < 5 ? 200 : 429 })));
    expect(replayed.filter((e) => e.admitted)).toHaveLength(5);
    expect(replayed[5]!.retryAfterS).toBe(60);
  });
});

describe("burstCapacity", () => {
  it("is the tokens or the 10 s requests an empty window admits, whichever is fewer", () => {
    expect(burstCapacity(10_000, 2000)).toBe(5);
    expect(burstCapacity(20_000, 4000)).toBe(5);
    expect(burstCapacity(100_000, 1000)).toBe(100);
    expect(burstCapacity(5000, 10)).toBe(5);
  });
});
