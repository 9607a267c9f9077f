// SSE framing as the real Azure API sends it, and stream / latency timing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { KEY, dpath, parseSse, post } from "./helpers.ts";

let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({
    name: "sse",
    apiKey: KEY,
    latency: { streamIntervalMs: 0 },
    deployments: {
      fast: { model: "gpt-4o-mini" },
      paced: { model: "gpt-4o-mini", latency: { streamIntervalMs: 40 } },
      slow: { model: "gpt-4o-mini", latency: { perTokenMs: 20, baseMs: 50 } },
      emb: { model: "text-embedding-3-small", latency: { embeddingsMs: 120 } },
    },
  });
});
afterAll(() => sim.stop());

const chatStream = (deployment: string, extra: Record<string, unknown> = {}) =>
  post(sim.url, dpath(deployment, "chat/completions"), { messages: [{ role: "user", content: "hi" }], stream: true, max_tokens: 5, ...extra });

describe("chat completion stream framing", () => {
  it("is text/event-stream, data frames ending in a blank line, and data: [DONE] last", async () => {
    const r = await chatStream("fast");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(r.headers["x-sim-instance"]).toBe("sse");
    expect(r.headers["x-ratelimit-remaining-tokens"]).toBeDefined();
    expect(r.body.endsWith("data: [DONE]\n\n")).toBe(true);
    const frames = parseSse(r.body);
    expect(frames.every((f) => f.event === undefined)).toBe(true);
    expect(frames.filter((f) => f.data === "[DONE]")).toHaveLength(1);
  });

  it("keeps one id, reports model, puts finish_reason on the choice, and concatenates to the text", async () => {
    const frames = parseSse((await chatStream("fast")).body);
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "gpt-4o-mini" && !("model_name" in c))).toBe(true);
    expect(chunks[0]).toMatchObject({ choices: [], prompt_filter_results: [{ prompt_index: 0 }] });
    expect(chunks[1].choices[0]).toMatchObject({ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null });
    const content = chunks.slice(2, -1);
    expect(content).toHaveLength(5);
    for (const c of content) {
      expect(c.choices[0].finish_reason).toBeNull();
      expect(c.choices[0].delta).not.toHaveProperty("finish_reason");
    }
    expect(chunks.at(-1).choices[0]).toMatchObject({ delta: {}, finish_reason: "length" });
    expect(content.map((c) => c.choices[0].delta.content).join("").split(" ")).toHaveLength(5);
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it("sends a final usage chunk (no choices) before [DONE] when stream_options.include_usage is true", async () => {
    const frames = parseSse((await chatStream("fast", { stream_options: { include_usage: true } })).body);
    const usage = JSON.parse(frames.at(-2)!.data);
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 5, total_tokens: 13 });
    expect(JSON.parse(frames.at(-3)!.data).choices[0].finish_reason).toBe("length");
  });

  it("streams completions the same way, with [DONE] and an optional usage chunk", async () => {
    const r = await post(sim.url, dpath("fast", "completions"), { prompt: "Once upon a time", max_tokens: 3, stream: true, stream_options: { include_usage: true } });
    const frames = parseSse(r.body);
    expect(frames.at(-1)!.data).toBe("[DONE]");
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.at(-1).usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 3 });
    expect(chunks.at(-2).choices[0].finish_reason).toBe("length");
  });

  it("counts streamed responses in the stats", async () => {
    const before = sim.stats().streamed;
    await chatStream("fast");
    expect(sim.stats().streamed).toBe(before + 1);
  });
});

describe("timing", () => {
  it("spaces content chunks by the configured interval", async () => {
    const r = await chatStream("paced", { max_tokens: 6 });
    // One time per content frame (frames read together share the reading's time).
    const contentTimes = r.chunks.flatMap((c) => c.text.split("\n\n").filter((f) => f.includes('"delta":{"content":"')).map(() => c.at));
    expect(contentTimes).toHaveLength(6);
    // Client-side arrival times: a busy event loop can delay one reading, so bound the whole span and the mean gap.
    const span = contentTimes.at(-1)! - contentTimes[0]!;
    expect(span).toBeGreaterThanOrEqual(5 * 40 * 0.85);
    expect(span / 5).toBeLessThan(80);
    const gaps = contentTimes.slice(1).map((t, i) => t - contentTimes[i]!).sort((a, b) => a - b);
    expect(gaps[2]).toBeGreaterThanOrEqual(30);
    expect(gaps[2]).toBeLessThan(80);
  });

  it("sends the headers with the preamble, then waits one interval before the first content chunk", async () => {
    const r = await chatStream("paced", { max_tokens: 1 });
    const first = r.chunks.find((c) => c.text.includes('"content":"') && !c.text.includes('"content":""'))!;
    expect(r.chunks[0]!.text).toContain('"role":"assistant"');
    expect(r.chunks[0]!.text).not.toContain('"delta":{"content"');
    expect(first.at - r.startedAt).toBeGreaterThanOrEqual(35);
  });

  it("waits base + per-token × completion tokens before the first byte", async () => {
    const r = await post(sim.url, dpath("slow", "chat/completions"), { messages: [{ role: "user", content: "hi" }], max_tokens: 5 });
    expect(r.status).toBe(200);
    const ttfb = r.headersAt - r.startedAt;
    expect(ttfb).toBeGreaterThanOrEqual(145);
    expect(ttfb).toBeLessThan(1000);
  });

  it("applies embeddings latency per request", async () => {
    const r = await post(sim.url, dpath("emb", "embeddings"), { input: "hello" });
    expect(r.status).toBe(200);
    expect(r.headersAt - r.startedAt).toBeGreaterThanOrEqual(115);
  });

  it("answers fast deployments without added delay", async () => {
    const r = await post(sim.url, dpath("fast", "chat/completions"), { messages: [{ role: "user", content: "hi" }], max_tokens: 50 });
    expect(r.headersAt - r.startedAt).toBeLessThan(150);
  });
});
