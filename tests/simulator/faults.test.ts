// Fault injection: every kind, scoping, counting down, and control over HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { KEY, dpath, parseSse, post, raw } from "./helpers.ts";

let sim: SimulatorHandle;
const chat = (deployment = "a", extra: Record<string, unknown> = {}) =>
  post(sim.url, dpath(deployment, "chat/completions"), { messages: [{ role: "user", content: "hi" }], max_tokens: 4, ...extra });
const stream = (deployment = "a", extra: Record<string, unknown> = {}) => chat(deployment, { stream: true, ...extra });

beforeAll(async () => {
  sim = await startSimulator({
    name: "faulty",
    apiKey: KEY,
    latency: { streamIntervalMs: 5 },
    deployments: { a: { model: "gpt-4o-mini" }, b: { model: "gpt-4o-mini" }, e: { model: "text-embedding-3-small" } },
    faults: [{ kind: "status", status: 503, deployment: "b", times: 1 }],
  });
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  sim.reset();
});

describe("status faults", () => {
  it("applies faults given at startup (503 once on deployment b)", async () => {
    // The startup fault was cleared by beforeEach; a fresh instance shows it.
    const fresh = await startSimulator({
      name: "startup",
      apiKey: KEY,
      deployments: { b: { model: "gpt-4o-mini" } },
      faults: [{ kind: "status", status: 503, deployment: "b", times: 1 }],
    });
    try {
      const p = () => post(fresh.url, dpath("b", "chat/completions"), { messages: [] });
      expect((await p()).status).toBe(503);
      expect((await p()).status).toBe(200);
    } finally {
      await fresh.stop();
    }
  });

  it.each([500, 502, 503, 504])("returns %i with an Azure-shaped JSON body and ground-truth headers", async (status) => {
    sim.setFaults([{ kind: "status", status }]);
    const r = await chat();
    expect(r.status).toBe(status);
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    expect(r.headers["x-sim-instance"]).toBe("faulty");
    expect(r.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(sim.stats().byStatus[String(status)]).toBe(1);
  });

  it("carries the retry headers on a 429 fault, with the configured retry-after", async () => {
    sim.setFaults([{ kind: "status", status: 429, retryAfterMs: 2500 }]);
    const r = await chat();
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBe("3");
    expect(r.headers["retry-after-ms"]).toBe("2500");
    expect(r.headers["x-ratelimit-reset-tokens"]).toBe("3");
    expect(r.json().error.code).toBe("429");
  });

  it("fails N times then succeeds", async () => {
    sim.setFaults([{ kind: "status", status: 500, times: 2 }]);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat()).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(sim.stats().faults).toBe(2);
  });

  it("scopes faults to a deployment and to operations", async () => {
    sim.setFaults([
      { kind: "status", status: 502, deployment: "b" },
      { kind: "status", status: 504, operations: ["embeddings"] },
    ]);
    expect((await chat("a")).status).toBe(200);
    expect((await chat("b")).status).toBe(502);
    expect((await post(sim.url, dpath("e", "embeddings"), { input: "x" })).status).toBe(504);
  });

  it("does not consume the rate limit on a faulted request", async () => {
    sim.setFaults([{ kind: "status", status: 500, times: 1 }]);
    await chat();
    const ok = await chat();
    expect(ok.headers["x-ratelimit-remaining-requests"]).toBe(String(100_000 - 1));
  });
});

describe("connection faults", () => {
  it("resets the connection without a response", async () => {
    sim.setFaults([{ kind: "reset" }]);
    const r = await chat();
    expect(r.status).toBe(0);
    expect(r.error).toMatch(/ECONNRESET|socket hang up/);
    expect(sim.stats().byStatus.reset).toBe(1);
  });

  it("hangs without answering, and stop() still completes promptly", async () => {
    const h = await startSimulator({ name: "hang", apiKey: KEY, deployments: { a: { model: "gpt-4o-mini" } }, faults: [{ kind: "hang" }] });
    const pending = post(h.url, dpath("a", "chat/completions"), { messages: [] });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.stats().byStatus.hang).toBe(1);
    const t = performance.now();
    await h.stop();
    expect(performance.now() - t).toBeLessThan(1000);
    const r = await pending;
    expect(r.status).toBe(0);
    expect(r.error).toBeDefined();
  });

  it("delays the first byte, then serves normally", async () => {
    sim.setFaults([{ kind: "slow-first-byte", delayMs: 250, times: 1 }]);
    const r = await chat();
    expect(r.status).toBe(200);
    expect(r.headersAt - r.startedAt).toBeGreaterThanOrEqual(245);
    const next = await chat();
    expect(next.headersAt - next.startedAt).toBeLessThan(200);
  });
});

describe("stream faults", () => {
  it("cuts the stream after K content chunks (no [DONE], transport error)", async () => {
    sim.setFaults([{ kind: "stream-cut", afterChunks: 2 }]);
    const r = await stream();
    expect(r.status).toBe(200);
    expect(r.error).toBeDefined();
    expect(r.body).not.toContain("[DONE]");
    const contents = r.body.split("\n\n").filter((f) => f.includes('"delta":{"content":"') && !f.includes('"content":""'));
    expect(contents).toHaveLength(2);
  });

  it("leaves non-streamed requests alone", async () => {
    sim.setFaults([{ kind: "stream-cut", afterChunks: 0 }]);
    expect((await chat()).status).toBe(200);
    expect((await stream()).error).toBeDefined();
  });

  it("sends data: {\"error\":…} before any content (after the preamble) and ends without [DONE]", async () => {
    sim.setFaults([{ kind: "stream-error", afterChunks: 0, code: "content_filter_error", message: "boom" }]);
    const r = await stream();
    expect(r.status).toBe(200);
    expect(r.error).toBeUndefined();
    const frames = parseSse(r.body);
    expect(frames.map((f) => f.data)).not.toContain("[DONE]");
    const last = JSON.parse(frames.at(-1)!.data);
    expect(last.error).toMatchObject({ code: "content_filter_error", message: "boom" });
    expect(frames.slice(0, -1).every((f) => !JSON.parse(f.data).choices.some((c: any) => c.delta?.content))).toBe(true);
  });

  it("sends the error event after K content chunks", async () => {
    sim.setFaults([{ kind: "stream-error", afterChunks: 3 }]);
    const frames = parseSse((await stream()).body);
    const chunks = frames.map((f) => JSON.parse(f.data));
    expect(chunks.filter((c) => c.choices?.[0]?.delta?.content)).toHaveLength(3);
    expect(chunks.at(-1).error.code).toBe("server_error");
  });

  it("fails a Responses stream with response.failed, or an error event when asked", async () => {
    sim.setFaults([{ kind: "stream-error", afterChunks: 1, operations: ["responses"] }]);
    const a = parseSse((await post(sim.url, "/openai/v1/responses", { model: "a", input: "hi", stream: true, max_output_tokens: 5 })).body);
    expect(a.map((f) => f.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.failed",
    ]);
    const failed = JSON.parse(a.at(-1)!.data);
    expect(failed).toMatchObject({ sequence_number: 5, response: { status: "failed", error: { code: "server_error" } } });

    sim.setFaults([{ kind: "stream-error", afterChunks: 0, event: "error", code: "too_many_requests", operations: ["responses"] }]);
    const b = parseSse((await post(sim.url, "/openai/v1/responses", { model: "a", input: "hi", stream: true })).body);
    expect(b.at(-1)!.event).toBe("error");
    expect(JSON.parse(b.at(-1)!.data)).toMatchObject({ type: "error", code: "too_many_requests", sequence_number: 4 });
  });
});

describe("fault control over HTTP", () => {
  const admin = (method: string, body?: unknown, key = KEY) => raw(sim.url, "/++/faults", { method, body, headers: { "api-key": key } });

  it("sets, lists and clears faults", async () => {
    const set = await admin("POST", { faults: [{ kind: "status", status: 500, times: 1 }] });
    expect(set.status).toBe(200);
    expect(set.json().faults).toEqual([{ kind: "status", status: 500, times: 1, remaining: 1 }]);
    expect((await chat()).status).toBe(500);
    expect((await admin("GET")).json().faults[0].remaining).toBe(0);
    await admin("POST", { kind: "status", status: 503 });
    expect((await chat()).status).toBe(503);
    expect((await admin("DELETE")).status).toBe(200);
    expect((await chat()).status).toBe(200);
  });

  it("rejects invalid faults with 400 and every problem listed", async () => {
    const r = await admin("POST", [{ kind: "explode" }, { kind: "status" }]);
    expect(r.status).toBe(400);
    expect(r.json().error.message).toMatch(/faults\[0\]\.kind.*faults\[1\]\.status/);
    expect(() => sim.setFaults([{ kind: "status", status: 200 }])).toThrow(/status/);
  });

  it("requires the api key", async () => {
    expect((await admin("DELETE", undefined, "wrong")).status).toBe(401);
  });
});
