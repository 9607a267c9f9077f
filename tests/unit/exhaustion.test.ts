// exhaustion: the client's answer when every backend failed or is cooling, in Node and under LuaJIT;
// plus the Lua (status, body, headers) form.
import { describe, expect, it } from "vitest";
import * as ex from "../../plugins/lib/exhaustion.ts";
import { callLua } from "../helpers/lua.ts";
import { dualHost } from "./lib/dual-host.ts";
import type { DualCase } from "./lib/dual-host.ts";

const NOW = 1_768_000_000_000;
const opts = { now_ms: NOW, default_retry_ms: 10000, max_wait_ms: 0, waited_ms: 0 };

type Rec = { backend: string; kind: string; status?: number; cool_until_ms?: number; skipped?: boolean };
const t429 = (b: string, ms?: number): Rec => ({ backend: b, kind: "throttled", status: 429, cool_until_ms: ms === undefined ? undefined : NOW + ms });
const skip = (b: string, kind: string, ms: number): Rec => ({ backend: b, kind, skipped: true, cool_until_ms: NOW + ms });
const fail = (b: string, kind: string, status?: number, ms?: number): Rec => ({ backend: b, kind, status, cool_until_ms: ms === undefined ? undefined : NOW + ms });

function answer(status: number, message: string, retryMs?: number) {
  const headers: Record<string, string> = {};
  if (retryMs !== undefined) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryMs / 1000)));
    headers["retry-after-ms"] = String(retryMs);
  }
  return { action: "answer", status, retry_after_ms: retryMs, headers, message, type: status === 429 ? "rate_limit_exceeded" : "server_error", code: String(status) };
}

const reserveSkip = (b: string, ms: number, below: string, value: number) => ({ ...skip(b, "throttled", ms), reserve: { below, value } });
const withReason = (a: ReturnType<typeof answer>, reason: string, value: string) => ({ ...a, headers: { ...a.headers, "x-gw-ratelimit-reason": reason, "x-gw-ratelimit-value": value } });

const cases: DualCase[] = [
  { name: "low priority, every backend below its reserve: 429 with the lane's reason and value", args: [[reserveSkip("alpha", 900, "tokens", 2900), reserveSkip("beta", 400, "requests", 2)], opts],
    expected: withReason(answer(429, "Low-priority requests are paused: every backend is keeping its remaining capacity for high-priority traffic. Please retry after 1 second.", 400), "requests-below-low-priority-threshold", "2") },
  { name: "low priority, one below its reserve, one cooling from a 429", args: [[skip("alpha", "throttled", 3000), reserveSkip("beta", 700, "tokens", 120)], opts],
    expected: withReason(answer(429, "No backend has room for low-priority requests now: the others are rate limited or failing. Please retry after 1 second.", 700), "tokens-below-low-priority-threshold", "120") },
  { name: "low priority, one below its reserve, one cooling after errors: still the lane's 429", args: [[skip("alpha", "server_error", 5000), reserveSkip("beta", 900, "requests", 1)], opts],
    expected: withReason(answer(429, "No backend has room for low-priority requests now: the others are rate limited or failing. Please retry after 1 second.", 900), "requests-below-low-priority-threshold", "1") },
  { name: "all 429: Retry-After to the earliest recovery", args: [[t429("alpha", 4200), t429("beta", 9000)], opts],
    expected: answer(429, "All backends of this gateway are rate limited. Please retry after 5 seconds.", 4200) },
  { name: "429 plus skips of throttled backends", args: [[skip("alpha", "throttled", 30000), t429("beta", 1500)], opts],
    expected: answer(429, "All backends of this gateway are rate limited. Please retry after 2 seconds.", 1500) },
  { name: "a 429 without cool_until uses the default", args: [[t429("alpha")], opts],
    expected: answer(429, "All backends of this gateway are rate limited. Please retry after 10 seconds.", 10000) },
  { name: "sub-second recovery: Retry-After 1", args: [[t429("alpha", 300)], opts],
    expected: answer(429, "All backends of this gateway are rate limited. Please retry after 1 second.", 300) },
  { name: "fractional ms rounded up", args: [[t429("alpha", 999.2)], opts],
    expected: answer(429, "All backends of this gateway are rate limited. Please retry after 1 second.", 1000) },
  { name: "recovery already past: retry in 1 s", args: [[t429("alpha", -50)], opts],
    expected: answer(429, "All backends of this gateway are rate limited. Please retry after 1 second.", 1000) },
  { name: "max_wait_ms covers the recovery: wait", args: [[t429("alpha", 800), t429("beta", 5000)], { ...opts, max_wait_ms: 1000 }],
    expected: { action: "wait", wait_ms: 800 } },
  { name: "waits add up against max_wait_ms", args: [[t429("alpha", 800)], { ...opts, max_wait_ms: 1000, waited_ms: 500 }],
    expected: answer(429, "All backends of this gateway are rate limited. Please retry after 1 second.", 800) },
  { name: "no wait for failures", args: [[t429("alpha", 800), fail("beta", "server_error", 500)], { ...opts, max_wait_ms: 5000 }],
    expected: answer(503, "No backend of this gateway can serve the request now (1 rate limited, 1 failing). Please retry after 1 second.", 800) },
  { name: "429 mixed with a timeout: 503", args: [[t429("alpha", 6000), fail("beta", "timeout")], opts],
    expected: answer(503, "No backend of this gateway can serve the request now (1 rate limited, 1 failing). Please retry after 6 seconds.", 6000) },
  { name: "mixed: earliest recovery may be an error cooldown", args: [[t429("alpha", 6000), skip("beta", "server_error", 2000)], opts],
    expected: answer(503, "No backend of this gateway can serve the request now (1 rate limited, 1 failing). Please retry after 2 seconds.", 2000) },
  { name: "only error-cooled skips: 503", args: [[skip("alpha", "server_error", 3000), skip("beta", "connect_error", 4000)], opts],
    expected: answer(503, "All backends of this gateway are temporarily unavailable after repeated errors. Please retry after 3 seconds.", 3000) },
  { name: "all timed out: 504", args: [[fail("alpha", "timeout"), fail("beta", "timeout")], opts],
    expected: answer(504, "All backends of this gateway timed out (2 attempts).") },
  { name: "timeouts plus an error-cooled skip: 504", args: [[fail("alpha", "timeout"), skip("beta", "server_error", 3000)], opts],
    expected: answer(504, "All backends of this gateway timed out (1 attempt).") },
  { name: "5xx: 502", args: [[fail("alpha", "server_error", 500), fail("beta", "server_error", 503)], opts],
    expected: answer(502, "No backend of this gateway returned a usable response (2 attempts failed).") },
  { name: "connect errors: 502", args: [[fail("alpha", "connect_error")], opts],
    expected: answer(502, "No backend of this gateway returned a usable response (1 attempt failed).") },
  { name: "timeout plus 5xx: 502", args: [[fail("alpha", "timeout"), fail("beta", "server_error", 502)], opts],
    expected: answer(502, "No backend of this gateway returned a usable response (2 attempts failed).") },
  { name: "no records: 503 without Retry-After", args: [[], opts], expected: answer(503, "No backend is available for this request.") },
  { name: "an attempt answered (client error): none", args: [[t429("alpha", 1000), fail("beta", "client_error", 400)], opts], expected: { action: "none" } },
  { name: "an attempt succeeded: none", args: [[fail("alpha", "server_error", 500), fail("beta", "ok", 200)], opts], expected: { action: "none" } },
];

const trails: DualCase[] = [
  { name: "trail", args: [[t429("ptu1", 1), skip("payg1", "throttled", 1), fail("payg2", "timeout")]], expected: "ptu1=429 payg1=cooling(throttled) payg2=timeout" },
  { name: "empty trail", args: [[]], expected: "" },
];

dualHost("decideExhaustion", "lib.exhaustion", "decideExhaustion", ex.decideExhaustion, cases);
dualHost("attemptTrail", "lib.exhaustion", "attemptTrail", ex.attemptTrail, trails);

describe("exhaustion answers carry no backend names", () => {
  it("no message mentions a backend, host or URL", () => {
    for (const c of cases) {
      const result = ex.decideExhaustion(c.args[0] as never, c.args[1] as never);
      if (result.action !== "answer") continue;
      for (const r of c.args[0] as Rec[]) expect(result.message).not.toContain(r.backend);
      expect(result.message).not.toMatch(/https?:|\.azure\.com/);
    }
  });
});

describe("exhaustionResponse (LuaJIT)", () => {
  it("gives status, an OpenAI-shape body with param null, and the headers", () => {
    const decision = ex.decideExhaustion([t429("alpha", 4200)] as never, opts);
    const [status, body, headers] = callLua("lib.exhaustion-response", "exhaustionResponse", decision);
    expect(status).toBe(429);
    expect(body).toEqual({
      error: {
        message: "All backends of this gateway are rate limited. Please retry after 5 seconds.",
        type: "rate_limit_exceeded",
        param: null,
        code: "429",
      },
    });
    expect(headers).toEqual({ "retry-after": "5", "retry-after-ms": "4200" });
  });
});
