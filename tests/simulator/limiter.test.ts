// Rate limiter: upstream's sliding window exactly (reference aoai-simulator.md §2.6), unit and over HTTP with a fake clock.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fakeClock, startSimulator, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { rateLimitCost, requestsPer10s, TokensPerMinuteWindow } from "../../scripts/simulator/limiter.ts";
import { KEY, dpath, post, raw } from "./helpers.ts";

const S = 1000; // the worked examples are in seconds; the window takes ms

function accept(w: TokensPerMinuteWindow, cost: number, t: number): { remainingTokens: number; remainingRequests: number } {
  const r = w.add(cost, t * S);
  if (!r.success) throw new Error(`rejected at t=${t}`);
  return { remainingTokens: r.remainingTokens, remainingRequests: r.remainingRequests };
}

describe("sliding window (unit, upstream's cases)", () => {
  it("reports remaining tokens and requests including the request itself", () => {
    const w = new TokensPerMinuteWindow(10, 100);
    expect(accept(w, 5, 1)).toEqual({ remainingTokens: 95, remainingRequests: 9 });
    for (let t = 2; t <= 10; t++) accept(w, 5, t);
    // t=11: the t=1 request left the 10 s window but its tokens still count in the 60 s one.
    expect(accept(w, 5, 11)).toEqual({ remainingTokens: 45, remainingRequests: 0 });
  });

  it("rejects the 11th request in 10 s with reason requests and N = 7", () => {
    const w = new TokensPerMinuteWindow(10, 100);
    accept(w, 5, 2);
    for (let i = 0; i < 8; i++) accept(w, 5, 3);
    accept(w, 5, 4);
    expect(w.add(5, 5 * S)).toEqual({ success: false, reason: "requests", retryAfter: 7 });
  });

  it("computes N = 20 / 30 / 50 for costs 20 / 40 / 100 after 20, 20, 20, 40", () => {
    const w = new TokensPerMinuteWindow(10, 100);
    accept(w, 20, 10);
    accept(w, 20, 20);
    accept(w, 20, 30);
    accept(w, 40, 40);
    expect(w.add(20, 50 * S)).toEqual({ success: false, reason: "tokens", retryAfter: 20 });
    expect(w.add(40, 50 * S)).toEqual({ success: false, reason: "tokens", retryAfter: 30 });
    expect(w.add(100, 50 * S)).toEqual({ success: false, reason: "tokens", retryAfter: 50 });
  });

  it("gives the same N when the total overflows rather than hits TPM (24 × 4)", () => {
    const w = new TokensPerMinuteWindow(10, 100);
    for (const t of [10, 20, 30, 40]) accept(w, 24, t);
    expect(w.add(20, 50 * S)).toMatchObject({ success: false, retryAfter: 20 });
    expect(w.add(40, 50 * S)).toMatchObject({ success: false, retryAfter: 30 });
    expect(w.add(100, 50 * S)).toMatchObject({ success: false, retryAfter: 50 });
  });

  it("blocks a second full-TPM request until the first ages out (N = 50)", () => {
    const w = new TokensPerMinuteWindow(10, 100);
    accept(w, 100, 10);
    expect(w.add(100, 20 * S)).toEqual({ success: false, reason: "tokens", retryAfter: 50 });
  });

  it("records only accepted requests, and entries older than 60 s stop counting", () => {
    const w = new TokensPerMinuteWindow(10, 100);
    accept(w, 90, 0);
    for (let i = 0; i < 5; i++) expect(w.add(20, 1 * S).success).toBe(false);
    expect(accept(w, 10, 2)).toEqual({ remainingTokens: 0, remainingRequests: 8 });
    expect(accept(w, 100, 62)).toEqual({ remainingTokens: 0, remainingRequests: 9 });
  });

  it("answers 60 s, not a crash, for one request larger than TPM on an empty window", () => {
    expect(new TokensPerMinuteWindow(10, 100).add(101, 0)).toEqual({ success: false, reason: "tokens", retryAfter: 60 });
  });

  it("sustains 100k TPM at 200 tokens per request: 500 fit in 50 s, then 10 s of 429, then room again", () => {
    const w = new TokensPerMinuteWindow(100, 100_000);
    let t = 1_700_000_000_000;
    for (let i = 0; i < 500; i++, t += 100.001) expect(w.add(200, t).success).toBe(true);
    expect(w.add(200, t)).toEqual({ success: false, reason: "tokens", retryAfter: 10 });
    for (let i = 0; i < 100; i++, t += 100.001) expect(w.add(200, t).success).toBe(false);
    expect(w.add(200, t).success).toBe(true);
  });

  it("derives requests per 10 s as ceil(TPM / 1000)", () => {
    expect([1000, 1001, 60_000, 100_000_000].map(requestsPer10s)).toEqual([1, 2, 60, 100_000]);
  });
});

describe("rate-limit cost", () => {
  it("is max_tokens / max_completion_tokens / max_output_tokens when set", () => {
    expect(rateLimitCost("chat", { max_tokens: 1000 })).toBe(1000);
    expect(rateLimitCost("chat", { max_completion_tokens: 77 })).toBe(77);
    expect(rateLimitCost("responses", { max_output_tokens: 300 })).toBe(300);
  });
  it("is 16 for chat, completions and responses without a max", () => {
    expect([rateLimitCost("chat", {}), rateLimitCost("completions", { max_tokens: 0 }), rateLimitCost("responses", {})]).toEqual([16, 16, 16]);
  });
  it("is ceil(chars / 4) per embeddings input", () => {
    expect(rateLimitCost("embeddings", { input: "x".repeat(974) })).toBe(244);
    expect(rateLimitCost("embeddings", { input: ["abcde", "abc"] })).toBe(3);
  });
});

describe("limiter over HTTP (fake clock)", () => {
  const clock = fakeClock(1_700_000_000_000);
  let sim: SimulatorHandle;
  const t0 = clock.now();
  const at = (seconds: number): void => clock.set(t0 + seconds * S);
  // TPM 10,000 gives rp10s 10, so the worked examples apply with costs × 100.
  const chat = (maxTokens: number) => post(sim.url, dpath("d10k", "chat/completions"), { messages: [{ role: "user", content: "hi" }], max_tokens: maxTokens });

  beforeAll(async () => {
    sim = await startSimulator({ name: "lim", apiKey: KEY, clock, deployments: { d10k: { model: "gpt-4o-mini", tpm: 10_000 }, other: { model: "gpt-4o-mini", tpm: 10_000 } } });
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.reset());

  it("sends x-ratelimit-remaining-* on every success", async () => {
    at(0);
    const r = await chat(5);
    expect(r.status).toBe(200);
    expect(r.headers["x-ratelimit-remaining-tokens"]).toBe("9995");
    expect(r.headers["x-ratelimit-remaining-requests"]).toBe("9");
    expect(r.headers["x-ratelimit-limit-tokens"]).toBe("10000");
    expect(r.headers["x-ratelimit-limit-requests"]).toBe("10");
  });

  it("answers the 11th request in 10 s with 429, reason requests, Retry-After 7", async () => {
    at(2);
    await chat(5);
    at(3);
    for (let i = 0; i < 8; i++) expect((await chat(5)).status).toBe(200);
    at(4);
    expect((await chat(5)).headers["x-ratelimit-remaining-requests"]).toBe("0");
    at(5);
    const r = await chat(5);
    expect(r.status).toBe(429);
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    expect(r.headers["retry-after"]).toBe("7");
    expect(r.headers["retry-after-ms"]).toBe("7000");
    expect(r.headers["x-ratelimit-reset-requests"]).toBe("7");
    expect(r.headers["x-ratelimit-reset-tokens"]).toBeUndefined();
    expect(r.headers["x-ratelimit-remaining-tokens"]).toBeUndefined();
    expect(r.json().error.code).toBe("429");
    expect(r.json().error.message).toMatch(/ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit.*retry after 7 seconds/);
  });

  it("answers token rejections with N = 20 / 30 / 50 and x-ratelimit-reset-tokens", async () => {
    for (const [t, cost] of [[10, 2000], [20, 2000], [30, 2000], [40, 4000]] as const) {
      at(t);
      expect((await chat(cost)).status).toBe(200);
    }
    at(50);
    for (const [cost, n] of [[2000, "20"], [4000, "30"], [10000, "50"]] as const) {
      const r = await chat(cost);
      expect(r.status).toBe(429);
      expect([r.headers["retry-after"], r.headers["x-ratelimit-reset-tokens"], r.headers["retry-after-ms"]]).toEqual([n, n, `${n}000`]);
      expect(r.json().error.message).toMatch(/exceeded token rate limit/);
    }
    // Rejected requests consumed nothing: at t=70 the t=10 entry is gone and 2000 fits exactly.
    at(70);
    const ok = await chat(2000);
    expect(ok.status).toBe(200);
    expect(ok.headers["x-ratelimit-remaining-tokens"]).toBe("0");
  });

  it("keeps a window per deployment", async () => {
    at(0);
    expect((await chat(10_000)).status).toBe(200);
    expect((await chat(1)).status).toBe(429);
    const other = await post(sim.url, dpath("other", "chat/completions"), { messages: [], max_tokens: 1 });
    expect(other.status).toBe(200);
    expect(other.headers["x-ratelimit-remaining-tokens"]).toBe("9999");
  });

  it("empties the windows on PATCH /++/config, as upstream rebuilds its limiters", async () => {
    at(0);
    expect((await chat(10_000)).status).toBe(200);
    expect((await chat(1)).status).toBe(429);
    const patch = await raw(sim.url, "/++/config", { method: "PATCH", headers: { "api-key": KEY }, body: { latency: { open_ai_chat_completions: { mean: 0 } } } });
    expect(patch.status).toBe(200);
    const r = await chat(1);
    expect(r.status).toBe(200);
    expect(r.headers["x-ratelimit-remaining-tokens"]).toBe("9999");
  });

  it("charges embeddings ceil(chars / 4) and chat 16 without max_tokens", async () => {
    const emb = await startSimulator({ name: "lim-emb", apiKey: KEY, clock, deployments: { e: { model: "text-embedding-ada-002", tpm: 10_000 }, c: { model: "gpt-35-turbo", tpm: 10_000 } } });
    try {
      const e = await post(emb.url, dpath("e", "embeddings"), { input: "x".repeat(974) });
      expect(e.headers["x-ratelimit-remaining-tokens"]).toBe(String(10_000 - 244));
      const c = await post(emb.url, dpath("c", "chat/completions"), { messages: [{ role: "user", content: "hi" }] });
      expect(c.headers["x-ratelimit-remaining-tokens"]).toBe(String(10_000 - 16));
    } finally {
      await emb.stop();
    }
  });
});

describe("TokensPerMinuteWindow at load", () => {
  it("counts the 10 s window exactly while it slides over many entries", () => {
    // 20k requests per 10 s allowed; 1 request per ms for 25 s.
    const w = new TokensPerMinuteWindow(20_000, 1_000_000_000);
    let last: ReturnType<TokensPerMinuteWindow["add"]> | undefined;
    for (let t = 0; t < 25_000; t++) last = w.add(1, t);
    // At t = 24,999 the window (t - 10 s, t] holds 10,000 entries including this one.
    expect(last).toEqual({ success: true, remainingTokens: 1_000_000_000 - 25_000, remainingRequests: 20_000 - 10_000, limitTokens: 1_000_000_000, limitRequests: 20_000 });
    // A clock that goes back to 20 s counts every entry after 10 s again: 14,999 of them, plus this request.
    const back = w.add(1, 20_000);
    expect(back).toMatchObject({ success: true, remainingRequests: 20_000 - 15_000 });
  });
});
