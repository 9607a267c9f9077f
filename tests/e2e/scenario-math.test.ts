// The scenarios' pure parts: PTU rests and spills, the low-priority token bounds, budget bounds, per-client usage,
// the stream comparison, the access-log ledger, latency-routing windows.
import { describe, expect, it } from "vitest";
import { parseExposition } from "../../scripts/lib/prometheus-text.ts";
import { budgetBounds } from "../../scripts/e2e/scenarios/prioritization-calculating.ts";
import { backoffMs, lowTokenBounds } from "../../scripts/e2e/scenarios/prioritization-tracking.ts";
import { IN_FLIGHT_GRACE_MS, callsDuringRests, firstReopen, restsOf, spillsOutsideRests } from "../../scripts/e2e/scenarios/ptu-payg.ts";
import { windowShare } from "../../scripts/e2e/scenarios/latency-routing.ts";
import { normalizeFrame, streamFacts } from "../../scripts/e2e/scenarios/streaming.ts";
import { ledgerOf } from "../../scripts/e2e/scenarios/sustained-load.ts";
import { metricByClient, usageByClient } from "../../scripts/e2e/scenarios/usage-tracking.ts";
import type { Sent } from "../../scripts/e2e/traffic.ts";

function sent(over: Partial<Sent>): Sent {
  return { id: 1, client: "a", lane: "high", sentAt: 0, status: 200, headers: {}, totalMs: 10, ...over };
}

describe("ptu-payg: rests after a 429", () => {
  const rests = restsOf([
    { time: 1000, cost: 2000, status: 200, admitted: true },
    { time: 1100, cost: 2000, status: 429, admitted: false, retryAfterS: 60 },
    { time: 1150, cost: 2000, status: 429, admitted: false, retryAfterS: 61 },
  ]);

  it("each 429 rests the PTU for its Retry-After", () => {
    expect(rests).toEqual([{ at: 1100, until: 61_100 }, { at: 1150, until: 62_150 }]);
  });

  it("a PTU call inside a rest is a miss, unless it was in flight when the 429 came", () => {
    expect(callsDuringRests([1000, 1100 + IN_FLIGHT_GRACE_MS - 1, 30_000, 62_200], rests)).toEqual([30_000]);
  });

  it("a PAYG call outside every rest is a spill while the PTU had room", () => {
    expect(spillsOutsideRests([500, 1120, 40_000, 62_300, 70_000], rests)).toEqual([500, 70_000]);
  });

  it("the reopening: the first PTU call after the longest rest of the first 429 and those in flight with it", () => {
    expect(firstReopen([1000, 1100, 62_400], rests)).toEqual({ end: 62_150, next: 62_400 });
    expect(firstReopen([1000, 1100], rests)).toEqual({ end: 62_150 });
    expect(firstReopen([1000], [])).toBeUndefined();
  });
});

describe("prioritization bounds", () => {
  it("low tokens: 70 % of the window, less high's use and one request; plus in-flight requests and a probe a second", () => {
    // The lanes suite's figures: 100k TPM, 4 low users of 2000, 6 s.
    expect(lowTokenBounds(100_000, 6, 4, 2000, 850)).toEqual([70_000 - 850 - 2000, 70_000 + 3 * 2000 + 7 * 2000]);
  });

  it("a refused low user backs off for the refusal's Retry-After (capped at a minute), else the fallback", () => {
    expect(backoffMs(sent({ status: 429, headers: { "retry-after": "1" } }), 20)).toBe(1000);
    expect(backoffMs(sent({ status: 429, headers: { "retry-after": "600" } }), 20)).toBe(60_000);
    expect(backoffMs(sent({ status: 429 }), 20)).toBe(20);
  });

  it("budgets: the budget in every whole window, at most budget + overshoot in every window touched", () => {
    expect(budgetBounds(2000, 60, 3, 252)).toEqual([2000, 2252]);
    expect(budgetBounds(5000, 60, 300, 100)).toEqual([25_000, 6 * 5100]);
  });
});

describe("usage-tracking", () => {
  it("sums the usage of 200s per client", () => {
    const sents = [sent({ client: "a", totalTokens: 9 }), sent({ client: "a", totalTokens: 11 }), sent({ client: "b", totalTokens: 5 }), sent({ client: "b", status: 429 })];
    expect(usageByClient(sents)).toEqual(new Map([["a", 20], ["b", 5]]));
  });

  it("the metric's increase per client, over kinds, routes and backends; a client never counted is 0", () => {
    const before = parseExposition('apisix_spillway_tokens_total{route="r",client="a",lane="high",backend="p",kind="prompt"} 4\n');
    const after = parseExposition(
      [
        'apisix_spillway_tokens_total{route="r",client="a",lane="high",backend="p",kind="prompt"} 8',
        'apisix_spillway_tokens_total{route="r",client="a",lane="high",backend="p",kind="completion"} 16',
        'apisix_spillway_tokens_total{route="r2",client="b",lane="low",backend="q",kind="prompt"} 3',
      ].join("\n"),
    );
    expect(metricByClient(before, after, ["a", "b", "c"])).toEqual(new Map([["a", 20], ["b", 3], ["c", 0]]));
  });
});

describe("streaming", () => {
  const frame = (data: string, atMs = 0) => ({ data, atMs });

  it("two streams of the same request compare equal once ids, times and words are set aside", () => {
    const a = '{"id":"chatcmpl-1","created":1,"choices":[{"index":0,"delta":{"content":"Lorem"}}]}';
    const b = '{"id":"chatcmpl-2","created":2,"choices":[{"index":0,"delta":{"content":"ipsum"}}]}';
    expect(normalizeFrame(frame(a))).toBe(normalizeFrame(frame(b)));
    expect(normalizeFrame(frame('{"choices":[{"delta":{"content":""}}]}'))).not.toBe(normalizeFrame(frame(a)));
    expect(normalizeFrame(frame("[DONE]"))).toBe("|[DONE]");
    expect(normalizeFrame({ data: "{}", event: "response.completed" })).toBe("response.completed|{}");
  });

  it("TTFT is the first frame with content; gaps are between content frames", () => {
    const frames = [
      frame('{"choices":[],"prompt_filter_results":[]}', 50),
      frame('{"choices":[{"delta":{"role":"assistant","content":""}}]}', 50),
      frame('{"choices":[{"delta":{"content":"a"}}]}', 80),
      frame('{"choices":[{"delta":{"content":"b"}}]}', 105),
      frame('{"choices":[{"delta":{"content":"c"}}]}', 131),
      frame("[DONE]", 131),
    ];
    expect(streamFacts(frames, true, 50, 140)).toMatchObject({ ttfbMs: 50, ttftMs: 80, gaps: [25, 26] });
  });
});

describe("sustained-load ledger", () => {
  it("counts requests missing from the access log and ids logged twice", () => {
    expect(ledgerOf([1, 2, 3, 4], new Map([[1, 1], [2, 2], [4, 1], [99, 1]]))).toEqual({ missing: 1, repeated: 1, lines: 4 });
  });
});

describe("latency-routing windows", () => {
  it("the share of 200s sent in [from, to) that the expected backend answered", () => {
    const sents = [sent({ sentAt: 500, backend: "p2" }), sent({ sentAt: 1500, backend: "p1" }), sent({ sentAt: 1600, backend: "p1" }), sent({ sentAt: 1700, backend: "p2" }), sent({ sentAt: 1800, status: 502 }), sent({ sentAt: 3000, backend: "p2" })];
    expect(windowShare(sents, 1000, 2000, "p1")).toEqual({ n: 3, share: 2 / 3 });
    expect(windowShare(sents, 5000, 6000, "p1")).toEqual({ n: 0, share: undefined });
  });
});
