// `spillway chaos`'s judgement, without a gateway: what counts as a good end of a request, the run-level checks
// (Retry-After against the earliest recovery, the request ledger, captures, the error log) and the schedule.
import { describe, expect, it } from "vitest";
import { chaosConfigYaml } from "../../scripts/chaos/gateway.ts";
import { checkCaptures, checkErrorLog, checkRetryAfter, earliestRecovery, ledger, readAccessLog, summarizePhase, WARMUP_ID } from "../../scripts/chaos/checks.ts";
import { planFromFlags, requestDeadlineMs } from "../../scripts/chaos/options.ts";
import { BACKEND_COUNT, mixedDraw, phaseLengths, schedule } from "../../scripts/chaos/phases.ts";
import type { Outcome } from "../../scripts/chaos/traffic.ts";
import { addChunk, checkBackendLabel, judgeChat, judgeStream, newStreamFacts, type Seen, type Verdict } from "../../scripts/chaos/verdict.ts";
import type { RecordedRequest } from "../../scripts/simulator/types.ts";

const JSON_CT = { "content-type": "application/json" };
const SSE_CT = { "content-type": "text/event-stream" };
const seen = (status: number, headers: Record<string, string>, body: string, extra: Partial<Seen> = {}): Seen => ({ status, headers, body, timedOut: false, ...extra });
const completion = (tokens: number) => JSON.stringify({ id: "chatcmpl-a", object: "chat.completion", choices: [{ message: { content: "w ".repeat(tokens) } }], usage: { completion_tokens: tokens } });
const chunk = (id: string, delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id, choices: [{ delta, finish_reason: null }], ...extra })}\n\n`;
const preamble = (id: string) => `data: ${JSON.stringify({ id, choices: [], prompt_filter_results: [] })}\n\n${chunk(id, { role: "assistant", content: "" })}`;
const content = (id: string, n: number) => Array.from({ length: n }, () => chunk(id, { content: "w" })).join("");
const finish = (id: string) => `data: ${JSON.stringify({ id, choices: [{ delta: {}, finish_reason: "length" }] })}\n\ndata: [DONE]\n\n`;
const errorEvent = 'data: {"error":{"code":"server_error","message":"broken","type":"server_error"}}\n\n';
const reason = (v: Verdict) => (v.kind === "miss" ? v.reason : v.kind);

describe("one request's verdict", () => {
  it("takes a complete chat completion and a complete stream as answers", () => {
    expect(judgeChat(seen(200, JSON_CT, completion(3)), false, 3).kind).toBe("answer");
    expect(judgeChat(seen(200, SSE_CT, preamble("a") + content("a", 3) + finish("a")), true, 3).kind).toBe("answer");
  });

  it("calls a stream with two completion ids, or two preambles, spliced", () => {
    expect(reason(judgeChat(seen(200, SSE_CT, preamble("a") + content("a", 1) + content("b", 2) + finish("b")), true, 3))).toBe("spliced");
    expect(reason(judgeChat(seen(200, SSE_CT, preamble("a") + content("a", 1) + preamble("a") + content("a", 2) + finish("a")), true, 3))).toBe("spliced");
  });

  it("accepts an error event after content, and misses one before any content", () => {
    expect(judgeChat(seen(200, SSE_CT, preamble("a") + content("a", 2) + errorEvent), true, 3).kind).toBe("sse-error");
    expect(reason(judgeChat(seen(200, SSE_CT, preamble("a") + errorEvent), true, 3))).toBe("sse-error-early");
  });

  it("calls a stream that ends with neither [DONE] nor an error event cut, and a short one invalid", () => {
    expect(reason(judgeChat(seen(200, SSE_CT, preamble("a") + content("a", 2), { transportError: "aborted mid-body" }), true, 3))).toBe("cut");
    expect(reason(judgeChat(seen(200, SSE_CT, preamble("a") + content("a", 2) + finish("a")), true, 3))).toBe("invalid-answer");
  });

  it("misses a 200 whose body is not what was asked for", () => {
    expect(reason(judgeChat(seen(200, JSON_CT, '{"id":"chatcmpl-x","choices":[{"message":{"content":"cut'), false, 3))).toBe("invalid-answer");
    expect(reason(judgeChat(seen(200, JSON_CT, completion(3)), true, 3))).toBe("invalid-answer");
  });

  it("takes an OpenAI- or Azure-shaped JSON error with a failover status, and a 429 only with Retry-After", () => {
    const openai = JSON.stringify({ error: { message: "no backend", type: "server_error", code: "502" } });
    expect(judgeChat(seen(502, JSON_CT, openai), false, 3)).toEqual({ kind: "error", status: 502 });
    expect(judgeChat(seen(429, { ...JSON_CT, "retry-after": "2", "retry-after-ms": "1500" }, openai), false, 3)).toEqual({ kind: "error", status: 429, retryAfterS: 2, retryAfterMs: 1500 });
    expect(reason(judgeChat(seen(429, JSON_CT, openai), false, 3))).toBe("no-retry-after");
    expect(reason(judgeChat(seen(500, JSON_CT, openai), false, 3))).toBe("bad-status");
  });

  it("misses nginx's HTML pages and APISIX's own error bodies", () => {
    const html = "<html>\n<head><title>400 Request Header Or Cookie Too Large</title></head>";
    expect(reason(judgeChat(seen(400, { "content-type": "text/html" }, html), false, 3, [400]))).toBe("html");
    expect(reason(judgeChat(seen(404, { "content-type": "text/plain" }, '{"error_msg":"404 Route Not Found"}'), false, 3, [404]))).toBe("malformed-error");
    expect(reason(judgeChat(seen(400, JSON_CT, '{"message":"could not parse JSON request body"}'), false, 3, [400]))).toBe("malformed-error");
  });

  it("calls a request still open at its deadline a hang, and one without a response no answer", () => {
    expect(reason(judgeChat(seen(0, {}, "", { timedOut: true }), false, 3))).toBe("hang");
    expect(reason(judgeChat(seen(0, {}, "", { transportError: "ECONNRESET" }), false, 3))).toBe("no-answer");
  });

  it("misses an answer whose x-gw-backend names another backend than the simulator that wrote it", () => {
    const simulatorOf = (b: string) => ({ east: "east", "north-renamed": "north", north: "north" })[b];
    expect(checkBackendLabel({ kind: "answer" }, { "x-gw-backend": "north-renamed", "x-sim-instance": "north" }, simulatorOf).kind).toBe("answer");
    expect(reason(checkBackendLabel({ kind: "answer" }, { "x-gw-backend": "east", "x-sim-instance": "north" }, simulatorOf))).toBe("wrong-backend");
  });

  it("reads SDK chunks the same way as raw SSE", () => {
    const f = newStreamFacts();
    addChunk(f, { id: "a", choices: [], prompt_filter_results: [] });
    addChunk(f, { id: "a", choices: [{ delta: { content: "w" } }] });
    addChunk(f, { error: { message: "broken", type: "server_error" } });
    expect(judgeStream(f, 3, "east", undefined)).toEqual({ kind: "sse-error", backend: "east" });
  });
});

function outcome(id: number, verdict: Verdict, extra: Partial<Outcome> = {}): Outcome {
  return { id, phase: 0, client: "raw", what: "chat", sentAt: 1000, answeredAt: 1010, endedAt: 1020, verdict, secrets: [], ...extra };
}

describe("all throttled: Retry-After against the earliest recovery", () => {
  const retry = [2000, 3000, 4000];
  it("takes each backend's last 429 plus its retry-after; a backend not yet called throttles now", () => {
    expect(earliestRecovery(10_000, [[9_000], [9_500], [9_900]], retry)).toBe(11_000);
    expect(earliestRecovery(10_000, [[], [9_500], [9_900]], retry)).toBe(12_000);
  });

  it("accepts retry-after-ms within 1 s and Retry-After as its whole seconds rounded up; flags the rest", () => {
    const s = summarizePhase({ name: "all throttled", weight: 1, backends: [], healthy: false }, []);
    const good = outcome(1, { kind: "error", status: 429, retryAfterS: 2, retryAfterMs: 1100 }, { sentAt: 9_990, answeredAt: 10_000 });
    const rounded = outcome(2, { kind: "error", status: 429, retryAfterS: 1, retryAfterMs: 1100 }, { sentAt: 9_990, answeredAt: 10_000 });
    const late = outcome(3, { kind: "error", status: 429, retryAfterS: 4, retryAfterMs: 3500 }, { sentAt: 9_990, answeredAt: 10_000 });
    checkRetryAfter(s, [good, rounded, late], [[9_000], [9_500], [9_900]], retry);
    expect(s.retryChecked).toBe(3);
    expect(s.retryOff?.map((o) => o.id)).toEqual([2, 3]);
  });

  it("judges a 429 by what the gateway could know: a backend throttled again after the decision does not count", () => {
    const s = summarizePhase({ name: "all throttled", weight: 1, backends: [], healthy: false }, []);
    // Backend 1's cooldown (9 000 + 3 000) ends at 12 000 and the gateway says so at 11 999; another request meets
    // a fresh 429 from backend 1 at 12 000, before this answer arrives at 12 001.
    const raced = outcome(1, { kind: "error", status: 429, retryAfterS: 1, retryAfterMs: 1 }, { sentAt: 11_999, answeredAt: 12_001 });
    checkRetryAfter(s, [raced], [[11_000], [9_000, 12_000], [10_000]], retry);
    expect(s.retryOff).toEqual([]);
  });
});

describe("the request ledger", () => {
  const line = (id: string, extra: Record<string, string> = {}) => JSON.stringify({ uri: "/openai/v1/chat/completions", status: "200", pid: "7", chaos_id: id, ...extra });

  it("matches every request sent with exactly one access-log line; warm-up and /healthz lines are not requests", () => {
    const log = readAccessLog([line("1"), line("2"), line("2"), line(`${WARMUP_ID}0`), line("", { uri: "/healthz" }), line("")].join("\n"));
    const l = ledger([outcome(1, { kind: "answer" }), outcome(2, { kind: "answer" }), outcome(3, { kind: "abandoned" })], log);
    expect(l).toMatchObject({ sent: 3, answered: 2, abandoned: 1, logged: 1, notLogged: [3], loggedTwice: [2] });
    expect(l.unmatchedLines).toHaveLength(1);
    expect([...log.pids]).toEqual(["7"]);
  });
});

describe("what the backends received", () => {
  const req = (headers: Record<string, string>, body: unknown = {}): RecordedRequest => ({ id: "r", time: 0, method: "POST", path: "/", query: {}, headers, body });
  it("flags client credential headers, a client key anywhere, and a request without the backend's own key", () => {
    const secrets = new Map([["client key alice", "client-alice-123"]]);
    const f = checkCaptures(new Map([["east", [
      req({ "api-key": "[valid]" }),
      req({ "api-key": "[valid]", authorization: "Bearer [invalid]" }),
      req({ "api-key": "[valid]", "x-forwarded-key": "client-alice-123" }),
      req({ "api-key": "[invalid]" }),
    ]]]), secrets);
    expect(f.captured).toBe(4);
    expect(f.leaks).toHaveLength(2);
    expect(f.wrongKey).toBe(1);
  });
});

describe("the error log", () => {
  it("finds Lua errors and worker crashes, ignores the lab's start-up noise, and counts [error] kinds", () => {
    const log = [
      "2026/12/06 05:00:00 [error] 11#11: *1 lua entry thread aborted: runtime error: attempt to index a nil value, client: 127.0.0.1",
      "2026/12/06 05:00:01 [alert] 10#10: worker process 11 exited on signal 11",
      "2026/12/06 05:00:02 [error] 12#12: failed to enable privileged_agent: missing privileged agent process patch in the nginx core",
      "2026/12/06 05:00:03 [error] 12#12: *5 recv() failed (104: Connection reset by peer), client: 127.0.0.1",
      "2026/12/06 05:00:04 [warn] 12#12: *6 something upstream",
    ].join("\n");
    const f = checkErrorLog(log);
    expect(f.luaErrors).toHaveLength(1);
    expect(f.severe).toHaveLength(1);
    expect([...f.errorKinds.keys()]).toContain("[error] recv() failed (N: Connection reset by peer)");
  });
});

describe("the schedule", () => {
  it("puts each single fault on backend 0 or 1 in turn and keeps backend 2 clean, so one backend always serves", () => {
    const phases = schedule({ redis: true, reload: true });
    for (const p of phases.filter((x) => x.healthy && !x.mixed)) expect(p.backends[2] ?? []).toEqual([]);
    expect(phases.map((p) => p.name)).toEqual(expect.arrayContaining(["429 no retry header", "connection refused", "200 with invalid JSON", "all throttled", "redis stopped and restarted", "reload (render --watch)", "mixed at random"]));
    for (let i = 0; i < 50; i++) expect(mixedDraw(1)[1]).toEqual([]);
    expect(mixedDraw(0)).toHaveLength(BACKEND_COUNT);
  });

  it("gives every phase its share of the run, never under the floor", () => {
    const phases = schedule({ redis: false, reload: false });
    const lengths = phaseLengths(phases, 60_000, 1500);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(1500);
    expect(lengths.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(60_000 - phases.length);
  });

  it("keeps Redis down, then up, for several of the gateway's once-a-second probes, and the reload phase long enough for APISIX to read the new file, even in a --short run", () => {
    const phases = schedule({ redis: true, reload: true });
    const plan = planFromFlags({ short: true });
    const lengths = phaseLengths(phases, plan.durationMs, plan.minPhaseMs);
    const outage = lengths[phases.findIndex((p) => p.redisOutage === true)]!;
    expect(outage / 2).toBeGreaterThanOrEqual(3000);
    const reload = lengths[phases.findIndex((p) => p.reload === true)]!;
    expect(reload).toBeGreaterThanOrEqual(4000);
  });

  it("plans 200 clients, a shorter --short, and refuses a bad --duration", () => {
    expect(planFromFlags({})).toMatchObject({ durationMs: 60_000, clients: { raw: 140, sdk: 50, bad: 10 }, deadlineMs: requestDeadlineMs() });
    expect(planFromFlags({ short: true }).durationMs).toBeLessThan(60_000);
    expect(() => planFromFlags({ duration: "5" })).toThrow(/--duration/);
  });
});

describe("the rendered config.yaml, as the chaos run changes it", () => {
  it("adds the worker pid and x-chaos-id to the access-log line and turns the control API off", () => {
    const rendered = 'apisix:\n  enable_control: true\nnginx_config:\n  http:\n    access_log_format: \'{"status":"$status"}\'\n';
    const out = chaosConfigYaml(rendered);
    expect(out).toContain('"pid":"$pid","chaos_id":"$http_x_chaos_id"}');
    expect(out).toMatch(/enable_control: false/);
  });
});
