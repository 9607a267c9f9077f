/**
 * Per gateway row, over a whole run: the workers' RSS after warm-up and after the rounds, and the warn-or-worse
 * error-log lines written while that row was measured (each row is its own gateway, so its log is its own).
 */
import { targetOf, type Fleet } from "./fleet.ts";
import { gatewayTargets, type BenchPlan, type WrkTarget } from "./options.ts";
import { LogWatch, totalRssKiB } from "./proc.ts";
import type { BenchResults, GatewayHealth } from "./report.ts";

export interface Watched {
  log?: LogWatch;
  health: GatewayHealth;
  /** The first warn-or-worse line it logged while measured, for the notes. */
  sample?: string;
}

/** Memory after warm-up and an error-log watch, per gateway row. */
export function watchGateways(plan: BenchPlan, fleet: Fleet): Partial<Record<WrkTarget, Watched>> {
  const watched: Partial<Record<WrkTarget, Watched>> = {};
  for (const name of gatewayTargets(plan)) {
    const t = targetOf(fleet, name);
    const health: GatewayHealth = { logLines: 0, requests: 0 };
    const rss = t.workerPids === undefined ? undefined : totalRssKiB(t.workerPids);
    if (rss !== undefined) health.rssAfterWarmupKiB = rss;
    watched[name] = { health, ...(t.errorLogPath !== undefined ? { log: new LogWatch(t.errorLogPath) } : {}) };
  }
  return watched;
}

/** Runs one measurement of a row between a mark and a take of its error log (rows without a watch: just runs it). */
export async function watching<T>(w: Watched | undefined, requestsOf: (r: T) => number, measure: () => Promise<T>): Promise<T> {
  w?.log?.mark();
  const r = await measure();
  if (w !== undefined) {
    const lines = w.log?.take();
    w.health.logLines += lines?.count ?? 0;
    if (lines !== undefined) w.health.labOnlyLines = (w.health.labOnlyLines ?? 0) + lines.labOnly;
    w.health.requests += requestsOf(r);
    w.sample ??= lines?.samples[0];
  }
  return r;
}

/** RSS after the rounds; a note per row that logged, and one about the lab-only lines. */
export function closeWatches(watched: Partial<Record<WrkTarget, Watched>>, fleet: Fleet, notes: string[]): BenchResults["health"] {
  const health: BenchResults["health"] = {};
  for (const [name, w] of Object.entries(watched) as [WrkTarget, Watched][]) {
    const pids = targetOf(fleet, name).workerPids;
    const rss = pids === undefined ? undefined : totalRssKiB(pids);
    if (rss !== undefined) w.health.rssAfterRunKiB = rss;
    health[name] = w.health;
    if (w.health.logLines > 0) notes.push(`"${name}" logged ${w.health.logLines} warn-or-worse lines while measured; the first: ${(w.sample ?? "").slice(0, 300)}`);
  }
  if (Object.values(health).some((h) => (h?.labOnlyLines ?? 0) > 0)) {
    notes.push(
      "lab-only lines: `ngx.sleep(0) called without delayed events patch`. Debian's ngx_lua (the apisix-lab's, the stand-in's) " +
        "lacks OpenResty's delayed-events patch, so every ngx.sleep(0) logs this; the AI transport yields once per streamed chunk " +
        "(3.18's ai-providers/base.lua), lua-resty-prometheus now and then. The official runtime logs none of them",
    );
  }
  return health;
}
