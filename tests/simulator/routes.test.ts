// Routes, auth, Azure-shaped errors, ground-truth headers and usage numbers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { CHAT, KEY, dpath, post, raw, type RawResponse } from "./helpers.ts";

let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({
    name: "payg1",
    apiKey: KEY,
    region: "swedencentral",
    deployments: {
      chat: { model: "gpt-4o-mini", tpm: 1_000_000 },
      ada: { model: "text-embedding-ada-002", tpm: 1_000_000 },
      small: { model: "text-embedding-3-small", tpm: 1_000_000, embeddingSize: 1536 },
    },
  });
});
afterAll(() => sim.stop());

function expectGroundTruth(r: RawResponse): void {
  expect(r.headers["x-sim-instance"]).toBe("payg1");
  expect(r.headers["x-ms-region"]).toBe("swedencentral");
  expect(r.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  expect(r.headers["apim-request-id"]).toBe(r.headers["x-request-id"]);
}

describe("auth", () => {
  it("accepts the api-key header and Authorization: Bearer", async () => {
    const a = await post(sim.url, dpath("chat", "chat/completions"), CHAT(""), { "api-key": KEY });
    const b = await post(sim.url, dpath("chat", "chat/completions"), CHAT(""), { authorization: `Bearer ${KEY}` });
    expect([a.status, b.status]).toEqual([200, 200]);
  });

  it.each([
    ["no key", {}],
    ["a wrong api-key", { "api-key": "nope" }],
    ["a wrong Bearer", { authorization: "Bearer nope" }],
    ["a non-Bearer Authorization", { authorization: `Basic ${KEY}` }],
  ])("answers 401 in Azure's shape for %s", async (_name, headers) => {
    const r = await post(sim.url, dpath("chat", "chat/completions"), CHAT(""), headers as Record<string, string>);
    expect(r.status).toBe(401);
    expect(r.json()).toEqual({ error: { code: "401", message: expect.stringMatching(/^Access denied due to invalid subscription key/) } });
    expectGroundTruth(r);
  });
});

describe("routing and errors", () => {
  it("serves chat on the deployments path with realistic usage and ground-truth headers", async () => {
    const r = await post(sim.url, dpath("chat", "chat/completions"), { messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 7 });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    expectGroundTruth(r);
    const body = r.json();
    expect(body).toMatchObject({ object: "chat.completion", model: "gpt-4o-mini", choices: [{ index: 0, finish_reason: "length", message: { role: "assistant" } }] });
    expect(body.id).toMatch(/^chatcmpl-[A-Za-z0-9_-]{29}$/);
    // Cookbook count: 3 priming + 3 per message + "user" (1) + "Once upon a time" (4).
    expect(body.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    expect(body.choices[0].message.content.split(" ")).toHaveLength(7);
  });

  it("finishes with stop and the deployment's default length when max_tokens is absent", async () => {
    const body = (await post(sim.url, dpath("chat", "chat/completions"), CHAT(""))).json();
    expect(body.choices[0].finish_reason).toBe("stop");
    expect(body.usage.completion_tokens).toBe(100);
  });

  it("serves completions with 4 prompt tokens for 'Once upon a time'", async () => {
    const r = await post(sim.url, dpath("chat", "completions"), { prompt: "Once upon a time", max_tokens: 10 });
    expect(r.status).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ object: "text_completion", choices: [{ index: 0, finish_reason: "length", logprobs: null }] });
    expect(body.id).toMatch(/^cmpl-/);
    expect(body.usage).toEqual({ prompt_tokens: 4, completion_tokens: 10, total_tokens: 14 });
  });

  it("serves the /openai/v1 surface with the deployment taken from the body's model", async () => {
    const r = await post(sim.url, "/openai/v1/chat/completions", CHAT("chat", { max_tokens: 2 }));
    expect(r.status).toBe(200);
    expect(r.json().model).toBe("gpt-4o-mini");
    expect(sim.stats().byDeployment.chat).toBeGreaterThan(0);
  });

  it("serves embeddings as floats, base64 float32, and honours dimensions only on text-embedding-3", async () => {
    const floats = (await post(sim.url, dpath("ada", "embeddings"), { input: ["one two", "three"], dimensions: 8 })).json();
    expect(floats.data).toHaveLength(2);
    expect(floats.data[1]).toMatchObject({ object: "embedding", index: 1 });
    expect(floats.data[0].embedding).toHaveLength(1536);
    expect(floats.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const b64 = (await post(sim.url, "/openai/v1/embeddings", { model: "small", input: "hello", dimensions: 8, encoding_format: "base64" })).json();
    const buf = Buffer.from(b64.data[0].embedding, "base64");
    expect(buf.length).toBe(8 * 4);
    const v = new Float32Array(buf.buffer, buf.byteOffset, 8);
    expect(Math.hypot(...v)).toBeCloseTo(1, 4);
  });

  it("lists deployments on GET /openai/v1/models", async () => {
    const r = await raw(sim.url, "/openai/v1/models", { headers: { "api-key": KEY } });
    expect(r.status).toBe(200);
    expect(r.json().data.map((m: { id: string }) => m.id)).toEqual(["chat", "ada", "small"]);
  });

  it("requires api-version on the deployments path (400, Azure shape)", async () => {
    const r = await post(sim.url, "/openai/deployments/chat/chat/completions", CHAT(""));
    expect(r.status).toBe(400);
    expect(r.json().error.code).toBe("MissingApiVersionParameter");
    expectGroundTruth(r);
  });

  it("answers 404 DeploymentNotFound for an unknown deployment on both surfaces", async () => {
    const a = await post(sim.url, dpath("nope", "chat/completions"), CHAT(""));
    const b = await post(sim.url, "/openai/v1/chat/completions", CHAT("nope"));
    for (const r of [a, b]) {
      expect(r.status).toBe(404);
      expect(r.json().error.code).toBe("DeploymentNotFound");
      expectGroundTruth(r);
    }
  });

  it("answers 400 when /openai/v1 has no model", async () => {
    const r = await post(sim.url, "/openai/v1/chat/completions", { messages: [] });
    expect(r.status).toBe(400);
    expect(r.json().error).toMatchObject({ code: "missing_required_parameter", param: "model" });
  });

  it("answers 400 OperationNotSupported for chat on an embeddings deployment and the reverse", async () => {
    const a = await post(sim.url, dpath("ada", "chat/completions"), CHAT(""));
    const b = await post(sim.url, dpath("chat", "embeddings"), { input: "x" });
    expect([a.status, b.status]).toEqual([400, 400]);
    expect(a.json().error.code).toBe("OperationNotSupported");
    expect(a.json().error.message).toMatch(/chatCompletion operation does not work with the specified model, ada/);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const r = await post(sim.url, dpath("chat", "chat/completions"), "{not json");
    expect(r.status).toBe(400);
    expect(r.json().error.code).toBe("invalid_json");
  });

  it("answers 404 for unknown routes and 405 for wrong methods, with ground-truth headers", async () => {
    const a = await raw(sim.url, "/openai/deployments/chat/audio/speech?api-version=x", { method: "POST", headers: { "api-key": KEY }, body: {} });
    const b = await raw(sim.url, "/nothing", { headers: { "api-key": KEY } });
    const c = await raw(sim.url, dpath("chat", "chat/completions"), { method: "GET", headers: { "api-key": KEY } });
    expect([a.status, b.status, c.status]).toEqual([404, 404, 405]);
    expect(a.json().error.code).toBe("404");
    expectGroundTruth(b);
  });
});
