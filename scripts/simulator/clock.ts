/** Clocks for the simulator: the system one, and a manual one so tests can walk the rate-limit windows exactly. */
import type { Clock } from "./types.ts";

export const systemClock: Clock = { now: () => Date.now() };

export interface FakeClock extends Clock {
  /** Move time forward by ms. */
  advance(ms: number): void;
  /** Jump to an absolute time (ms since the epoch). */
  set(ms: number): void;
}

export function fakeClock(startMs = 1_700_000_000_000): FakeClock {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

/** Resolves after ms, or at once when the signal aborts (so stop() never waits on a simulated delay). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
