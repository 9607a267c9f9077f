/**
 * round-robin-simple and round-robin-weighted (toolkit §1.2–1.4): two pay-as-you-go backends in one priority tier,
 * weights 1:1 or 2:1. Each backend's share of the requests (the simulators' own counts) must be its weight's share
 * within three binomial standard deviations plus one request per nginx worker; no client sees an error; the
 * gateway's x-gw-backend agrees with the simulators.
 */
import { check, equals, near, pct } from "../checks.ts";
import type { GatewaySpec } from "../gateway-spec.ts";
import type { LoadKind, Role, Scenario } from "../model.ts";
import { shareBound } from "../stats.ts";
import { completionsPath } from "../traffic.ts";
import { completionsBody, countWhere, errorsIn, perBackendSeries, prepareSimulators, roleOf, rpsChart, statusSummary } from "./common.ts";

/** The toolkit's traffic deployment: 100M tokens per minute, never throttled. */
export const UNLIMITED = "gpt-35-turbo-100m-token";
const MAX_TOKENS = 10;
const ROLES: readonly Role[] = ["payg1", "payg2"];

interface Load {
  users: number;
  durationMs: number;
  thinkMs: number;
}

/** --long: the toolkit's 2 (simple) or 3 (weighted) users for 3 minutes with a 1 s wait; --short: 3 s, busier. */
const LOADS: Record<"simple" | "weighted", Record<LoadKind, Load>> = {
  simple: { short: { users: 4, durationMs: 3000, thinkMs: 10 }, long: { users: 2, durationMs: 180_000, thinkMs: 1000 } },
  weighted: { short: { users: 3, durationMs: 3000, thinkMs: 10 }, long: { users: 3, durationMs: 180_000, thinkMs: 1000 } },
};

function roundRobin(kind: "simple" | "weighted"): Scenario {
  const weights: Record<string, number> = kind === "simple" ? { payg1: 1, payg2: 1 } : { payg1: 2, payg2: 1 };
  const total = weights.payg1! + weights.payg2!;
  return {
    name: `round-robin-${kind}`,
    title: kind === "simple" ? "Round-robin, equal weights" : "Round-robin, weights 2:1",
    toolkit: kind === "simple" ? "round-robin-simple(-v2), §1.2–1.3" : "round-robin-weighted(-v2), §1.4",
    gateway: (): GatewaySpec => ({ backends: ROLES.map((role) => ({ role, priority: 1, weight: weights[role] })), clients: 1 }),
    async run(ctx) {
      const load = LOADS[kind][ctx.load];
      // The toolkit's 10 ms per completion (its v0.5 simulator's per-request completions latency).
      await prepareSimulators(ctx, { payg1: { baseMs: 10 }, payg2: { baseMs: 10 } });
      const t0 = Date.now();
      const sents = await ctx.traffic.users({
        users: load.users,
        durationMs: load.durationMs,
        thinkMs: load.thinkMs,
        make: () => ({ path: completionsPath(UNLIMITED), body: completionsBody(MAX_TOKENS), client: 0 }),
      });
      const stats = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await ctx.stack.simulators[r].stats()] as const)));
      const served = (r: Role): number => stats[r]!.byStatus["200"] ?? 0;
      const n = served("payg1") + served("payg2");
      const p = weights.payg1! / total;
      const bound = shareBound(p, n, ctx.stack.workers);
      const share = n > 0 ? served("payg1") / n : undefined;
      const byHeader = (r: Role): number => countWhere(sents, (s) => s.status === 200 && s.backend === ctx.backend(r));
      const label = roleOf(ctx, ROLES);
      return {
        load: `${load.users} users, ${load.durationMs / 1000} s, ${load.thinkMs} ms pause; completions ${UNLIMITED} max_tokens ${MAX_TOKENS}; simulators 10 ms each; ${ctx.stack.workers} gateway workers`,
        table: {
          headers: ["backend", "weight", "requests (simulator)", "requests (x-gw-backend)", "share", "expected share"],
          rows: ROLES.map((r) => [r, weights[r]!, served(r), byHeader(r), n > 0 ? pct(served(r) / n) : "–", pct(weights[r]! / total)]),
        },
        checks: [
          equals("client-visible errors", errorsIn(sents).length, 0),
          near(`payg1 share of ${n} requests (±3σ + ${ctx.stack.workers} workers/n)`, share, p, bound, pct),
          check("x-gw-backend agrees with the simulators' counts", ROLES.every((r) => byHeader(r) === served(r)), "equal per backend", ROLES.map((r) => `${r} ${byHeader(r)}/${served(r)}`).join(", ")),
        ],
        chart: rpsChart("Requests per second by backend", perBackendSeries(sents, t0, label)),
        notes: [`answers: ${statusSummary(sents)}`],
      };
    },
  };
}

export const roundRobinSimple = roundRobin("simple");
export const roundRobinWeighted = roundRobin("weighted");
