/**
 * usage-tracking (toolkit §1.10): three clients, each request from a random one with a random max_tokens in [5, 20].
 * The tokens the gateway reports per client (its Prometheus counter apisix_spillway_tokens_total, prompt +
 * completion, summed over routes, lanes and backends; the increase over the scenario) must equal exactly the usage
 * the clients saw in their responses.
 */
import { byLabel, increase, scrape, type Sample } from "../../lib/prometheus-text.ts";
import { check, equals, skipped } from "../checks.ts";
import type { GatewaySpec } from "../gateway-spec.ts";
import type { Check, LoadKind, Scenario } from "../model.ts";
import { completionsPath, sleep, type Sent } from "../traffic.ts";
import { completionsBody, errorsIn, prepareSimulators, statusSummary } from "./common.ts";
import { UNLIMITED } from "./round-robin.ts";

export const TOKENS_METRIC = "apisix_spillway_tokens_total";
const CLIENTS = 3;
const MIN_TOKENS = 5;
const MAX_TOKENS = 20;
/** Tokens are counted in the log phase, after the answer went out, and exported at the next refresh: wait for both. */
const SETTLE_SLACK_MS = 3000;
const BASELINE_TRIES = 5;

interface Load {
  users: number;
  durationMs: number;
  thinkMs: number;
}

/** --long: the toolkit's 3 users for 3 minutes with a 1 s wait; --short: 3 s, busier. */
const LOADS: Record<LoadKind, Load> = {
  short: { users: 3, durationMs: 3000, thinkMs: 10 },
  long: { users: 3, durationMs: 180_000, thinkMs: 1000 },
};

/** The usage the clients saw, per client name. */
export function usageByClient(sents: readonly Sent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of sents) if (s.status === 200 && s.totalTokens !== undefined) out.set(s.client, (out.get(s.client) ?? 0) + s.totalTokens);
  return out;
}

/** The gateway's per-client token increase between two scrapes. */
export function metricByClient(before: readonly Sample[], after: readonly Sample[], clients: readonly string[]): Map<string, number> {
  return new Map(clients.map((c) => [c, increase(before, after, TOKENS_METRIC, { client: c }) ?? 0]));
}

/**
 * A baseline that already holds every token of the traffic before this scenario: scrapes one refresh apart until
 * the clients' counts stop moving (the exposition lags the counters by up to a refresh interval).
 */
async function settledScrape(url: string, clients: readonly string[], refreshS: number): Promise<Sample[]> {
  let last = await scrape(url, 5000);
  for (let i = 0; i < BASELINE_TRIES; i++) {
    await sleep(refreshS * 1000 + 100);
    const next = await scrape(url, 5000);
    if (clients.every((c) => (increase(last, next, TOKENS_METRIC, { client: c }) ?? 0) === 0)) return next;
    last = next;
  }
  return last;
}

export const usageTracking: Scenario = {
  name: "usage-tracking",
  title: "Tokens per client: gateway metric = responses' usage",
  toolkit: "usage-tracking, §1.10",
  gateway: (): GatewaySpec => ({ backends: [{ role: "payg1" }], clients: CLIENTS }),
  async run(ctx) {
    const load = LOADS[ctx.load];
    const metricsUrl = ctx.stack.metricsUrl;
    await prepareSimulators(ctx, { payg1: { baseMs: 10 } });
    const names = ctx.stack.clients.slice(0, CLIENTS).map((c) => c.name);
    const before = metricsUrl !== undefined ? await settledScrape(metricsUrl, names, ctx.stack.metricsRefreshS) : undefined;
    const t0 = Date.now();
    const sents = await ctx.traffic.users({
      users: load.users,
      durationMs: load.durationMs,
      thinkMs: load.thinkMs,
      make: () => ({
        path: completionsPath(UNLIMITED),
        body: completionsBody(MIN_TOKENS + Math.floor(Math.random() * (MAX_TOKENS - MIN_TOKENS + 1))),
        client: Math.floor(Math.random() * CLIENTS),
      }),
    });
    const tookS = (Date.now() - t0) / 1000;
    const seen = usageByClient(sents);
    let reported: Map<string, number> | undefined;
    if (before !== undefined && metricsUrl !== undefined) {
      const deadline = Date.now() + ctx.stack.metricsRefreshS * 1000 + SETTLE_SLACK_MS;
      do {
        reported = metricByClient(before, await scrape(metricsUrl, 5000), names);
        if (names.every((c) => reported!.get(c) === (seen.get(c) ?? 0))) break;
        await sleep(200);
      } while (Date.now() < deadline);
    }
    const checks: Check[] = [equals("client-visible errors", errorsIn(sents).length, 0)];
    for (const c of names) {
      const name = `${c}: gateway's ${TOKENS_METRIC} = Σ usage.total_tokens of its responses`;
      if (reported === undefined) checks.push(skipped(name, "no metrics endpoint (pass --metrics-url)"));
      else checks.push(equals(name, reported.get(c) ?? 0, seen.get(c) ?? 0));
    }
    checks.push(check("every client sent traffic", names.every((c) => sents.some((s) => s.client === c)), `${CLIENTS} clients`, `${new Set(sents.map((s) => s.client)).size}`));
    const byLabelNote = reported === undefined && before !== undefined ? [`tokens by client before: ${JSON.stringify(Object.fromEntries(byLabel(before, TOKENS_METRIC, "client")))}`] : [];
    return {
      load: `${load.users} users, ${load.durationMs / 1000} s, ${load.thinkMs} ms pause; each request from a random client of ${CLIENTS}, completions ${UNLIMITED} max_tokens ${MIN_TOKENS}–${MAX_TOKENS}`,
      table: {
        headers: ["client", "requests", "Σ usage (responses)", `Σ ${TOKENS_METRIC}`, "difference"],
        rows: names.map((c) => {
          const mine = seen.get(c) ?? 0;
          const metric = reported?.get(c);
          return [c, sents.filter((s) => s.client === c).length, mine, metric ?? "–", metric === undefined ? "–" : metric - mine];
        }),
      },
      checks,
      chart: {
        title: "Tokens per client: responses' usage vs the gateway's metric",
        xName: "client",
        yName: "tokens",
        categories: names,
        series: [
          { name: "Σ usage in responses", type: "bar", data: names.map((c) => [c, seen.get(c) ?? 0]) },
          ...(reported !== undefined ? [{ name: TOKENS_METRIC, type: "bar" as const, data: names.map((c): [string, number] => [c, reported!.get(c) ?? 0]) }] : []),
        ],
      },
      notes: [`answers: ${statusSummary(sents)}`, ...byLabelNote, `${(sents.length / tookS).toFixed(1)} requests per second`],
    };
  },
};
