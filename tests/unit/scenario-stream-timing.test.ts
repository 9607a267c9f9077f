// TEST CODE. The stream-timing check of the scenario runner (tests/scenarios/stream-timing.ts, used by run.ts): it must
// still catch a gateway that buffers or stalls a stream, while one late wake-up under full-suite load passes.
import { describe, expect, it } from "vitest";
import { streamTimingProblems } from "../scenarios/stream-timing.ts";

const SPEC = { minChunks: 4, eventIntervalMs: 40, toleranceMs: 25 };

describe("scenario runner: stream timing", () => {
  it("passes events spaced as the upstream sent them", () => {
    expect(streamTimingProblems([0, 41, 79, 122], SPEC)).toEqual([]);
  });

  it("passes one late event followed by a short gap (a busy machine, not a buffering gateway)", () => {
    expect(streamTimingProblems([0, 40, 140, 150], SPEC)).toEqual([]);
    expect(streamTimingProblems([0, 10, 50, 90], SPEC)).toEqual([]);
  });

  it("fails events that were held and flushed together", () => {
    const problems = streamTimingProblems([0, 1, 2, 3], SPEC);
    expect(problems.join("\n")).toMatch(/median gap 1\.0 ms is not within 25 ms of 40 ms/);
    expect(problems.join("\n")).toMatch(/events span 3\.0 ms, less than 60 ms/);
  });

  it("fails events flushed in pairs", () => {
    expect(streamTimingProblems([0, 0, 80, 80], SPEC).join("\n")).toMatch(/median gap 0\.0 ms/);
  });

  it("fails a stall longer than the ceiling (default interval + 6 × tolerance), or a chosen maxGapMs", () => {
    expect(streamTimingProblems([0, 40, 80, 400], SPEC).join("\n")).toMatch(/a gap of 320\.0 ms exceeds 190 ms/);
    expect(streamTimingProblems([0, 40, 80, 160], { ...SPEC, maxGapMs: 60 }).join("\n")).toMatch(/a gap of 80\.0 ms exceeds 60 ms/);
  });

  it("skips the held preamble events and needs enough events to judge", () => {
    expect(streamTimingProblems([0, 0, 0, 40, 80, 120], { ...SPEC, skipFirstEvents: 2 })).toEqual([]);
    expect(streamTimingProblems([0, 40], SPEC)).toEqual(["only 2 events to time, expected at least 4 (gaps 40.0 ms vs 40 ms)"]);
  });
});
