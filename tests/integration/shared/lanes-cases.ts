/**
 * TEST CODE. Issue 11: priority lanes and client token budgets on the gateway, against simulators with real
 * token-per-minute windows (x-ratelimit-remaining-* / -limit-* on every success) and a real redis-server.
 *
 * - The lane: `x-priority: high|low`, else `?priority=`; anything else is a 400 naming it.
 * - Low yields to high by headroom: below the reserve (30 % of the reported token limit here) a backend takes no
 *   low request, except one probe per node per second; high traffic is never refused for it.
 * - Client budgets: APISIX's ai-rate-limiting counting, with Spillway's rejection (Azure's 429 shape, Retry-After)
 *   and per-node counting while Redis is down; one budget across two replicas through Redis.
 * Real APISIX only (lanes.apisix{,-2w}.test.ts): the stand-in does not run ai-rate-limiting.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { startSimulators, stopSimulators, type SimulatorHandle } from "../../../scripts/simulator/index.ts";
import { simulatorInstances, writeProviderConfig, type ProviderConfig } from "../../helpers/provider-config.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";
import { reportLogsOnFailure, severeLines, type Gateway } from "../../rig/gateway.ts";
import { describeOnHost, NEW_CONNECTION, type HostChoice } from "./hosts.ts";

const SIM_KEY = "sim-key-0123456789";
const ALICE_KEY = "alice-key-0123456789abcdef";
const BOB_KEY = "bob-key-0123456789abcdef012";
const DAVE_KEY = "dave-key-0123456789abcdef01";
/** Tokens per minute of every simulator deployment here (and so 10 requests per 10 s). */
const TPM = 10_000;
/** The low reserve: 30 % of the reported limit (the toolkit's 30k of 100k). */
const RESERVE = 0.3 * TPM;
const ALICE_BUDGET = 60;
/** The load case's deployment: 100k tokens and 100 requests per 10 s, as the toolkit's gpt-35-turbo-100k-token. */
const LOAD_TPM = 100_000;
const REDIS_BUDGET = 200;
const WINDOW_S = 60;
/** spillway-failover's Redis probe runs every second (redis-sync.ts SYNC_INTERVAL_S). */
const PROBE_MS = 1000;

/** Deployments, one per case, so that no case sees another's token window or headroom. */
const DEPLOYMENTS = ["lanes", "figures", "reserve", "probe", "budget", "shared", "outage", "load"] as const;

const API_URIS = ["/openai/v1/chat/completions", "/openai/v1/completions", "/openai/v1/embeddings", "/openai/v1/responses"];

function route(id: string, test: string, plugins: Record<string, unknown>): Record<string, unknown> {
  return { id, priority: 10, uris: API_URIS, vars: [["http_x_test_route", "==", test]], plugins };
}

function config(sims: SimulatorHandle[], redisPort: number): ProviderConfig {
  const multi = { fallback_strategy: ["http_429", "http_5xx"], instances: simulatorInstances(sims, SIM_KEY) };
  const single = { fallback_strategy: ["http_429", "http_5xx"], instances: simulatorInstances(sims.slice(0, 1), SIM_KEY) };
  const failover = { default_429_cooldown_ms: 1000, low_reserve: { tokens_percent: 30 } };
  const redis = { host: "127.0.0.1", port: redisPort, timeout_ms: 200, prefix: "lanes" };
  const budget = (count: string, policy: "local" | "redis") => ({
    rules: [{ count, time_window: WINDOW_S, key: "$consumer_name", header_prefix: "consumer" }],
    limit_strategy: "total_tokens",
    rejected_code: 429,
    show_limit_quota_header: true,
    policy,
    ...(policy === "redis" ? { redis_host: "127.0.0.1", redis_port: redisPort, redis_timeout: 200 } : {}),
  });
  return writeProviderConfig({
    routes: [
      { id: "lanes", uris: ["/openai/v1/chat/completions"], plugins: { "spillway-failover": failover, "ai-proxy-multi": multi } },
      route("load", "load", { "spillway-failover": failover, "ai-proxy-multi": single }),
      route("budget", "budget", {
        "azure-openai-auth": {},
        "ai-rate-limiting": budget("$spillway_budget_high", "local"),
        "spillway-failover": { default_429_cooldown_ms: 1000 },
        "ai-proxy-multi": multi,
      }),
      route("shared-budget", "shared-budget", {
        "azure-openai-auth": {},
        "ai-rate-limiting": budget("$spillway_budget_high", "redis"),
        "spillway-failover": { default_429_cooldown_ms: 1000, redis },
        "ai-proxy-multi": multi,
      }),
    ],
    consumers: [
      { username: "alice", plugins: { "azure-openai-auth": { key: ALICE_KEY, budget: { high: ALICE_BUDGET, low: ALICE_BUDGET } } } },
      { username: "bob", plugins: { "azure-openai-auth": { key: BOB_KEY, budget: { high: 100_000, low: 100_000 } } } },
      { username: "dave", plugins: { "azure-openai-auth": { key: DAVE_KEY, budget: { high: 1_000_000, low: 1_000_000 } } } },
      { username: "carol", plugins: { "azure-openai-auth": { key: "carol-key-0123456789abcdef", budget: { high: REDIS_BUDGET, low: REDIS_BUDGET } } } },
    ],
  });
}

interface Ask {
  deployment: (typeof DEPLOYMENTS)[number];
  maxTokens?: number;
  headers?: Record<string, string>;
  query?: string;
}

function chat(gw: Gateway, ask: Ask): Promise<Response> {
  return fetch(`${gw.url}/openai/v1/chat/completions${ask.query ?? ""}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...NEW_CONNECTION, ...ask.headers },
    body: JSON.stringify({ model: ask.deployment, messages: [{ role: "user", content: "hi" }], max_tokens: ask.maxTokens ?? 10 }),
    signal: AbortSignal.timeout(10_000),
  });
}

/** Spends `tokens` of a simulator deployment's window directly, behind the gateway's back. */
async function spendDirectly(sim: SimulatorHandle, deployment: string, tokens: number): Promise<void> {
  const res = await fetch(`${sim.url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "api-key": SIM_KEY },
    body: JSON.stringify({ model: deployment, messages: [{ role: "user", content: "hi" }], max_tokens: tokens }),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

const callsTo = (sim: SimulatorHandle, deployment: string) => sim.requests().filter((r) => (r.body as { model?: string })?.model === deployment).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function lanesSuite(choice: HostChoice): void {
  describeOnHost(choice, "priority lanes and client budgets (simulated token windows, redis-server)", (host) => {
    let redis: RedisServer;
    let sims: SimulatorHandle[] = [];
    let files: ProviderConfig | undefined;
    let replicaA: Gateway | undefined;
    let replicaB: Gateway | undefined;
    const a = () => replicaA!;
    const b = () => replicaB!;

    beforeAll(async () => {
      redis = await startRedis();
      sims = await startSimulators(["primary", "secondary"].map((name) => ({
        name,
        apiKey: SIM_KEY,
        requestLogSize: 5000,
        // The load case's calls take 40 ms each, so that gateway noise is small next to them.
        deployments: {
          ...Object.fromEntries(DEPLOYMENTS.map((d) => [d, d === "load" ? { model: "gpt-4o", tokensPerMinute: LOAD_TPM, latency: { baseMs: 40 } } : { model: "gpt-4o", tokensPerMinute: TPM }])),
          "usage-embed": { model: "text-embedding-3-small" },
        },
        latency: { baseMs: 0, perTokenMs: 0 },
      })));
      files = config(sims, redis.port);
      [replicaA, replicaB] = await Promise.all([host.start(files), host.start(files)]);
    });

    afterAll(async () => {
      await Promise.all([replicaA?.stop(), replicaB?.stop()]);
      await stopSimulators(sims);
      await redis?.stop();
      files?.cleanup();
    });

    beforeEach((ctx) => {
      reportLogsOnFailure(ctx, () => replicaA);
      reportLogsOnFailure(ctx, () => replicaB);
    });

    it("the lane comes from x-priority, else ?priority=; anything else is a 400 naming it, and no backend is called", async () => {
      const lane = async (ask: Omit<Ask, "deployment">) => (await chat(a(), { deployment: "lanes", ...ask })).headers.get("x-gw-priority");
      expect(await lane({})).toBe("high");
      expect(await lane({ headers: { "x-priority": " LOW " } })).toBe("low");
      expect(await lane({ query: "?priority=low" })).toBe("low");
      expect(await lane({ headers: { "x-priority": "high" }, query: "?priority=low" })).toBe("high");
      const before = callsTo(sims[0]!, "lanes") + callsTo(sims[1]!, "lanes");
      for (const [ask, param] of [[{ headers: { "x-priority": "urgent" } }, "x-priority"], [{ query: "?priority=later" }, "priority"]] as const) {
        const res = await chat(a(), { deployment: "lanes", ...ask });
        expect(res.status).toBe(400);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        const body = (await res.json()) as { error: { type: string; param: string; code: string; message: string } };
        expect(body.error).toMatchObject({ type: "invalid_request_error", param, code: "400" });
        expect(body.error.message).toMatch(/must be "high" or "low"/);
      }
      expect(callsTo(sims[0]!, "lanes") + callsTo(sims[1]!, "lanes")).toBe(before);
    });

    it("x-gw-remaining-tokens/-requests are the answering backend's own figures, integers, and the next request sees them go down by its cost", async () => {
      const first = await chat(a(), { deployment: "figures", maxTokens: 100 });
      const second = await chat(a(), { deployment: "figures", maxTokens: 250, headers: { "x-priority": "low" } });
      for (const res of [first, second]) {
        expect(res.status).toBe(200);
        expect(res.headers.get("x-gw-backend")).toBe("primary");
        expect(res.headers.get("x-gw-remaining-tokens")).toMatch(/^\d+$/);
        expect(res.headers.get("x-gw-remaining-requests")).toMatch(/^\d+$/);
        expect(res.headers.get("x-gw-remaining-tokens")).toBe(res.headers.get("x-ratelimit-remaining-tokens"));
        expect(res.headers.get("x-gw-remaining-requests")).toBe(res.headers.get("x-ratelimit-remaining-requests"));
      }
      expect(Number(first.headers.get("x-gw-remaining-tokens"))).toBe(TPM - 100);
      expect(Number(second.headers.get("x-gw-remaining-tokens"))).toBe(TPM - 100 - 250);
      expect(Number(second.headers.get("x-gw-remaining-requests"))).toBe(Number(first.headers.get("x-gw-remaining-requests")) - 1);
    });

    it("below its reserve a backend takes no low request (another with headroom does; none: 429 with the toolkit's headers), and high traffic is never refused for it", async () => {
      // High traffic takes the primary to 2000 tokens left, under its 3000 reserve.
      for (let i = 0; i < 4; i++) {
        const res = await chat(a(), { deployment: "reserve", maxTokens: 2000 });
        expect([res.status, res.headers.get("x-gw-backend")]).toEqual([200, "primary"]);
      }
      const primaryCalls = callsTo(sims[0]!, "reserve");
      const low = await chat(a(), { deployment: "reserve", headers: { "x-priority": "low" } });
      expect([low.status, low.headers.get("x-gw-backend"), low.headers.get("x-gw-attempts")]).toEqual([200, "secondary", "1"]);
      expect(callsTo(sims[0]!, "reserve")).toBe(primaryCalls);
      // High traffic still goes to the primary, whatever is left for low.
      const high = await chat(a(), { deployment: "reserve" });
      expect([high.status, high.headers.get("x-gw-backend"), high.headers.get("x-gw-priority")]).toEqual([200, "primary", "high"]);

      // The secondary's quota is spent elsewhere; the gateway learns it from its next answer to a low request.
      await spendDirectly(sims[1]!, "reserve", 7500);
      const learns = await chat(a(), { deployment: "reserve", headers: { "x-priority": "low" } });
      expect([learns.status, learns.headers.get("x-gw-backend")]).toEqual([200, "secondary"]);
      const secondaryLeft = Number(learns.headers.get("x-gw-remaining-tokens"));
      expect(secondaryLeft).toBeLessThan(RESERVE);
      // A high answer renews the primary's block (without a reset header a block lasts a second until its probe).
      expect((await chat(a(), { deployment: "reserve" })).headers.get("x-gw-backend")).toBe("primary");

      const calls = callsTo(sims[0]!, "reserve") + callsTo(sims[1]!, "reserve");
      const refused = await chat(a(), { deployment: "reserve", headers: { "x-priority": "low" } });
      expect(refused.status).toBe(429);
      expect(refused.headers.get("x-gw-priority")).toBe("low");
      expect(refused.headers.get("x-gw-ratelimit-reason")).toBe("tokens-below-low-priority-threshold");
      expect(refused.headers.get("x-gw-ratelimit-value")).toMatch(/^\d+$/);
      expect(Number(refused.headers.get("x-gw-ratelimit-value"))).toBeLessThan(RESERVE);
      expect(Number(refused.headers.get("retry-after"))).toBe(1);
      const body = (await refused.json()) as { error: { type: string; code: string; message: string } };
      expect(body.error).toMatchObject({ type: "rate_limit_exceeded", code: "429" });
      expect(body.error.message).toMatch(/Low-priority requests are paused/);
      expect(callsTo(sims[0]!, "reserve") + callsTo(sims[1]!, "reserve"), "a refused low request calls no backend").toBe(calls);

      const stillHigh = await chat(a(), { deployment: "reserve" });
      expect([stillHigh.status, stillHigh.headers.get("x-gw-backend")]).toEqual([200, "primary"]);
      expect(severeLines(a().errorLog())).toEqual([]);
    });

    it("once its reset is due, one low request per node and backend probes a backend below its reserve; the others wait for its answer", async () => {
      // Only the primary in play: the secondary is made to look short too.
      for (let i = 0; i < 4; i++) expect((await chat(a(), { deployment: "probe", maxTokens: 2000 })).status).toBe(200);
      await spendDirectly(sims[1]!, "probe", 8000);
      const learns = await chat(a(), { deployment: "probe", headers: { "x-priority": "low" } });
      expect(learns.headers.get("x-gw-backend")).toBe("secondary");
      expect((await chat(a(), { deployment: "probe" })).headers.get("x-gw-backend")).toBe("primary");
      expect((await chat(a(), { deployment: "probe", headers: { "x-priority": "low" } })).status).toBe(429);

      await sleep(PROBE_MS + 200);
      const calls = callsTo(sims[0]!, "probe") + callsTo(sims[1]!, "probe");
      const burst = await Promise.all(Array.from({ length: 8 }, () => chat(a(), { deployment: "probe", headers: { "x-priority": "low" } })));
      const passed = burst.filter((r) => r.status === 200);
      // One probe per backend on this node (the shared dict): at most two, at least one.
      expect(passed.length).toBeGreaterThanOrEqual(1);
      expect(passed.length).toBeLessThanOrEqual(2);
      expect(new Set(passed.map((r) => r.headers.get("x-gw-backend"))).size).toBe(passed.length);
      for (const r of burst.filter((x) => x.status !== 200)) {
        expect(r.status).toBe(429);
        expect(r.headers.get("x-gw-ratelimit-reason")).toBe("tokens-below-low-priority-threshold");
      }
      expect(callsTo(sims[0]!, "probe") + callsTo(sims[1]!, "probe") - calls).toBe(passed.length);
    });

    it("a client over its token budget gets Azure's 429 shape with Retry-After, and no backend is called; another client is not affected", async () => {
      const alice = { authorization: `Bearer ${ALICE_KEY}`, "x-test-route": "budget" };
      let spent = 0;
      let refused: Response | undefined;
      for (let i = 0; i < 20 && refused === undefined; i++) {
        const res = await chat(a(), { deployment: "budget", headers: alice });
        if (res.status === 200) {
          spent += ((await res.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
          // The charge is made in the log phase, after the answer went out.
          await sleep(50);
        } else refused = res;
      }
      expect(refused, "alice was refused within 20 requests").toBeDefined();
      expect(spent).toBeGreaterThanOrEqual(ALICE_BUDGET);
      const r = refused!;
      expect(r.status).toBe(429);
      expect(r.headers.get("content-type")).toMatch(/^application\/json/);
      const retryAfter = Number(r.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
      expect(r.headers.get("x-ratelimit-remaining-tokens")).toBe("0");
      expect(r.headers.get("x-ratelimit-limit-tokens")).toBe(String(ALICE_BUDGET));
      expect(r.headers.get("x-ratelimit-reset-tokens")).toBe(String(retryAfter));
      expect(r.headers.get("x-gw-ratelimit-reason")).toBe("client-token-budget");
      expect(r.headers.get("x-gw-priority")).toBe("high");
      // APISIX's own budget headers stay.
      expect(r.headers.get("x-ai-consumer-ratelimit-remaining")).toBe("0");
      const body = (await r.json()) as { error: { type: string; code: string; message: string } };
      expect(body.error).toMatchObject({ type: "rate_limit_exceeded", code: "429" });
      expect(body.error.message).toMatch(new RegExp(`Please retry after ${retryAfter} seconds?\\.$`));

      const calls = callsTo(sims[0]!, "budget") + callsTo(sims[1]!, "budget");
      expect((await chat(a(), { deployment: "budget", headers: alice })).status).toBe(429);
      expect(callsTo(sims[0]!, "budget") + callsTo(sims[1]!, "budget"), "a refused request calls no backend").toBe(calls);
      const bob = await chat(a(), { deployment: "budget", headers: { "api-key": BOB_KEY, "x-test-route": "budget" } });
      expect(bob.status).toBe(200);
      expect(severeLines(a().errorLog())).toEqual([]);
    });

    it("a budget is charged exactly what the backend reported, streamed or not: chat, completions, embeddings, Responses", async () => {
      const headers = { "content-type": "application/json", "api-key": DAVE_KEY, "x-test-route": "budget", ...NEW_CONNECTION };
      const send = (path: string, body: Record<string, unknown>) =>
        fetch(`${a().url}/openai/v1/${path}`, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      /** The usage a client sees: the body's, or a stream's final usage (chat chunk / response.completed). */
      const usageOf = async (res: Response): Promise<number> => {
        const text = await res.text();
        if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return (JSON.parse(text) as { usage: { total_tokens: number } }).usage.total_tokens;
        let total = -1;
        for (const line of text.split("\n")) {
          if (!line.startsWith("data: {")) continue;
          const event = JSON.parse(line.slice(6)) as { usage?: { total_tokens: number }; response?: { usage?: { total_tokens: number } } };
          total = event.usage?.total_tokens ?? event.response?.usage?.total_tokens ?? total;
        }
        return total;
      };
      const remaining = (res: Response) => Number(res.headers.get("x-ai-consumer-ratelimit-remaining"));
      const calls: [string, string, Record<string, unknown>][] = [
        ["chat", "chat/completions", { model: "budget", messages: [{ role: "user", content: "Tell me a story" }], max_tokens: 7 }],
        ["chat, streamed", "chat/completions", { model: "budget", messages: [{ role: "user", content: "Tell me a story" }], max_tokens: 9, stream: true }],
        ["completions", "completions", { model: "budget", prompt: "Once upon a time", max_tokens: 5 }],
        ["embeddings", "embeddings", { model: "usage-embed", input: "The quick brown fox jumps over the lazy dog" }],
        ["responses", "responses", { model: "budget", input: "Tell me a story", max_output_tokens: 6 }],
        ["responses, streamed", "responses", { model: "budget", input: "Tell me a story", max_output_tokens: 8, stream: true }],
      ];
      // The remaining budget a request sees is the budget minus everything charged before it; a small chat after
      // each call reads what that call was charged.
      for (const [name, path, body] of calls) {
        const res = await send(path, body);
        expect(res.status, name).toBe(200);
        const before = remaining(res);
        const used = await usageOf(res);
        expect(used, `${name}: usage reported`).toBeGreaterThan(0);
        // The charge happens in the log phase, after the answer went out.
        await sleep(50);
        const next = await send("chat/completions", { model: "budget", messages: [{ role: "user", content: "hi" }], max_tokens: 1 });
        await next.arrayBuffer();
        expect(before - remaining(next), `${name}: charged`).toBe(used);
        await sleep(50);
      }
    });

    it("with policy redis, one budget holds across two replicas: the admitted tokens are the budget plus at most one request's", async () => {
      const carol = { "api-key": "carol-key-0123456789abcdef", "x-test-route": "shared-budget" };
      let spent = 0;
      let largest = 0;
      let refusedAt = -1;
      for (let i = 0; i < 40 && refusedAt < 0; i++) {
        const res = await chat(i % 2 === 0 ? a() : b(), { deployment: "shared", headers: carol, maxTokens: 12 });
        if (res.status === 200) {
          const used = ((await res.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
          spent += used;
          largest = Math.max(largest, used);
          // The charge goes to Redis from a timer after the log phase.
          await sleep(100);
        } else {
          expect(res.status).toBe(429);
          refusedAt = i;
        }
      }
      expect(refusedAt, "carol was refused within 40 requests").toBeGreaterThan(0);
      expect(spent).toBeGreaterThanOrEqual(REDIS_BUDGET);
      expect(spent).toBeLessThan(REDIS_BUDGET + largest);
      // Both replicas refuse her now.
      for (const gw of [a(), b()]) expect((await chat(gw, { deployment: "shared", headers: carol })).status).toBe(429);
    });

    it("with Redis stopped the gateway keeps serving, counting budgets per node, and says so once; when Redis is back it counts there again", async () => {
      const bob = { "api-key": BOB_KEY, "x-test-route": "shared-budget" };
      await redis.stop();
      try {
        // The cooldown sync's probe notices within a second; requests then count on the node.
        await sleep(PROBE_MS * 1.5);
        for (let i = 0; i < 6; i++) {
          const res = await chat(i % 2 === 0 ? a() : b(), { deployment: "outage", headers: bob });
          expect(res.status).toBe(200);
          expect(res.headers.get("x-ai-consumer-ratelimit-limit")).toBe("100000");
        }
        for (const gw of [a(), b()]) {
          const warnings = gw.errorLog().match(/\[warn\].*spillway-failover: redis unavailable/g) ?? [];
          expect(warnings.length, "one warning per replica").toBe(1);
          expect(severeLines(gw.errorLog())).toEqual([]);
        }
      } finally {
        redis = await startRedis({ port: redis.port });
      }
      await sleep(PROBE_MS * 1.5);
      const res = await chat(a(), { deployment: "outage", headers: bob });
      expect(res.status).toBe(200);
      await sleep(200);
      const keys = await redis.command("KEYS plugin-ai-rate-limiting*");
      expect(keys, "counting is back in Redis").toMatch(/bob/);
      expect(a().errorLog()).toMatch(/redis answers again/);
    });

    it("while low traffic saturates a backend, high traffic keeps >= 90 % success at its idle latency, and low is held to what the reserve leaves", async () => {
      const headers = { "x-test-route": "load" };
      // High: 50 tokens every 250 ms; low: 4 users of 2000 tokens a request, as fast as they are let through. The
      // backend's request window (100 per 10 s) stays out of the way: the reserve on tokens is what is tested.
      const HIGH_TOKENS = 50;
      const LOW_TOKENS = 2000;
      const LOW_USERS = 4;
      const latencyOf = async (ask: Ask) => {
        const started = performance.now();
        const res = await chat(a(), ask);
        await res.arrayBuffer();
        return { status: res.status, ms: performance.now() - started, remaining: res.headers.get("x-gw-remaining-tokens") };
      };
      const high = () => latencyOf({ deployment: "load", maxTokens: HIGH_TOKENS, headers });
      sims[0]!.reset();
      // Idle: high traffic alone (also: no gateway 429 with only high traffic).
      const idle: number[] = [];
      for (let i = 0; i < 15; i++) {
        const r = await high();
        expect(r.status).toBe(200);
        idle.push(r.ms);
      }
      let lowTokens = 0;
      let lowOk = 0;
      let lowRefused = 0;
      let stop = false;
      const lowUser = async () => {
        while (!stop) {
          const res = await chat(a(), { deployment: "load", maxTokens: LOW_TOKENS, headers: { ...headers, "x-priority": "low" } });
          await res.arrayBuffer();
          if (res.status === 200) {
            lowOk++;
            lowTokens += LOW_TOKENS;
          } else {
            lowRefused++;
            // As an SDK does: back off for the Retry-After the refusal names (1 s at most here).
            await sleep(Number(res.headers.get("retry-after") ?? "1") * 1000);
          }
        }
      };
      const lows = Array.from({ length: LOW_USERS }, lowUser);
      const busy: { status: number; ms: number }[] = [];
      const until = Date.now() + 6000;
      while (Date.now() < until) {
        busy.push(await high());
        await sleep(250);
      }
      stop = true;
      await Promise.all(lows);

      const ok = busy.filter((r) => r.status === 200);
      expect(ok.length / busy.length, `high successes ${ok.length}/${busy.length}`).toBeGreaterThanOrEqual(0.9);
      const p50Idle = percentile(idle, 50);
      const p50Busy = percentile(ok.map((r) => r.ms), 50);
      expect(p50Busy, `high p50 ${p50Busy.toFixed(1)} ms vs idle ${p50Idle.toFixed(1)} ms`).toBeLessThanOrEqual(p50Idle * 1.2);
      // Low gets what lies above the reserve (70 % of the window, minus what high used), plus the requests already
      // on their way when the reserve was reached, plus one probe per second (this node, one backend).
      const inFlight = (LOW_USERS - 1) * LOW_TOKENS;
      const probes = 7 * LOW_TOKENS;
      const highTokens = (idle.length + busy.length) * HIGH_TOKENS;
      expect(lowRefused, "low traffic was refused once it reached the reserve").toBeGreaterThan(0);
      expect(lowTokens, `low admitted ${lowTokens} tokens in ${lowOk} requests`).toBeLessThanOrEqual(0.7 * LOAD_TPM + inFlight + probes);
      expect(lowTokens).toBeGreaterThanOrEqual(0.7 * LOAD_TPM - highTokens - LOW_TOKENS);
    });
  });
}
