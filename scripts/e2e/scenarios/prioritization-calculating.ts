/**
 * prioritization-token-calculating (toolkit §1.9): the gateway counts tokens itself and refuses before the backend.
 * In Spillway that is a token budget per client and lane (ENABLE_AI_RATE_LIMIT, AI_RATE_LIMIT_HIGH_LIMIT,
 * AI_RATE_LIMIT_LOW_LIMIT; docs/configuration.md). Two clients each run high and low traffic well over their
 * budgets: each lane's admitted tokens reach its budget and stop there (plus what was already on its way: usage is
 * charged after the answer); refusals are 429 with Retry-After within the window and never reach the backend.
 */
import { between, check, equals } from "../checks.ts";
import type { GatewaySpec } from "../gateway-spec.ts";
import type { Check, LoadKind, Scenario, Series } from "../model.ts";
import { maxOf, round } from "../stats.ts";
import { chatPath, type Lane, type Sent } from "../traffic.ts";
import { at, chatBody, countWhere, prepareSimulators, statusSummary } from "./common.ts";
import { UNLIMITED } from "./round-robin.ts";

const MAX_TOKENS = 50;
const LANES: readonly Lane[] = ["high", "low"];
const CLIENTS = 2;

interface Load {
  budgets: Record<Lane, number>;
  windowS: number;
  durationMs: number;
  usersPerLane: number;
  thinkMs: number;
}

/**
 * --short: budgets of 2000 (high) and 600 (low) tokens, 3 s of 2 users per client and lane (each request is ~62
 * tokens). --long: 5000 / 2000 a minute for 5 minutes (the toolkit's 300 s) at its 1 s wait: ~7.4k tokens a minute
 * offered per lane and client.
 */
const LOADS: Record<LoadKind, Load> = {
  short: { budgets: { high: 2000, low: 600 }, windowS: 60, durationMs: 3000, usersPerLane: 2, thinkMs: 20 },
  long: { budgets: { high: 5000, low: 2000 }, windowS: 60, durationMs: 300_000, usersPerLane: 2, thinkMs: 1000 },
};

/**
 * Admitted tokens of one lane over `durationS`: at least the budget in every whole window, at most the budget plus
 * `overshoot` (requests admitted before earlier usage was charged) in every window the run touched.
 */
export function budgetBounds(budget: number, windowS: number, durationS: number, overshoot: number): [number, number] {
  const whole = Math.max(1, Math.floor(durationS / windowS));
  const touched = durationS <= windowS ? 1 : Math.ceil(durationS / windowS) + 1;
  return [whole * budget, touched * (budget + overshoot)];
}

const ok = (s: Sent): boolean => s.status === 200 && s.error === undefined;

export const prioritizationTokenCalculating: Scenario = {
  name: "prioritization-token-calculating",
  title: "Token budgets per client and lane, refused at the gateway",
  toolkit: "prioritization-token-calculating, §1.9",
  gateway: (load): GatewaySpec => ({
    backends: [{ role: "payg1" }],
    clients: CLIENTS,
    settings: {
      ENABLE_AI_RATE_LIMIT: "true",
      AI_RATE_LIMIT_HIGH_LIMIT: String(LOADS[load].budgets.high),
      AI_RATE_LIMIT_LOW_LIMIT: String(LOADS[load].budgets.low),
      AI_RATE_LIMIT_WINDOW_SECONDS: String(LOADS[load].windowS),
    },
  }),
  async run(ctx) {
    const load = LOADS[ctx.load];
    await prepareSimulators(ctx, { payg1: { baseMs: 10 } });
    const t0 = Date.now();
    const runs: Promise<Sent[]>[] = [];
    for (let client = 0; client < CLIENTS; client++) {
      for (const lane of LANES) {
        runs.push(
          ctx.traffic.users({ users: load.usersPerLane, durationMs: load.durationMs, thinkMs: load.thinkMs, make: () => ({ path: chatPath(UNLIMITED), body: chatBody(MAX_TOKENS), client, lane, tag: lane }) }),
        );
      }
    }
    const sents = (await Promise.all(runs)).flat();
    const stats = await ctx.stack.simulators.payg1.stats();
    const durationS = load.durationMs / 1000;
    const largest = maxOf(sents.map((s) => s.totalTokens ?? 0));
    // Usage is charged in the log phase, after the answer went out: when a lane's budget is crossed, each of its
    // users may have one request admitted and one answered but not yet charged.
    const overshoot = 2 * load.usersPerLane * largest;
    const checks: Check[] = [];
    const rows: (string | number)[][] = [];
    const series: Series[] = [];
    for (const client of ctx.stack.clients.slice(0, CLIENTS)) {
      for (const lane of LANES) {
        const mine = sents.filter((s) => s.client === client.name && s.lane === lane).sort((a, b) => a.sentAt - b.sentAt);
        const admitted = mine.filter(ok).reduce((a, s) => a + (s.totalTokens ?? 0), 0);
        const [lo, hi] = budgetBounds(load.budgets[lane], load.windowS, durationS, overshoot);
        checks.push(between(`${client.name} ${lane}: admitted tokens (budget ${load.budgets[lane]} per ${load.windowS} s)`, admitted, lo, hi));
        rows.push([client.name, lane, load.budgets[lane], mine.length, countWhere(mine, ok), countWhere(mine, (s) => s.status === 429), admitted, `${lo} … ${hi}`]);
        let sum = 0;
        series.push({ name: `${client.name} ${lane}`, type: "line", data: mine.filter(ok).map((s) => [round(at(s, t0)), (sum += s.totalTokens ?? 0)]) });
      }
    }
    const refused = sents.filter((s) => !ok(s));
    const wellFormed = (s: Sent): boolean => {
      const retry = Number(s.headers["retry-after"]);
      return s.status === 429 && Number.isInteger(retry) && retry >= 1 && retry <= load.windowS && s.headers["x-gw-ratelimit-reason"] === "client-token-budget";
    };
    const received = stats.total;
    checks.push(
      check("every refusal is a 429 with Retry-After (1 s … window) and x-gw-ratelimit-reason client-token-budget", refused.length > 0 && refused.every(wellFormed), `all of the refusals (and some)`, `${countWhere(refused, wellFormed)} of ${refused.length}`),
      equals("requests the backend received = requests admitted (refusals never reach it)", received, countWhere(sents, ok)),
    );
    return {
      load: `${CLIENTS} clients × (high, low) × ${load.usersPerLane} users, ${durationS} s, ${load.thinkMs} ms pause; chat ${UNLIMITED} max_tokens ${MAX_TOKENS}; one PAYG backend`,
      table: { headers: ["client", "lane", "budget", "sent", "200", "429", "admitted tokens", "allowed"], rows },
      checks,
      chart: { title: "Admitted tokens by client and lane (cumulative)", xName: "s", yName: "tokens", series },
      notes: [`answers: ${statusSummary(sents)}`, `overshoot allowance: 2 × ${load.usersPerLane} users × ${largest} tokens (admitted, or answered but not yet charged)`],
    };
  },
};
