/**
 * latency-routing (toolkit §1.5): a prober outside the gateway measures each PAYG backend directly and posts the
 * order, fastest first, to `POST /helpers/set-preferred-backends` (header api-key: a client key; 401 without one;
 * 200 {"message": "preferred backends are set successfully"}). Then ≥ 95 % of the traffic goes to the first one.
 * The latencies are flipped, re-measured and re-posted, and the traffic moves: ≥ 95 % on the new first. Between the
 * flip and the new order the traffic stays where it was and its latency rises (the toolkit's stale window), which
 * the chart shows. Each worker reads a new order within a second, so each window is counted from a second after
 * its post.
 */
import { check, equals, pct } from "../checks.ts";
import type { GatewaySpec } from "../gateway-spec.ts";
import { exchange } from "../http-client.ts";
import type { Check, LoadKind, Role, Scenario, ScenarioContext } from "../model.ts";
import { median, round } from "../stats.ts";
import { completionsPath, sleep, type Sent } from "../traffic.ts";
import { completionsBody, countWhere, fmtMs, latencyByBackendSeries, perBackendSeries, prepareSimulators, roleOf, statusSummary } from "./common.ts";
import { UNLIMITED } from "./round-robin.ts";

const ROLES: readonly Role[] = ["payg1", "payg2"];
export const HELPER_PATH = "/helpers/set-preferred-backends";
const HELPER_OK = "preferred backends are set successfully";
/** The toolkit measures on its 100k deployment (its traffic uses 100m), with max_tokens 10. */
const MEASURE_DEPLOYMENT = "gpt-35-turbo-100k-token";
const MAX_TOKENS = 10;
const MIN_SHARE = 0.95;
/** Spillway's workers read the stored order at most once a second (plugins/spillway-failover/preference.ts). */
const SETTLE_MS = 1200;
/** One call per backend, as the toolkit measures. */
const MEASURE_SAMPLES = 1;

interface Load {
  /** ms per completion token: fast and slow. */
  fastMs: number;
  slowMs: number;
  users: number;
  thinkMs: number;
  /** Coordinator: measure-and-post times, and when the latencies flip (ms from the start). */
  posts: number[];
  flipAt: number;
  endAt: number;
}

/**
 * --long: the toolkit's timeline (post at 0, 60, 120 s — flip right after — 180, 240 s; end at 300 s), its one user
 * with 1 s wait, latencies 10 and 100 ms per token. --short: post at 0, flip at 2.5 s, post at 3 s, end at 5.5 s; two
 * users without pause; 2 and 30 ms per token.
 */
const LOADS: Record<LoadKind, Load> = {
  short: { fastMs: 2, slowMs: 30, users: 2, thinkMs: 0, posts: [0, 3000], flipAt: 2500, endAt: 5500 },
  long: { fastMs: 10, slowMs: 100, users: 1, thinkMs: 1000, posts: [0, 60_000, 120_000, 180_000, 240_000], flipAt: 120_000, endAt: 300_000 },
};

interface Posted {
  at: number;
  order: string[];
  status: number;
  body: string;
  measured: Record<string, number>;
}

/** Direct completions calls to each backend (the median), the toolkit's measure step. */
async function measure(ctx: ScenarioContext): Promise<Record<Role, number>> {
  const out = {} as Record<Role, number>;
  for (const role of ROLES) {
    const sim = ctx.stack.simulators[role];
    const samples: number[] = [];
    for (let i = 0; i < MEASURE_SAMPLES; i++) {
      const r = await exchange({
        url: `${sim.url}/openai/deployments/${MEASURE_DEPLOYMENT}/completions?api-version=2023-05-15`,
        headers: { "content-type": "application/json", "api-key": sim.key },
        body: JSON.stringify(completionsBody(MAX_TOKENS)),
        deadlineMs: 30_000,
      });
      samples.push(r.status === 200 ? r.totalMs : Infinity);
    }
    out[role] = median(samples) ?? Infinity;
  }
  return out;
}

async function post(ctx: ScenarioContext, order: string[], key: string | undefined): Promise<{ status: number; body: string }> {
  const r = await exchange({
    url: `${ctx.stack.gatewayUrl}${HELPER_PATH}`,
    headers: { "content-type": "application/json", ...(key !== undefined ? { "api-key": key } : {}) },
    body: JSON.stringify({ preferredBackends: order }),
    deadlineMs: 10_000,
  });
  return { status: r.status, body: r.body };
}

async function setLatencies(ctx: ScenarioContext, fast: Role, load: Load): Promise<void> {
  for (const role of ROLES) await ctx.stack.simulators[role].setLatency({ completions: role === fast ? load.fastMs : load.slowMs });
}

/** The share of the traffic sent in [from, to) that the expected backend answered. */
export function windowShare(sents: readonly Sent[], from: number, to: number, expected: string): { n: number; share: number | undefined } {
  const mine = sents.filter((s) => s.sentAt >= from && s.sentAt < to && s.status === 200);
  return { n: mine.length, share: mine.length > 0 ? countWhere(mine, (s) => s.backend === expected) / mine.length : undefined };
}

export const latencyRouting: Scenario = {
  name: "latency-routing",
  title: "Latency routing: an outside prober sets the preferred order",
  toolkit: "latency-routing + /helpers/set-preferred-backends, §1.5",
  gateway: (): GatewaySpec => ({ backends: ROLES.map((role) => ({ role, priority: 1, weight: 1 })), clients: 1 }),
  async run(ctx) {
    const load = LOADS[ctx.load];
    await prepareSimulators(ctx, { payg1: { completions: load.fastMs }, payg2: { completions: load.slowMs } });
    const key = ctx.stack.clients[0]!.key;
    const unauthorized = await post(ctx, [ctx.backend("payg1"), ctx.backend("payg2")], undefined);
    const t0 = Date.now();
    const posted: Posted[] = [];
    let flippedAt: number | undefined;
    let done = false;
    const traffic = ctx.traffic.users({
      users: load.users,
      thinkMs: load.thinkMs,
      stop: () => done,
      make: () => ({ path: completionsPath(UNLIMITED), body: completionsBody(MAX_TOKENS), client: 0 }),
    });
    const coordinator = async (): Promise<void> => {
      const events = [...load.posts.map((t) => ({ t, kind: "post" as const })), { t: load.flipAt, kind: "flip" as const }].sort((a, b) => a.t - b.t || (a.kind === "post" ? -1 : 1));
      for (const e of events) {
        await sleep(Math.max(0, t0 + e.t - Date.now()));
        if (e.kind === "flip") {
          await setLatencies(ctx, "payg2", load);
          flippedAt = Date.now();
          continue;
        }
        const measured = await measure(ctx);
        const order = [...ROLES].sort((a, b) => measured[a] - measured[b]).map((r) => ctx.backend(r));
        const at = Date.now();
        const r = await post(ctx, order, key);
        posted.push({ at, order, ...r, measured: Object.fromEntries(ROLES.map((r) => [r, round(measured[r], 1)])) });
        ctx.say(`e2e: latency-routing: measured ${ROLES.map((r) => `${r} ${fmtMs(measured[r])}`).join(", ")}; posted [${order.join(", ")}] → ${r.status}`);
      }
      await sleep(Math.max(0, t0 + load.endAt - Date.now()));
      done = true;
    };
    const [sents] = await Promise.all([traffic, coordinator()]);
    const label = roleOf(ctx, ROLES);
    const checks: Check[] = [
      equals(`POST ${HELPER_PATH} without a client key → 401`, unauthorized.status, 401),
      check(`POST ${HELPER_PATH} with a client key → 200 and the toolkit's message`, posted.length > 0 && posted.every((p) => p.status === 200 && p.body.includes(HELPER_OK)), `200 {"message": "${HELPER_OK}"}`, posted.map((p) => `${p.status} ${p.body.slice(0, 80)}`).join("; ") || "no post"),
      equals("client-visible errors", countWhere(sents, (s) => s.status !== 200 || s.error !== undefined), 0),
    ];
    const rows: (string | number)[][] = [];
    posted.forEach((p, i) => {
      const from = p.at + SETTLE_MS;
      const next = Math.min(posted[i + 1]?.at ?? Infinity, flippedAt !== undefined && flippedAt > p.at ? flippedAt : Infinity, t0 + load.endAt);
      const expectedRole = label(p.order[0]!);
      const fastRole = p.at < (flippedAt ?? Infinity) ? "payg1" : "payg2";
      checks.push(check(`post ${i + 1}: measured order puts the fast backend (${fastRole}) first`, expectedRole === fastRole, fastRole, `${expectedRole} (${Object.entries(p.measured).map(([r, v]) => `${r} ${v} ms`).join(", ")})`));
      const w = windowShare(sents, from, next, p.order[0]!);
      if (next > from) checks.push(check(`post ${i + 1}: share of traffic on ${expectedRole} from ${round((from - t0) / 1000, 1)} s to ${round((next - t0) / 1000, 1)} s`, w.share !== undefined && w.share >= MIN_SHARE, `≥ ${pct(MIN_SHARE)}`, w.share === undefined ? "no requests" : `${pct(w.share)} of ${w.n}`));
      rows.push([i + 1, round((p.at - t0) / 1000, 1), Object.entries(p.measured).map(([r, v]) => `${r} ${v} ms`).join(", "), p.order.map(label).join(" > "), p.status, w.n, w.share === undefined ? "–" : pct(w.share)]);
    });
    return {
      load: `${load.users} user(s), ${load.thinkMs} ms pause, ${load.endAt / 1000} s; completions ${UNLIMITED} max_tokens ${MAX_TOKENS}; ${load.fastMs} vs ${load.slowMs} ms per token, flipped at ${load.flipAt / 1000} s; posts at ${load.posts.map((t) => t / 1000).join(", ")} s`,
      table: { headers: ["post", "at (s)", "measured directly", "order posted", "status", "requests after it", "on the first"], rows },
      checks,
      chart: {
        title: "Requests per second and latency by backend",
        xName: "s",
        yName: "requests/s",
        y2Name: "ms",
        series: [...perBackendSeries(sents, t0, label), ...latencyByBackendSeries(sents, t0, label)],
      },
      notes: [`answers: ${statusSummary(sents)}`, ...(flippedAt !== undefined ? [`latencies flipped at ${round((flippedAt - t0) / 1000, 1)} s`] : [])],
    };
  },
};
