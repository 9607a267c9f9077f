/**
 * TEST CODE. Cooldowns and response affinity shared by gateway replicas through a real redis-server: two gateways
 * (two "replicas", each with the host's worker count) in front of the same simulators; a 429 seen by one makes the
 * other skip that backend without calling it, whichever of its workers takes the request. And a Redis that is down
 * costs nothing but the sharing. Host-agnostic: redis-cooldown{,.apisix,.apisix-2w}.test.ts run it on the nginx
 * stand-in and on real APISIX with 1 and 2 workers per replica.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { startSimulators, stopSimulators, type SimulatorHandle } from "../../../scripts/simulator/index.ts";
import { simulatorInstances, writeProviderConfig, type ProviderConfig } from "../../helpers/provider-config.ts";
import { startRedis, type RedisServer } from "../../helpers/redis.ts";
import { reportLogsOnFailure, severeLines, type Gateway } from "../../rig/gateway.ts";
import { describeOnHost, fromEveryWorker, NEW_CONNECTION, type HostChoice } from "./hosts.ts";

const SIM_KEY = "sim-key-0123456789";
const CHAT = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 3 };
/** Replicas pull the others' cooldowns every second (plugins/spillway-failover/redis-sync.ts SYNC_INTERVAL_S). */
const PULL_INTERVAL_MS = 1000;

function config(sims: SimulatorHandle[], redisPort: number): ProviderConfig {
  const route = {
    id: "chat",
    uris: ["/openai/v1/chat/completions", "/openai/v1/responses"],
    plugins: {
      "spillway-failover": { redis: { host: "127.0.0.1", port: redisPort, timeout_ms: 200, prefix: "test" } },
      "ai-proxy-multi": { fallback_strategy: ["http_429", "http_5xx"], instances: simulatorInstances(sims, SIM_KEY) },
    },
  };
  return writeProviderConfig({ routes: [route] });
}

function post(gw: Gateway, path: string, body: unknown): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...NEW_CONNECTION },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

function chat(gw: Gateway, model = "gpt-4o"): Promise<Response> {
  return post(gw, "/openai/v1/chat/completions", { ...CHAT, model });
}

/** Polls until `check` holds (at most `timeoutMs`), for effects that happen in the gateway's timers. */
async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}

export function redisCooldownSuite(choice: HostChoice): void {
  describeOnHost(choice, "cooldowns and affinity shared by replicas through Redis", (host) => {
    let redis: RedisServer | undefined;
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
        deployments: { "gpt-4o": { model: "gpt-4o" }, other: { model: "gpt-4o" }, "gpt-4o-fresh": { model: "gpt-4o" } },
        latency: { baseMs: 0, perTokenMs: 0 },
      })));
      files = config(sims, redis.port);
      replicaA = await host.start(files);
      replicaB = await host.start(files);
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

    it("a 429 on one replica makes every worker of the other skip that backend without calling it", async () => {
      sims[0]!.setFaults([{ kind: "status", status: 429, retryAfterMs: 20_000 }]);
      const first = await chat(a());
      expect(first.status).toBe(200);
      expect(first.headers.get("x-gw-backend")).toBe("secondary");
      await eventually(async () => (await redis!.command("HLEN test:cooldowns")) === ":1\r\n", 2000);
      expect(await redis!.command("HLEN test:cooldowns")).toBe(":1\r\n");

      // Replica B learns of it at its next pull; a worker's first request pulls once itself.
      await new Promise((r) => setTimeout(r, PULL_INTERVAL_MS * 1.5));
      const primaryCalls = sims[0]!.stats().total;
      const workers = await fromEveryWorker(b(), host.workers, () => chat(b()), (res) => {
        expect(res.status).toBe(200);
        expect(res.headers.get("x-gw-backend")).toBe("secondary");
        expect(res.headers.get("x-gw-attempts")).toBe("1");
      });
      expect(workers, "workers of replica B that answered").toBe(host.workers);
      expect(sims[0]!.stats().total - primaryCalls).toBe(0);
      expect(severeLines(a().errorLog() + b().errorLog())).toEqual([]);
    });

    it("a Responses follow-up on one replica reaches the backend that created the response through the other", async () => {
      sims[0]!.setFaults([{ kind: "status", status: 429, retryAfterMs: 20_000, deployment: "other" }]);
      const created = await post(a(), "/openai/v1/responses", { model: "other", input: "hi", max_output_tokens: 3 });
      expect(created.headers.get("x-gw-backend")).toBe("secondary");
      const { id } = (await created.json()) as { id: string };
      sims[0]!.clearFaults();
      // The push to Redis runs in a timer.
      await eventually(async () => (await redis!.command(`GET test:af:${id}`)).includes("secondary"), 2000);
      const primaryCalls = sims[0]!.stats().total;
      // Nothing is cooling for this deployment, and replica B never saw the response: only the affinity it reads
      // from Redis can send the follow-up to "secondary" (the primary would answer 404 for an unknown id).
      const followUp = await post(b(), "/openai/v1/responses", { model: "gpt-4o-fresh", input: "and?", max_output_tokens: 3, previous_response_id: id });
      expect(followUp.status).toBe(200);
      expect(followUp.headers.get("x-gw-backend")).toBe("secondary");
      expect(sims[0]!.stats().total - primaryCalls).toBe(0);
    });

    it("keeps answering when Redis is down; cooldowns then stay per replica, shared by its workers", async () => {
      await redis!.stop();
      sims[0]!.setFaults([{ kind: "status", status: 429, retryAfterMs: 20_000, deployment: "gpt-4o-fresh" }]);
      const res = await chat(a(), "gpt-4o-fresh");
      expect(res.status).toBe(200);
      expect(res.headers.get("x-gw-backend")).toBe("secondary");
      // One warning per node per interval, naming whichever Redis call failed first (redis-sync.ts).
      const notShared = /redis unavailable \(.*failed to connect to redis: connection refused\); cooldowns and response affinity stay per node/;
      await eventually(() => notShared.test(a().errorLog()), 2000);
      expect(a().errorLog()).toMatch(notShared);
      // The cooldown still holds on this replica, in each of its workers.
      const primaryCalls = sims[0]!.stats().total;
      const workers = await fromEveryWorker(a(), host.workers, () => chat(a(), "gpt-4o-fresh"), (again) => {
        expect(again.status).toBe(200);
        expect(again.headers.get("x-gw-attempts")).toBe("1");
      });
      expect(workers, "workers of replica A that answered").toBe(host.workers);
      expect(sims[0]!.stats().total - primaryCalls).toBe(0);
      expect(severeLines(a().errorLog())).toEqual([]);
    });
  });
}
