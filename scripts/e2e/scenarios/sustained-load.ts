/**
 * sustained-load (the accelerator's `scalability` run: the round-robin route under many users, §1.11): N users for
 * T seconds over two PAYG backends. No errors at all; p99 latency under a stated bound; and (local gateway) exactly
 * one access-log line per request, matched by x-chaos-id once the gateway has stopped and flushed its log.
 */
import { atMost, check, equals, ms, skipped } from "../checks.ts";
import type { GatewaySpec } from "../gateway-spec.ts";
import type { GatewayLogs, LoadKind, Scenario } from "../model.ts";
import { countSeries, maxOf, meanSeries, percentile } from "../stats.ts";
import { completionsPath, type Sent } from "../traffic.ts";
import { at, binOf, completionsBody, errorsIn, fmtMs, prepareSimulators, statusSummary } from "./common.ts";
import { UNLIMITED } from "./round-robin.ts";

interface Load {
  users: number;
  durationMs: number;
  thinkMs: number;
  /** p99 bound: the simulators answer in 10 ms; the rest is the gateway and a machine shared with the load. */
  p99Ms: number;
}

/** --long: the accelerator's 180 users for 15 minutes at the toolkit's 1 s wait; --short: 20 users for 5 s. */
const LOADS: Record<LoadKind, Load> = {
  short: { users: 20, durationMs: 5000, thinkMs: 50, p99Ms: 1000 },
  long: { users: 180, durationMs: 900_000, thinkMs: 1000, p99Ms: 2000 },
};

/** Requests (by id) missing from the access log, and ids logged more than once. */
export function ledgerOf(ids: readonly number[], linesById: ReadonlyMap<number, number>): { missing: number; repeated: number; lines: number } {
  let missing = 0;
  let repeated = 0;
  let lines = 0;
  for (const id of ids) {
    const n = linesById.get(id) ?? 0;
    lines += n;
    if (n === 0) missing++;
    if (n > 1) repeated++;
  }
  return { missing, repeated, lines };
}

export const sustainedLoad: Scenario = {
  name: "sustained-load",
  title: "Sustained load: no errors, bounded p99, one log line per request",
  toolkit: "scalability (accelerator), §1.11",
  gateway: (): GatewaySpec => ({ backends: [{ role: "payg1", priority: 1 }, { role: "payg2", priority: 1 }], clients: 1 }),
  async run(ctx) {
    const load = LOADS[ctx.load];
    await prepareSimulators(ctx, { payg1: { baseMs: 10 }, payg2: { baseMs: 10 } });
    const t0 = Date.now();
    const sents = await ctx.traffic.users({ users: load.users, durationMs: load.durationMs, thinkMs: load.thinkMs, make: () => ({ path: completionsPath(UNLIMITED), body: completionsBody(10), client: 0 }) });
    const tookS = (Date.now() - t0) / 1000;
    const latencies = sents.map((s) => s.totalMs);
    const ids = sents.map((s) => s.id);
    const p99 = percentile(latencies, 99);
    return {
      load: `${load.users} users, ${load.durationMs / 1000} s, ${load.thinkMs} ms pause; completions ${UNLIMITED} max_tokens 10; two PAYG backends at 10 ms`,
      table: {
        headers: ["users", "requests", "requests/s", "errors", "p50", "p95", "p99", "max"],
        rows: [[load.users, sents.length, (sents.length / tookS).toFixed(1), errorsIn(sents).length, fmtMs(percentile(latencies, 50)), fmtMs(percentile(latencies, 95)), fmtMs(p99), fmtMs(maxOf(latencies))]],
      },
      checks: [equals("errors (any status but 200, or a transport error)", errorsIn(sents).length, 0), atMost("p99 latency", p99, load.p99Ms, ms)],
      afterStop: (logs: GatewayLogs | undefined) => {
        if (logs === undefined) return [skipped("access-log lines = requests", "a deployed gateway's access log is not readable from here")];
        const l = ledgerOf(ids, logs.linesById);
        return [check("access-log lines = requests (each x-chaos-id exactly once)", l.missing === 0 && l.repeated === 0, `${ids.length} lines, one per request`, `${l.lines} lines; ${l.missing} requests missing, ${l.repeated} logged twice`)];
      },
      chart: {
        title: "Requests per second and latency",
        xName: "s",
        yName: "requests/s",
        y2Name: "ms",
        series: [
          { name: "requests/s", type: "line", data: countSeries(sents.map((s) => at(s, t0)), binOf(sents, t0)) },
          { name: "mean latency", type: "line", yAxis: 1, data: meanSeries(sents.map((s: Sent) => [at(s, t0), s.totalMs] as const), binOf(sents, t0)) },
        ],
      },
      notes: [`answers: ${statusSummary(sents)}`],
    };
  },
};
