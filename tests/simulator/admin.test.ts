// Ground truth and control: /++/stats, /++/requests, /++/config, reset, several instances, option validation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, startSimulators, stopSimulators, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { KEY, dpath, post, raw } from "./helpers.ts";

let sim: SimulatorHandle;
const admin = (path: string, method = "GET", body?: unknown, key = KEY) => raw(sim.url, path, { method, body, headers: { "api-key": key } });

beforeAll(async () => {
  sim = await startSimulator({
    name: "ptu1",
    apiKey: KEY,
    requestLogSize: 3,
    latency: { streamIntervalMs: 0 },
    deployments: { gpt: { model: "gpt-4o-mini", tpm: 50_000 }, emb: { model: "text-embedding-ada-002", tpm: 10_000 } },
  });
});
afterAll(() => sim.stop());
beforeEach(() => sim.reset());

describe("/++/stats", () => {
  it("counts total, by deployment, by status, by route and streamed; control calls are not counted", async () => {
    await post(sim.url, dpath("gpt", "chat/completions"), { messages: [], max_tokens: 1 });
    await post(sim.url, "/openai/v1/chat/completions", { model: "gpt", messages: [], max_tokens: 1, stream: true });
    await post(sim.url, dpath("emb", "embeddings"), { input: "hello" });
    await post(sim.url, dpath("gpt", "chat/completions"), { messages: [] }, { "api-key": "bad" });
    await post(sim.url, dpath("missing", "chat/completions"), { messages: [] });
    await admin("/++/config");
    const r = await admin("/++/stats");
    expect(r.status).toBe(200);
    expect(r.headers["x-sim-instance"]).toBe("ptu1");
    expect(r.json()).toMatchObject({
      instance: "ptu1",
      total: 5,
      streamed: 1,
      byDeployment: { gpt: 2, emb: 1 },
      byStatus: { "200": 3, "401": 1, "404": 1 },
      byRoute: { chat: 4, embeddings: 1 },
      faults: 0,
    });
    expect(r.json().tokens.prompt).toBeGreaterThan(0);
    expect(sim.stats()).toEqual(r.json());
  });
});

describe("/++/requests", () => {
  it("returns exactly what was received, with credentials redacted, bounded to the last N", async () => {
    await post(sim.url, dpath("gpt", "chat/completions"), { messages: [{ role: "user", content: "first" }] });
    await post(sim.url, dpath("gpt", "chat/completions", "2024-02-01") + "&priority=low", { messages: [], max_tokens: 3 }, {
      authorization: `Bearer ${KEY}`,
      "x-priority": "low",
    });
    await post(sim.url, dpath("gpt", "chat/completions"), { messages: [] }, { "api-key": "client-key-leaked" });
    await raw(sim.url, "/openai/v1/models", { headers: { "api-key": KEY } });
    const list = (await admin("/++/requests")).json().requests;
    expect(list).toHaveLength(3);
    expect(list[0]).toMatchObject({
      method: "POST",
      path: "/openai/deployments/gpt/chat/completions",
      query: { "api-version": "2024-02-01", priority: "low" },
      body: { messages: [], max_tokens: 3 },
    });
    expect(list[0].headers).toMatchObject({ authorization: "Bearer [valid]", "x-priority": "low", "content-type": "application/json" });
    expect(list[1].headers["api-key"]).toBe("[invalid]");
    expect(JSON.stringify(list)).not.toContain("client-key-leaked");
    expect(JSON.stringify(list)).not.toContain(KEY);
    expect(list[2]).toMatchObject({ method: "GET", path: "/openai/v1/models", body: "" });
    expect(list[0].id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await admin("/++/requests?limit=1")).json().requests).toHaveLength(1);
    expect(sim.requests()).toEqual(list);
  });

  it("logs the request id that the response carried", async () => {
    const r = await post(sim.url, dpath("gpt", "chat/completions"), { messages: [] });
    expect(sim.requests().at(-1)!.id).toBe(r.headers["x-request-id"]);
  });

  it("clears on DELETE", async () => {
    await post(sim.url, dpath("gpt", "chat/completions"), { messages: [] });
    await admin("/++/requests", "DELETE");
    expect(sim.requests()).toEqual([]);
  });
});

describe("/++/config", () => {
  it("returns aoai-api-simulator's shape", async () => {
    const body = (await admin("/++/config")).json();
    expect(body).toMatchObject({
      simulator_mode: "generate",
      latency: {
        open_ai_chat_completions: { mean: 0, std_dev: 0 },
        open_ai_completions: { mean: 0, std_dev: 0 },
        open_ai_embeddings: { mean: 0, std_dev: 0 },
        stream_interval_ms: 0,
      },
      openai_deployments: { gpt: { tokens_per_minute: 50_000, model: "gpt-4o-mini" }, emb: { tokens_per_minute: 10_000 } },
      instance: "ptu1",
    });
  });

  it("merges latency field by field on PATCH and applies it", async () => {
    const r = await admin("/++/config", "PATCH", { latency: { open_ai_completions: { mean: 30 } } });
    expect(r.status).toBe(200);
    expect(r.json().latency.open_ai_completions).toEqual({ mean: 30, std_dev: 0 });
    expect(r.json().latency.open_ai_chat_completions).toEqual({ mean: 0, std_dev: 0 });
    const slow = await post(sim.url, dpath("gpt", "completions"), { prompt: "Once upon a time", max_tokens: 5 });
    expect(slow.headersAt - slow.startedAt).toBeGreaterThanOrEqual(145);
    await admin("/++/config", "PATCH", { latency: { open_ai_completions: { mean: 0 } } });
  });

  it("rejects bad values with 400 and changes nothing", async () => {
    const r = await admin("/++/config", "PATCH", { latency: { open_ai_completions: { mean: "fast" }, base_ms: 5 } });
    expect(r.status).toBe(400);
    expect((await admin("/++/config")).json().latency.base_ms).toBe(0);
  });

  it("needs the api key on every /++ endpoint", async () => {
    for (const path of ["/++/config", "/++/stats", "/++/requests", "/++/faults"]) {
      const r = await admin(path, "GET", undefined, "wrong");
      expect(r.status).toBe(401);
      expect(r.headers["x-sim-instance"]).toBe("ptu1");
    }
  });
});

describe("instances", () => {
  it("resets stats, request log and windows", async () => {
    await post(sim.url, dpath("emb", "embeddings"), { input: "abc ".repeat(10_000) });
    expect((await post(sim.url, dpath("emb", "embeddings"), { input: "x" })).status).toBe(429);
    sim.reset();
    expect(sim.stats().total).toBe(0);
    expect(sim.requests()).toEqual([]);
    expect((await post(sim.url, dpath("emb", "embeddings"), { input: "x" })).status).toBe(200);
  });

  it("starts several instances on distinct ports, each answering with its name", async () => {
    const sims = await startSimulators(
      ["ptu1", "payg1", "payg2"].map((name) => ({ name, apiKey: KEY, deployments: { gpt: { model: "gpt-4o-mini" } } })),
    );
    try {
      expect(new Set(sims.map((s) => s.port)).size).toBe(3);
      for (const s of sims) {
        const r = await post(s.url, dpath("gpt", "chat/completions"), { messages: [], max_tokens: 1 });
        expect(r.headers["x-sim-instance"]).toBe(s.name);
        expect(s.stats().total).toBe(1);
      }
    } finally {
      await stopSimulators(sims);
    }
  });

  it("refuses duplicate names and invalid options, listing every problem", async () => {
    await expect(startSimulators([{ name: "x", apiKey: "k", deployments: { a: { model: "m" } } }, { name: "x", apiKey: "k", deployments: { a: { model: "m" } } }])).rejects.toThrow(/share this name/);
    await expect(startSimulator({ name: "bad name", apiKey: "", deployments: { a: { model: "", tpm: -1 } } })).rejects.toThrow(
      /name:[\s\S]*apiKey:[\s\S]*deployments\.a\.model:[\s\S]*deployments\.a\.tpm:/,
    );
  });
});
