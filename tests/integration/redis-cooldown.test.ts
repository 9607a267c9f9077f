/**
 * Cooldowns shared by gateway replicas through a real redis-server: two stand-in gateways (two "replicas") in
 * front of the same simulators; a 429 seen by one makes the other skip that backend without calling it.
 * And a Redis that is down costs nothing but the sharing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulators, stopSimulators, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { simulatorInstances, writeProviderConfig, type ProviderConfig } from "../helpers/provider-config.ts";
import { startRedis, type RedisServer } from "../helpers/redis.ts";
import { severeLines, type Gateway } from "../rig/gateway.ts";
import { startGateway } from "../rig/nginx.ts";

const SIM_KEY = "sim-key-0123456789";
const CHAT = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 3 };

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

async function chat(gw: Gateway, model = "gpt-4o"): Promise<Response> {
  return fetch(`${gw.url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...CHAT, model }),
  });
}

describe("cooldowns shared by replicas through Redis", () => {
  let redis: RedisServer;
  let sims: SimulatorHandle[];
  let files: ProviderConfig;
  let replicaA: Gateway;
  let replicaB: Gateway;

  beforeAll(async () => {
    redis = await startRedis();
    sims = await startSimulators(["primary", "secondary"].map((name) => ({
      name,
      apiKey: SIM_KEY,
      deployments: { "gpt-4o": { model: "gpt-4o" }, other: { model: "gpt-4o" }, "gpt-4o-fresh": { model: "gpt-4o" } },
      latency: { baseMs: 0, perTokenMs: 0 },
    })));
    files = config(sims, redis.port);
    replicaA = await startGateway(files);
    replicaB = await startGateway(files);
  });

  afterAll(async () => {
    await replicaA?.stop();
    await replicaB?.stop();
    await stopSimulators(sims ?? []);
    await redis?.stop();
    files?.cleanup();
  });

  it("a 429 on one replica makes the other skip that backend without calling it", async () => {
    sims[0]!.setFaults([{ kind: "status", status: 429, retryAfterMs: 20_000 }]);
    const first = await chat(replicaA);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-gw-backend")).toBe("secondary");
    expect(await redis.command("HLEN test:cooldowns")).toBe(":1\r\n");

    // Replica B learns of it at its next pull (every second).
    await new Promise((r) => setTimeout(r, 1500));
    const primaryCalls = sims[0]!.stats().total;
    const second = await chat(replicaB);
    expect(second.status).toBe(200);
    expect(second.headers.get("x-gw-backend")).toBe("secondary");
    expect(second.headers.get("x-gw-attempts")).toBe("1");
    expect(sims[0]!.stats().total - primaryCalls).toBe(0);
    expect(severeLines(replicaA.errorLog() + replicaB.errorLog())).toEqual([]);
  });

  it("a Responses follow-up on one replica reaches the backend that created the response through the other", async () => {
    sims[0]!.setFaults([{ kind: "status", status: 429, retryAfterMs: 20_000, deployment: "other" }]);
    const created = await fetch(`${replicaA.url}/openai/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "other", input: "hi", max_output_tokens: 3 }),
    });
    expect(created.headers.get("x-gw-backend")).toBe("secondary");
    const { id } = (await created.json()) as { id: string };
    sims[0]!.clearFaults();
    await new Promise((r) => setTimeout(r, 200)); // the push to Redis runs in a timer
    const primaryCalls = sims[0]!.stats().total;
    // Nothing is cooling for this deployment, and replica B never saw the response: only the affinity it reads
    // from Redis can send the follow-up to "secondary" (the primary would answer 404 for an unknown id).
    const followUp = await fetch(`${replicaB.url}/openai/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-fresh", input: "and?", max_output_tokens: 3, previous_response_id: id }),
    });
    expect(followUp.status).toBe(200);
    expect(followUp.headers.get("x-gw-backend")).toBe("secondary");
    expect(sims[0]!.stats().total - primaryCalls).toBe(0);
  });

  it("keeps answering when Redis is down; cooldowns then stay per replica", async () => {
    await redis.stop();
    sims[0]!.setFaults([{ kind: "status", status: 429, retryAfterMs: 20_000, deployment: "gpt-4o-fresh" }]);
    const res = await chat(replicaA, "gpt-4o-fresh");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gw-backend")).toBe("secondary");
    await new Promise((r) => setTimeout(r, 300));
    expect(replicaA.errorLog()).toMatch(/cooldown not shared with other replicas: failed to connect to redis/);
    // The cooldown still holds on this replica.
    const again = await chat(replicaA, "gpt-4o-fresh");
    expect(again.headers.get("x-gw-attempts")).toBe("1");
    expect(severeLines(replicaA.errorLog())).toEqual([]);
  });
});
