// The fault kinds `spillway chaos` added: each form of a 429's retry signal, a reset in the middle of the header
// block, and a 200 whose JSON body is broken.
import { createConnection } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type SimulatorHandle } from "../../scripts/simulator/index.ts";
import { KEY, dpath, post, raw } from "./helpers.ts";

let sim: SimulatorHandle;
const chat = (extra: Record<string, unknown> = {}) => post(sim.url, dpath("a", "chat/completions"), { messages: [{ role: "user", content: "hi" }], max_tokens: 4, ...extra });

beforeAll(async () => {
  sim = await startSimulator({ name: "chaotic", apiKey: KEY, latency: { streamIntervalMs: 5 }, deployments: { a: { model: "gpt-4o-mini" } } });
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.clearFaults();
  sim.reset();
});

const SIGNALS = ["retry-after", "retry-after-ms", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"];

describe("429 retry signals", () => {
  it.each([
    [["retry-after-ms"], { "retry-after-ms": "2500" }],
    [["retry-after"], { "retry-after": "3" }],
    [["x-ratelimit-reset-requests"], { "x-ratelimit-reset-requests": "3" }],
    [["x-ratelimit-reset-tokens"], { "x-ratelimit-reset-tokens": "3" }],
    [[], {}],
  ] as const)("carries only %j when asked", async (forms, expected) => {
    sim.setFaults([{ kind: "status", status: 429, retryAfterMs: 2500, retryHeaders: [...forms] }]);
    const r = await chat();
    expect(r.status).toBe(429);
    const present = Object.fromEntries(SIGNALS.filter((h) => r.headers[h] !== undefined).map((h) => [h, r.headers[h]]));
    expect(present).toEqual(expected);
    expect(r.json().error.code).toBe("429");
  });

  it("keeps Azure's usual set when retryHeaders is absent", async () => {
    sim.setFaults([{ kind: "status", status: 429, retryAfterMs: 1200 }]);
    const r = await chat();
    expect([r.headers["retry-after"], r.headers["retry-after-ms"], r.headers["x-ratelimit-reset-tokens"], r.headers["x-ratelimit-reset-requests"]]).toEqual(["2", "1200", "2", undefined]);
  });

  it("rejects an unknown retry signal", () => {
    expect(() => sim.setFaults([{ kind: "status", status: 429, retryHeaders: ["x-wait" as never] }])).toThrow(/retryHeaders/);
  });
});

describe("reset-mid-headers", () => {
  it("sends a status line and part of the headers, then resets: the client sees no complete response", async () => {
    sim.setFaults([{ kind: "reset-mid-headers" }]);
    const r = await chat();
    expect(r.status).toBe(0);
    expect(r.error).toMatch(/ECONNRESET|HPE_|socket hang up|aborted/);
    expect(sim.stats().byStatus.reset).toBe(1);
  });

  it("puts the bytes of an unfinished header block on the wire before the reset", async () => {
    sim.setFaults([{ kind: "reset-mid-headers", times: 1 }]);
    const body = JSON.stringify({ messages: [{ role: "user", content: "hi" }] });
    const wire = await new Promise<string>((resolve) => {
      let got = "";
      const sock = createConnection({ host: "127.0.0.1", port: sim.port }, () => {
        sock.write(`POST ${dpath("a", "chat/completions")} HTTP/1.1\r\nhost: x\r\napi-key: ${KEY}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      });
      sock.on("data", (d) => (got += d.toString()));
      sock.on("error", () => resolve(got));
      sock.on("close", () => resolve(got));
    });
    expect(wire).toMatch(/^HTTP\/1\.1 200 OK\r\nx-sim-instance: chaotic\r\n/);
    expect(wire).not.toContain("\r\n\r\n");
    expect((await chat()).status).toBe(200);
  });
});

describe("invalid-json", () => {
  it("answers 200 application/json with a body that does not parse, streamed or not", async () => {
    sim.setFaults([{ kind: "invalid-json" }]);
    for (const extra of [{}, { stream: true }]) {
      const r = await chat(extra);
      expect(r.status).toBe(200);
      expect(r.headers["content-type"]).toMatch(/^application\/json/);
      expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(r.body));
      expect(() => JSON.parse(r.body)).toThrow();
    }
    expect(sim.stats().faults).toBe(2);
  });

  it("can be set over HTTP and counted down like any fault", async () => {
    const set = await raw(sim.url, "/++/faults", { method: "POST", body: { kind: "invalid-json", times: 1 }, headers: { "api-key": KEY } });
    expect(set.status).toBe(200);
    const broken = (await chat()).body;
    expect(() => JSON.parse(broken)).toThrow();
    expect((await chat()).json().object).toBe("chat.completion");
  });
});

describe("request log outcome", () => {
  it("records how each request was answered: its status, or the connection fault", async () => {
    sim.setFaults([{ kind: "status", status: 429, times: 1 }, { kind: "reset", times: 1 }]);
    await chat();
    await chat();
    await chat();
    expect(sim.requests().map((r) => r.outcome)).toEqual([429, "reset", 200]);
  });
});
