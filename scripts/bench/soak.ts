/**
 * `--soak n`: n requests to Spillway's chat route after the rounds, with the workers' RSS before, between and after,
 * and the error-log lines it added (issue 9: memory flat over 200k requests, the log quiet). wrk stops on a duration,
 * not a count, so the soak is a loop of wrk runs sized from the rate seen so far; it ends within about a second's
 * worth of requests past n.
 */
import type { SoakResult } from "./report.ts";
import type { WrkTarget } from "./options.ts";
import { LogWatch, totalRssKiB } from "./proc.ts";
import { runWrk } from "./wrk.ts";

/** Each wrk run of the soak is at most this long, so RSS is sampled at least this often. */
const CHUNK_MAX_S = 10;
const FIRST_CHUNK_S = 5;

/** Pure: the next wrk run's whole seconds, from the requests still to send and the rate seen so far. */
export function nextChunkSeconds(remaining: number, ratePerS: number | undefined): number {
  if (ratePerS === undefined || ratePerS <= 0) return FIRST_CHUNK_S;
  return Math.max(1, Math.min(CHUNK_MAX_S, Math.ceil(remaining / ratePerS)));
}

export interface SoakRun {
  target: WrkTarget;
  url: string;
  script: string;
  connections: number;
  requests: number;
  workerPids: number[];
  errorLogPath?: string;
  signal: AbortSignal;
  onPid?: (pid: number) => void;
  say: (line: string) => void;
}

export async function runSoak(run: SoakRun): Promise<SoakResult> {
  const log = run.errorLogPath === undefined ? undefined : new LogWatch(run.errorLogPath);
  const rssBeforeKiB = totalRssKiB(run.workerPids);
  let rssMaxKiB = rssBeforeKiB;
  let sent = 0;
  let failures = 0;
  let micros = 0;
  while (sent < run.requests) {
    const durationS = nextChunkSeconds(run.requests - sent, micros > 0 ? (sent * 1e6) / micros : undefined);
    const res = await runWrk({ url: run.url, script: run.script, connections: run.connections, durationS, signal: run.signal, onPid: run.onPid });
    if (res.requests === 0) break;
    sent += res.requests;
    micros += res.durationUs;
    failures += res.errors.status + res.errors.connect + res.errors.read + res.errors.write + res.errors.timeout;
    const rss = totalRssKiB(run.workerPids);
    if (rss !== undefined && (rssMaxKiB === undefined || rss > rssMaxKiB)) rssMaxKiB = rss;
    run.say(`soak: ${sent}/${run.requests} requests, worker RSS ${rss === undefined ? "?" : `${(rss / 1024).toFixed(1)} MiB`}`);
  }
  const lines = log?.take();
  const result: SoakResult = { target: run.target, requests: sent, seconds: micros / 1e6, failures, logLines: lines?.count ?? 0 };
  if (lines !== undefined) result.labOnlyLines = lines.labOnly;
  const rssAfterKiB = totalRssKiB(run.workerPids);
  if (rssBeforeKiB !== undefined) result.rssBeforeKiB = rssBeforeKiB;
  if (rssAfterKiB !== undefined) result.rssAfterKiB = rssAfterKiB;
  if (rssMaxKiB !== undefined) result.rssMaxKiB = rssMaxKiB;
  return result;
}
