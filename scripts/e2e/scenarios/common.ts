/**
 * What several scenarios share: the toolkit's request bodies, simulator set-up (latency, empty windows and logs),
 * grouping answers, and the charts' usual series.
 */
import type { RecordedRequest } from "../../simulator/index.ts";
import type { ChartSpec, Role, ScenarioContext, Series } from "../model.ts";
import type { LatencySetting } from "../simulators.ts";
import { binFor, countSeries, meanSeries } from "../stats.ts";
import type { Sent } from "../traffic.ts";

/** The toolkit's completions body (aoai-simulator.md §1.2): its `model` is ignored by Azure and the simulator. */
export function completionsBody(maxTokens: number): Record<string, unknown> {
  return { model: "gpt-5-turbo-1", prompt: "Once upon a time", max_tokens: maxTokens };
}

export function chatBody(maxTokens: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: "gpt-35-turbo", messages: [{ role: "user", content: "Lorem ipsum dolor sit amet?" }], max_tokens: maxTokens, ...extra };
}

/** Latency set on each role, then stats, request log and windows emptied, so the scenario's figures are its own. */
export async function prepareSimulators(ctx: ScenarioContext, latency: Partial<Record<Role, LatencySetting>>): Promise<void> {
  await Promise.all(
    Object.entries(latency).map(async ([role, l]) => {
      const sim = ctx.stack.simulators[role as Role];
      await sim.setLatency(l);
      await sim.reset();
    }),
  );
}

export function countWhere<T>(items: readonly T[], pred: (x: T) => boolean): number {
  let n = 0;
  for (const x of items) if (pred(x)) n++;
  return n;
}

/** "200×40 429×2" */
export function statusSummary(sents: readonly Sent[]): string {
  const m = new Map<string, number>();
  for (const s of sents) {
    const key = s.error !== undefined && s.status === 0 ? s.error : String(s.status);
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(" ") || "none";
}

/** Answers that are not a 200 with a body, or that ended in a transport error. */
export function errorsIn(sents: readonly Sent[]): Sent[] {
  return sents.filter((s) => s.status !== 200 || s.error !== undefined);
}

/** Seconds since `t0` (epoch ms) at which a request was sent. */
export const at = (s: Sent, t0: number): number => (s.sentAt - t0) / 1000;

/** The chart bin for these answers' time span (stats.ts binFor). */
export function binOf(sents: readonly Sent[], t0: number): number {
  let last = 0;
  for (const s of sents) last = Math.max(last, at(s, t0));
  return binFor(last);
}

/** Requests per second by backend over the scenario. */
export function perBackendSeries(sents: readonly Sent[], t0: number, label: (backend: string) => string, binS = binOf(sents, t0)): Series[] {
  const groups = new Map<string, number[]>();
  for (const s of sents) {
    if (s.backend === undefined || s.status !== 200) continue;
    const key = label(s.backend);
    const list = groups.get(key) ?? [];
    list.push(at(s, t0));
    groups.set(key, list);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, times]) => ({ name, type: "line", data: countSeries(times, binS) }));
}

/** Mean latency (ms) by backend over the scenario: points, not lines, since a backend without traffic has no bins. */
export function latencyByBackendSeries(sents: readonly Sent[], t0: number, label: (backend: string) => string, binS = binOf(sents, t0)): Series[] {
  const groups = new Map<string, [number, number][]>();
  for (const s of sents) {
    if (s.backend === undefined || s.status !== 200) continue;
    const key = label(s.backend);
    const list = groups.get(key) ?? [];
    list.push([at(s, t0), s.totalMs]);
    groups.set(key, list);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, points]) => ({ name: `${name} latency`, type: "scatter", data: meanSeries(points, binS), yAxis: 1 }));
}

export function rpsChart(title: string, series: Series[], extra: Partial<ChartSpec> = {}): ChartSpec {
  return { title, xName: "s", yName: "requests/s", series, ...extra };
}

/** The role a backend name the gateway reports stands for (`payg1-3` → payg1), or the name itself. */
export function roleOf(ctx: ScenarioContext, roles: readonly Role[]): (backend: string) => string {
  const names = new Map(roles.map((r) => [ctx.backend(r), r as string]));
  return (backend) => names.get(backend) ?? backend;
}

/** max_tokens of a request the simulator logged (what its window charged), else 16 (its default cost). */
export function loggedCost(r: RecordedRequest): number {
  const body = r.body as { max_tokens?: unknown } | undefined;
  return typeof body?.max_tokens === "number" && body.max_tokens > 0 ? body.max_tokens : 16;
}

export function loggedStatus(r: RecordedRequest): number | undefined {
  return typeof r.outcome === "number" ? r.outcome : undefined;
}

/**
 * Every request a simulator received since the scenario reset it; an error when its log kept fewer (a deployed
 * simulator keeps 200 unless started with a larger `requestLogSize`).
 */
export async function fullLog(ctx: ScenarioContext, role: Role): Promise<RecordedRequest[]> {
  const sim = ctx.stack.simulators[role];
  const [log, stats] = await Promise.all([sim.requests(), sim.stats()]);
  if (log.length < stats.total) {
    throw new Error(`simulator ${role} kept ${log.length} of the ${stats.total} requests it received: start it with a larger requestLogSize (docs/e2e.md)`);
  }
  return log;
}

/** Requests the simulator logged for one deployment (the path's). */
export function forDeployment(log: readonly RecordedRequest[], deployment: string): RecordedRequest[] {
  return log.filter((r) => r.path.includes(`/deployments/${deployment}/`));
}

export function fmtMs(x: number | undefined): string {
  return x === undefined ? "–" : `${Math.round(x)} ms`;
}
