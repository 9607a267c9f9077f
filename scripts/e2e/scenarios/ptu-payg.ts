/**
 * ptu-payg-retry and ptu-payg-breaker (toolkit §1.6 retry-with-payg, §1.7 retry-with-payg-v2): a PTU at priority 10
 * with a small token window, pay-as-you-go at priority 0, and a spike. The PAYG backend maps the deployment to the
 * unlimited one (AZURE_OPENAI_DEPLOYMENTS_N), so every refusal the clients could see would be the PTU's.
 *
 * Both: no client sees a 429; every request the PTU did not serve was served by PAYG; and PAYG was only called
 * while the PTU was resting after a 429 (the simulators' request logs: each PAYG arrival lies within a PTU 429's
 * Retry-After, replayed from the PTU's own window). Retry: the PTU admitted exactly what its window allows (--short:
 * an empty window admits floor(TPM / max_tokens) at once). Breaker (acceptRetryAfter): after each 429 the PTU is not
 * called again until its Retry-After has passed, and is called again once it has (when the run lasts that long);
 * the gateway's cooldown gauge says the same.
 */
import { scrape } from "../../lib/prometheus-text.ts";
import type { RecordedRequest } from "../../simulator/index.ts";
import { between, check, equals, skipped } from "../checks.ts";
import type { GatewaySpec } from "../gateway-spec.ts";
import type { Check, LoadKind, Role, Scenario, ScenarioContext, Series } from "../model.ts";
import type { LatencySetting } from "../simulators.ts";
import { burstCapacity, maxOf, replayWindow, round, type ReplayedEntry } from "../stats.ts";
import { chatPath, sleep, type Sent } from "../traffic.ts";
import { chatBody, countWhere, forDeployment, fullLog, loggedCost, loggedStatus, perBackendSeries, prepareSimulators, roleOf, rpsChart, statusSummary } from "./common.ts";
import { UNLIMITED } from "./round-robin.ts";

const ROLES: readonly Role[] = ["ptu1", "payg1"];
/** A PTU request the gateway sent before it had the 429 may reach the PTU just after it: in flight, not a miss. */
export const IN_FLIGHT_GRACE_MS = 250;
/** PAYG arrivals may trail the end of the PTU's rest by the gateway's own scheduling. */
const SPILL_SLACK_MS = 250;
/** Times are whole milliseconds on both sides; a cooldown ending "at" an arrival is not a miss. */
const CLOCK_MS = 50;
/** The gauge is published once a second, into an exposition rebuilt every refresh interval: it may lag by both. */
const GAUGE_PUBLISH_S = 1;
const COOLDOWN_GAUGE = "apisix_spillway_cooldown_remaining_seconds";

interface Stage {
  users: number;
  startMs: number;
  durationMs: number;
}

interface Load {
  deployment: string;
  maxTokens: number;
  stages: Stage[];
  thinkMs: number;
  latency: LatencySetting;
}

/**
 * --long: the toolkit's StagesShape (2 users for 3 min, then 6 users for 3 min, 1 s wait) on its 100k deployment
 * with max_tokens 1000 and 1 ms per token. --short: one 3 s spike of 6 users on a window that admits 5 requests:
 * 10k TPM at 2000 tokens (retry), 20k TPM at 4000 (breaker; its own deployment, so the two never share a window).
 */
const LONG: Load = {
  deployment: "gpt-35-turbo-100k-token",
  maxTokens: 1000,
  stages: [
    { users: 2, startMs: 0, durationMs: 360_000 },
    { users: 4, startMs: 180_000, durationMs: 180_000 },
  ],
  thinkMs: 1000,
  latency: { chat: 1 },
};
const SHORT_SPIKE: Omit<Load, "deployment" | "maxTokens"> = { stages: [{ users: 6, startMs: 0, durationMs: 3000 }], thinkMs: 100, latency: { baseMs: 20 } };
const LOADS: Record<"retry" | "breaker", Record<LoadKind, Load>> = {
  retry: { short: { deployment: "gpt-35-turbo-10k-token", maxTokens: 2000, ...SHORT_SPIKE }, long: LONG },
  breaker: { short: { deployment: "gpt-35-turbo-20k-token", maxTokens: 4000, ...SHORT_SPIKE }, long: LONG },
};

export interface Rest {
  /** When the PTU answered 429 (its log) and when that Retry-After ends. */
  at: number;
  until: number;
}

/** Each PTU 429 as a rest period [at, at + Retry-After]. */
export function restsOf(replayed: readonly ReplayedEntry[]): Rest[] {
  return replayed.filter((e) => !e.admitted).map((e) => ({ at: e.time, until: e.time + (e.retryAfterS ?? 0) * 1000 }));
}

/** PAYG arrivals outside every PTU rest (with slack): the gateway spilled while the PTU had room. */
export function spillsOutsideRests(paygTimes: readonly number[], rests: readonly Rest[]): number[] {
  return paygTimes.filter((t) => !rests.some((r) => t >= r.at - CLOCK_MS && t <= r.until + SPILL_SLACK_MS));
}

/** PTU arrivals inside a rest (after the in-flight grace, before its end): the gateway called a resting backend. */
export function callsDuringRests(ptuTimes: readonly number[], rests: readonly Rest[]): number[] {
  return ptuTimes.filter((t) => rests.some((r) => t > r.at + IN_FLIGHT_GRACE_MS && t < r.until - CLOCK_MS));
}

/**
 * After the first 429 (and those in flight with it), the first PTU call once the longest of their rests ended, and
 * that end; undefined when there was no 429.
 */
export function firstReopen(ptuTimes: readonly number[], rests: readonly Rest[]): { end: number; next?: number } | undefined {
  const first = rests[0];
  if (first === undefined) return undefined;
  const end = maxOf(rests.filter((r) => r.at <= first.at + IN_FLIGHT_GRACE_MS).map((r) => r.until));
  const next = ptuTimes.find((t) => t >= end - CLOCK_MS);
  return next === undefined ? { end } : { end, next };
}

async function drive(ctx: ScenarioContext, load: Load): Promise<Sent[]> {
  const body = chatBody(load.maxTokens);
  const runs = load.stages.map(async (st) => {
    await sleep(st.startMs);
    return ctx.traffic.users({ users: st.users, durationMs: st.durationMs, thinkMs: load.thinkMs, make: () => ({ path: chatPath(load.deployment), body, client: 0 }) });
  });
  return (await Promise.all(runs)).flat();
}

/**
 * The gateway's own view of the PTU's rest: apisix_spillway_cooldown_remaining_seconds, published once a second.
 * Read until a sample for the PTU says it is cooling, or one publish and one refresh have passed; undefined
 * without metrics.
 */
async function cooldownGauge(ctx: ScenarioContext): Promise<{ value: number | undefined; at: number } | undefined> {
  if (ctx.stack.metricsUrl === undefined) return undefined;
  const deadline = Date.now() + (GAUGE_PUBLISH_S + ctx.stack.metricsRefreshS) * 1000 + 500;
  let seen: { value: number | undefined; at: number };
  do {
    const at = Date.now();
    const samples = await scrape(ctx.stack.metricsUrl, 5000);
    seen = { value: samples.find((s) => s.name === COOLDOWN_GAUGE && s.labels.backend === ctx.backend("ptu1"))?.value, at };
    if (seen.value !== undefined && seen.value > 0) break;
    await sleep(250);
  } while (Date.now() < deadline);
  return seen;
}

function breakerChecks(ptuTimes: number[], rests: Rest[], lastSentAt: number, load: Load): Check[] {
  const early = callsDuringRests(ptuTimes, rests);
  const checks = [
    check(
      "after each PTU 429 the PTU is not called until its Retry-After has passed",
      early.length === 0,
      `0 calls within any 429's Retry-After (after ${IN_FLIGHT_GRACE_MS} ms in flight)`,
      `${early.length} of ${ptuTimes.length} PTU calls; ${rests.length} 429s`,
    ),
  ];
  const reopen = firstReopen(ptuTimes, rests);
  const slack = load.thinkMs + 1000;
  if (reopen === undefined) checks.push(check("the PTU answered 429 at least once (the spike exceeded its window)", false, "≥ 1", "0"));
  else if (reopen.next !== undefined) {
    checks.push(check("once the Retry-After passed, the PTU is called again", reopen.next - reopen.end <= slack, `within ${slack} ms of the rest's end`, `${Math.round(reopen.next - reopen.end)} ms after`));
  } else if (lastSentAt < reopen.end + slack) checks.push(skipped("once the Retry-After passed, the PTU is called again", `the run ended before the rest did (Retry-After ${Math.round((reopen.end - rests[0]!.at) / 1000)} s; --long runs past it)`));
  else checks.push(check("once the Retry-After passed, the PTU is called again", false, `within ${slack} ms of the rest's end`, "never"));
  return checks;
}

function ptuPayg(style: "retry" | "breaker"): Scenario {
  return {
    name: `ptu-payg-${style}`,
    title: style === "retry" ? "PTU first, spill to PAYG on 429 (retry style)" : "PTU first, rest it for Retry-After (circuit-breaker style)",
    toolkit: style === "retry" ? "retry-with-payg, §1.6" : "retry-with-payg-v2 (breaker with acceptRetryAfter), §1.7",
    gateway: (load): GatewaySpec => ({
      backends: [
        { role: "ptu1", priority: 10 },
        { role: "payg1", priority: 0, aliases: { [LOADS[style][load].deployment]: UNLIMITED } },
      ],
      clients: 1,
    }),
    async run(ctx) {
      const load = LOADS[style][ctx.load];
      await prepareSimulators(ctx, { ptu1: load.latency, payg1: load.latency });
      const tpm = (await ctx.stack.simulators.ptu1.deployments())[load.deployment];
      if (tpm === undefined) throw new Error(`simulator ptu1 has no deployment ${load.deployment} (it needs the toolkit's deployments)`);
      const t0 = Date.now();
      const sents = await drive(ctx, load);
      const gauge = style === "breaker" ? await cooldownGauge(ctx) : undefined;
      const ptuLog: RecordedRequest[] = forDeployment(await fullLog(ctx, "ptu1"), load.deployment);
      const paygLog = forDeployment(await fullLog(ctx, "payg1"), UNLIMITED);
      const replayed = replayWindow(tpm, ptuLog.map((r) => ({ time: r.time, cost: loggedCost(r), status: loggedStatus(r) })));
      const rests = restsOf(replayed);
      const ptuTimes = ptuLog.map((r) => r.time).sort((a, b) => a - b);
      const ptuOk = countWhere(ptuLog, (r) => r.outcome === 200);
      const paygOk = countWhere(paygLog, (r) => r.outcome === 200);
      const clientOk = countWhere(sents, (s) => s.status === 200 && s.error === undefined);
      const mismatches = replayed.filter((e) => e.admitted !== (e.status === 200)).length;
      const capacity = burstCapacity(tpm, load.maxTokens);
      const spills = spillsOutsideRests(paygLog.filter((r) => r.outcome === 200).map((r) => r.time), rests);
      const byHeader = (r: Role): number => countWhere(sents, (s) => s.status === 200 && s.backend === ctx.backend(r));
      const checks: Check[] = [
        equals("client-visible 429s", countWhere(sents, (s) => s.status === 429), 0),
        equals("other client-visible errors", sents.length - clientOk - countWhere(sents, (s) => s.status === 429), 0),
        check("every request the PTU did not serve was served by PAYG", paygOk === clientOk - ptuOk && byHeader("payg1") === paygOk && byHeader("ptu1") === ptuOk, `PAYG = ${clientOk} − ${ptuOk}, x-gw-backend agreeing`, `PAYG ${paygOk} (x-gw-backend ${byHeader("payg1")}), PTU ${ptuOk} (x-gw-backend ${byHeader("ptu1")})`),
        check("PAYG was only called while the PTU rested after a 429", spills.length === 0, `0 PAYG calls outside a PTU Retry-After (+${SPILL_SLACK_MS} ms)`, `${spills.length} of ${paygOk}`),
      ];
      if (style === "retry") {
        const expected = ctx.load === "short" ? capacity : replayed.filter((e) => e.admitted).length;
        const why = ctx.load === "short" ? `min(floor(${tpm} / ${load.maxTokens}), ceil(${tpm} / 1000))` : "its window replayed over the calls it got";
        checks.push(equals(`PTU admitted exactly what its window allows (${why})`, ptuOk, expected));
      } else {
        checks.push(...breakerChecks(ptuTimes, rests, maxOf(sents.map((s) => s.sentAt)), load));
        if (gauge === undefined) checks.push(skipped("the gateway's cooldown for the PTU lasts to the end of its Retry-After", "no metrics endpoint"));
        else {
          const until = maxOf(rests.map((r) => r.until));
          const expected = Math.max(0, (until - gauge.at) / 1000);
          const lag = GAUGE_PUBLISH_S + ctx.stack.metricsRefreshS;
          checks.push(between(`the gateway's cooldown for the PTU lasts to the end of its Retry-After (${COOLDOWN_GAUGE}, read ${lag} s late at most)`, gauge.value, Math.max(0, round(expected - 1, 1)), round(expected + lag, 1), (x) => `${x.toFixed(1)} s`));
        }
      }
      const label = roleOf(ctx, ROLES);
      const refusals: Series = { name: "ptu1 429s", type: "scatter", data: rests.map((r) => [round((r.at - t0) / 1000), 1]) };
      const firstRest = rests[0];
      return {
        load:
          `${load.stages.map((s) => `${s.users} users from ${s.startMs / 1000} s for ${s.durationMs / 1000} s`).join(", ")}, ${load.thinkMs} ms pause; ` +
          `chat ${load.deployment} max_tokens ${load.maxTokens} (PTU TPM ${tpm}: ${capacity} at once); PAYG maps it to ${UNLIMITED}`,
        table: {
          headers: ["backend", "priority", "calls received", "200", "429", "x-gw-backend"],
          rows: [
            ["ptu1", 10, ptuLog.length, ptuOk, countWhere(ptuLog, (r) => r.outcome === 429), byHeader("ptu1")],
            ["payg1", 0, paygLog.length, paygOk, countWhere(paygLog, (r) => r.outcome === 429), byHeader("payg1")],
          ],
        },
        checks,
        chart: rpsChart("Requests per second by backend (PTU 429s marked)", [...perBackendSeries(sents, t0, label), refusals]),
        notes: [
          `answers: ${statusSummary(sents)}`,
          firstRest !== undefined ? `first PTU 429 at ${round((firstRest.at - t0) / 1000, 2)} s, Retry-After ${Math.round((firstRest.until - firstRest.at) / 1000)} s; ${rests.length} PTU 429s in all` : "the PTU never answered 429",
          ...(mismatches > 0 ? [`the PTU's window replayed over its log differs from its answers for ${mismatches} requests (times are the simulator's; Retry-After figures are approximate)`] : []),
        ],
      };
    },
  };
}

export const ptuPaygRetry = ptuPayg("retry");
export const ptuPaygBreaker = ptuPayg("breaker");
