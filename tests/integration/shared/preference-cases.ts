/**
 * TEST CODE. Issue 14: latency-preference routing. The toolkit's helper endpoint (`POST /helpers/set-preferred-backends`,
 * aoai-simulator.md §1.5) behind client auth, the order it sets followed by every worker of both replicas (one
 * redis-server between them), a cooling preferred backend passed over, and a retry after a 429 going to the next
 * backend of the order. Real APISIX only (preference.apisix{,-2w}.test.ts).
 */
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { startSimulators, stopSimulators, type SimulatorHandle } from "../../../scripts/simulator/index.ts";
import { simulatorInstances, writeProviderConfig, type ProviderConfig } from "../../helpers/provider-config.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";
import { reportLogsOnFailure, severeLines, type Gateway } from "../../rig/gateway.ts";
import { describeOnHost, NEW_CONNECTION, type HostChoice } from "./hosts.ts";

const SIM_KEY = "sim-key-0123456789";
const CLIENT_KEY = "pref-client-key-0123456789abcdef";
const NAMES = ["payg1", "payg2", "payg3"];
/** Each worker reads a new order at most a second after it was set (preference.ts REFRESH_S), Redis pulls each second. */
const PROPAGATION_MS = 2500;

function config(sims: SimulatorHandle[], redisPort: number): ProviderConfig {
  const redis = { host: "127.0.0.1", port: redisPort, timeout_ms: 200, prefix: "pref" };
  // Equal priorities and weights: without an order the backends share the traffic.
  const instances = simulatorInstances(sims, SIM_KEY).map((i) => ({ ...i, priority: 0, weight: 1 }));
  return writeProviderConfig({
    routes: [
      {
        id: "chat",
        uris: ["/openai/v1/chat/completions", "/openai/deployments/:deployment/chat/completions"],
        plugins: {
          "azure-openai-auth": {},
          "spillway-failover": { default_429_cooldown_ms: 1000, redis },
          "ai-proxy-multi": { fallback_strategy: ["http_429", "http_5xx"], instances },
        },
      },
      {
        id: "helpers",
        methods: ["GET", "POST"],
        uris: ["/helpers/set-preferred-backends", "/config/set-preferred-backends"],
        plugins: { "azure-openai-auth": {}, "spillway-failover": { helper: "set-preferred-backends", redis } },
      },
    ],
    consumers: [{ username: "prober", plugins: { "azure-openai-auth": { key: CLIENT_KEY } } }],
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function preferenceSuite(choice: HostChoice): void {
  describeOnHost(choice, "latency-preference routing: the toolkit's helper endpoint, two replicas, one redis-server", (host) => {
    let redis: RedisServer;
    let sims: SimulatorHandle[] = [];
    let files: ProviderConfig | undefined;
    let replicaA: Gateway | undefined;
    let replicaB: Gateway | undefined;
    const a = () => replicaA!;
    const b = () => replicaB!;

    /** `key` null: no key at all. */
    const setOrder = (gw: Gateway, body: unknown, key: string | null = CLIENT_KEY) =>
      fetch(`${gw.url}/helpers/set-preferred-backends`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key !== null ? { "api-key": key } : {}), ...NEW_CONNECTION },
        body: JSON.stringify(body),
      });
    const chat = async (gw: Gateway, deployment = "gpt-4o"): Promise<{ status: number; backend: string | null; attempts: string | null }> => {
      const res = await fetch(`${gw.url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "api-key": CLIENT_KEY, ...NEW_CONNECTION },
        body: JSON.stringify({ model: deployment, messages: [{ role: "user", content: "hi" }], max_tokens: 3 }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      return { status: res.status, backend: res.headers.get("x-gw-backend"), attempts: res.headers.get("x-gw-attempts") };
    };
    const shares = async (gw: Gateway, n: number, deployment?: string): Promise<Record<string, number>> => {
      const count: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const r = await chat(gw, deployment);
        expect(r.status).toBe(200);
        count[r.backend!] = (count[r.backend!] ?? 0) + 1;
      }
      return count;
    };

    beforeAll(async () => {
      redis = await startRedis();
      sims = await startSimulators(NAMES.map((name) => ({
        name,
        apiKey: SIM_KEY,
        deployments: { "gpt-4o": { model: "gpt-4o" }, retry: { model: "gpt-4o" }, cooling: { model: "gpt-4o" } },
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
      for (const sim of sims) sim.clearFaults();
    });

    it("the endpoint answers as the toolkit's: 401 without a gateway key, 400 for a bad body, 200 and its message; GET reads the order", async () => {
      expect((await setOrder(a(), { preferredBackends: ["payg1"] }, null)).status).toBe(401);
      expect((await setOrder(a(), { preferredBackends: ["payg1"] }, "not-a-key-0123456789abcdef")).status).toBe(401);
      for (const bad of [{}, { preferredBackends: "payg1" }, { preferredBackends: ["pay g1"] }, { preferredBackends: [1] }]) {
        const res = await setOrder(a(), bad);
        expect(res.status, JSON.stringify(bad)).toBe(400);
        expect(((await res.json()) as { error: { param: string } }).error.param).toBe("preferredBackends");
      }
      const ok = await setOrder(a(), { preferredBackends: ["payg2", "payg1"] });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await ok.json()).toEqual({ message: "preferred backends are set successfully" });
      await sleep(1100);
      const read = await fetch(`${a().url}/config/set-preferred-backends`, { headers: { "api-key": CLIENT_KEY, ...NEW_CONNECTION } });
      expect(await read.json()).toEqual({ preferredBackends: ["payg2", "payg1"] });
    });

    it("every worker of both replicas sends all traffic to the preferred backend, and moves when the order changes", async () => {
      expect((await setOrder(a(), { preferredBackends: ["payg3", "payg1", "payg2"] })).status).toBe(200);
      await sleep(PROPAGATION_MS);
      expect(await shares(a(), 12)).toEqual({ payg3: 12 });
      expect(await shares(b(), 12), "the other replica, through Redis").toEqual({ payg3: 12 });
      // The prober measured again: payg1 is faster now. Posted to the other replica this time.
      expect((await setOrder(b(), { preferredBackends: ["payg1", "payg3"] })).status).toBe(200);
      await sleep(PROPAGATION_MS);
      expect(await shares(a(), 12)).toEqual({ payg1: 12 });
      expect(await shares(b(), 12)).toEqual({ payg1: 12 });
    });

    it("a retry after a 429 goes to the next backend of the order, and a cooling preferred backend is passed over", async () => {
      expect((await setOrder(a(), { preferredBackends: ["payg2", "payg3", "payg1"] })).status).toBe(200);
      await sleep(PROPAGATION_MS);
      sims[1]!.setFaults([{ kind: "status", status: 429, retryAfterMs: 20_000, deployment: "retry" }]);
      const first = await chat(a(), "retry");
      expect([first.status, first.backend, first.attempts]).toEqual([200, "payg3", "2"]);
      // payg2 cools now: the next requests go to payg3 at once, on every worker.
      for (let i = 0; i < 6; i++) expect(await chat(a(), "retry")).toEqual({ status: 200, backend: "payg3", attempts: "1" });
      expect(sims[1]!.requests().filter((r) => (r.body as { model?: string }).model === "retry")).toHaveLength(1);
      expect(severeLines(a().errorLog() + b().errorLog())).toEqual([]);
    });

    it("an empty order ends the preference: the route's own weights share the traffic again", async () => {
      expect((await setOrder(a(), { preferredBackends: [] })).status).toBe(200);
      await sleep(1100);
      const count = await shares(a(), 30);
      expect(Object.keys(count).sort()).toEqual(NAMES);
    });
  });
}
