/**
 * TEST CODE. The stream-timing check of the scenario runner (ExpectedStreamTiming in ./types.ts), kept apart so it
 * can be unit-tested (tests/unit/scenario-stream-timing.test.ts).
 */
import type { ExpectedStreamTiming } from "./types.ts";

/**
 * What is wrong with the spacing of streamed events (see ExpectedStreamTiming); empty when it holds. The median and
 * the total span carry the proof that events are relayed as they arrive; single gaps only have to stay below a
 * generous ceiling, so one late timer under full-suite load does not fail the case.
 */
export function streamTimingProblems(eventTimes: number[], s: ExpectedStreamTiming): string[] {
  const times = eventTimes.slice(s.skipFirstEvents ?? 0);
  const gaps = times.slice(1).map((t, i) => t - times[i]!).slice(0, s.minChunks - 1);
  const shown = `gaps ${gaps.map((g) => g.toFixed(1)).join(", ")} ms vs ${s.eventIntervalMs} ms`;
  if (gaps.length < s.minChunks - 1) return [`only ${gaps.length + 1} events to time, expected at least ${s.minChunks} (${shown})`];
  const problems: string[] = [];
  const sorted = [...gaps].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  if (Math.abs(median - s.eventIntervalMs) > s.toleranceMs) problems.push(`median gap ${median.toFixed(1)} ms is not within ${s.toleranceMs} ms of ${s.eventIntervalMs} ms (${shown})`);
  const span = gaps.reduce((a, b) => a + b, 0);
  // Half the expected span: a late first event shortens the next gap, but held-then-flushed events give ~0.
  const minSpan = (gaps.length * s.eventIntervalMs) / 2;
  if (span < minSpan) problems.push(`events span ${span.toFixed(1)} ms, less than ${minSpan} ms: they were held and flushed together (${shown})`);
  const maxGap = s.maxGapMs ?? s.eventIntervalMs + 6 * s.toleranceMs;
  const worst = Math.max(...gaps);
  if (worst > maxGap) problems.push(`a gap of ${worst.toFixed(1)} ms exceeds ${maxGap} ms: the stream stalled (${shown})`);
  return problems;
}
