// sse-gate: holding Azure's preamble until content, under LuaJIT (Lua-only module: cjson, string.find).
// Every stream is fed split at every byte position (two chunks) and one byte at a time; the released bytes
// must equal the input byte for byte, and the commit must happen exactly when the first content event ends.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { callLuaBatch, lua, repoRoot } from "../helpers/lua.ts";

/** Runs `body` (a Lua function body that returns a value) inside LuaJIT, with INPUT = the decoded input. */
function runLua<T>(body: string, input: unknown): T {
  const json = JSON.stringify(input);
  if (json.includes("]==]")) throw new Error("input cannot be embedded in a Lua long string");
  const chunk = `return function()
    local cjson = require("cjson")
    local INPUT = cjson.decode([==[${json}]==])
    ${body}
  end`;
  const [result] = callLuaBatch([{ module: "_G", fn: "pcall", args: [lua(chunk)] }]);
  if (!result!.ok) throw new Error(result!.err);
  const [ok, value] = result!.ret as [boolean, T];
  if (!ok) throw new Error(`Lua error: ${String(value)}`);
  return value;
}

/** Defines run(chunks, cap): feeds the chunks; reports where it committed/failed and what it released. */
const RUN = `
  local gate = require("lib.sse-gate")
  local function run(chunks, cap)
    local g = gate.newGate(cap)
    local out, commit_at, fail_at, err, error_seen = {}, nil, nil, nil, false
    for i = 1, #chunks do
      local v, a, b = gate.feed(g, chunks[i])
      if v == "commit" then
        if commit_at then error("committed twice") end
        commit_at = i; out[#out + 1] = a
      elseif v == "pass" then
        if not commit_at then error("pass before commit") end
        out[#out + 1] = a
        if b then error_seen = true end
      elseif v == "fail" then
        fail_at = fail_at or i; err = a
      elseif v ~= "hold" then
        error("unknown verdict " .. tostring(v))
      end
    end
    local rest = gate.release(g)
    return {
      released = table.concat(out), commit_at = commit_at or false, fail_at = fail_at or false,
      error = err or false, reason = g.reason or false, rest = rest, error_seen = error_seen,
    }
  end
`;

/** Runs INPUT.stream whole, split in two at every byte position, and one byte at a time. */
const DRIVER = `${RUN}
  local s, cap = INPUT.stream, INPUT.cap
  local splits = {}
  for i = 0, #s do
    -- Whole strings per split would make the output quadratic: compare here, report booleans.
    local r = run({ s:sub(1, i), s:sub(i + 1) }, cap)
    r.released = (r.released == s) and "<stream>" or (r.released == "" and "" or "<other>")
    r.rest = (r.rest == s) and "<stream>" or (r.rest == "" and "" or "<other>")
    splits[#splits + 1] = r
  end
  local bytes = {}
  for i = 1, #s do bytes[i] = s:sub(i, i) end
  return { whole = run({ s }, cap), splits = splits, bytes = run(bytes, cap) }
`;

interface Run {
  released: string;
  commit_at: number | false;
  fail_at: number | false;
  error: { event: string; code?: string; message?: string; type?: string; data: string } | false;
  reason: string | false;
  rest: string;
  error_seen: boolean;
}
interface DriverResult {
  whole: Run;
  splits: Run[];
  bytes: Run;
}

interface Scenario {
  name: string;
  events: string[];
  /** Index in events of the event that decides (commit or fail); undefined when the stream only holds. */
  decisive?: number;
  verdict: "commit" | "fail" | "hold";
  reason?: string;
  error?: Partial<Exclude<Run["error"], false>>;
  cap?: number;
}

const pf = '{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"}}}]}';
const roleOnly = '{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1,"id":"chatcmpl-1","model":"gpt-4o","object":"chat.completion.chunk","system_fingerprint":"fp_1"}';
const chunk = (delta: string, finish = "null") =>
  `{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":${delta},"finish_reason":${finish},"index":0,"logprobs":null}],"created":1,"id":"chatcmpl-1","model":"gpt-4o","object":"chat.completion.chunk"}`;
const annotation = '{"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":5},"content_filter_results":{},"delta":{},"finish_reason":null,"index":0}],"created":1,"id":"chatcmpl-1","object":"chat.completion.chunk"}';
const d = (json: string) => `data: ${json}\n\n`;
const ev = (type: string, json: string) => `event: ${type}\ndata: ${json}\n\n`;
const resp = (type: string, extra = "") => `{"type":"${type}","sequence_number":1${extra}}`;

const scenarios: Scenario[] = [
  {
    name: "Azure chat: prompt filter + role-only held, first content commits",
    events: [d(pf), d(roleOnly), d(chunk('{"content":"Hello"}')), d(chunk('{"content":" world"}')), d(chunk("{}", '"stop"')), "data: [DONE]\n\n"],
    decisive: 2, verdict: "commit", reason: "content",
  },
  {
    name: "CRLF framing, comments and multi-line data",
    events: [": keep-alive\r\n\r\n", `data: ${pf}\r\n\r\n`, `data: ${roleOnly.slice(0, 40)}\r\ndata: ${roleOnly.slice(40)}\r\n\r\n`,
      `data: {"choices":[{"delta":\r\ndata: {"content":"Hi"},"index":0}]}\r\n\r\n`, "data: [DONE]\r\n\r\n"],
    decisive: 3, verdict: "commit", reason: "content",
  },
  {
    name: "mixed LF and CRLF line endings",
    events: [`data: ${pf}\r\n\n`, `data: ${chunk('{"content":"x"}')}\n\r\n`],
    decisive: 1, verdict: "commit", reason: "content",
  },
  {
    name: "content filter annotations without content are held",
    events: [d(pf), d(annotation), d(roleOnly), d(annotation), d(chunk('{"content":"Hi"}'))],
    decisive: 4, verdict: "commit", reason: "content",
  },
  {
    name: "tool call first",
    events: [d(pf), d(chunk('{"role":"assistant","content":null}')), d(chunk('{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}'))],
    decisive: 2, verdict: "commit", reason: "content",
  },
  {
    name: "empty tool_calls array does not count",
    events: [d(chunk('{"role":"assistant","tool_calls":[]}')), d(chunk('{"refusal":"I cannot"}'))],
    decisive: 1, verdict: "commit", reason: "content",
  },
  {
    name: "finish_reason without content (content filter) commits",
    events: [d(pf), d(roleOnly), d(chunk("{}", '"content_filter"'))],
    decisive: 2, verdict: "commit", reason: "content",
  },
  {
    name: "usage-only chunk commits",
    events: [d(pf), d('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}}')],
    decisive: 1, verdict: "commit", reason: "content",
  },
  {
    name: "[DONE] right after the preamble commits",
    events: [d(pf), d(roleOnly), "data: [DONE]\n\n"],
    decisive: 2, verdict: "commit", reason: "done",
  },
  {
    name: "legacy completions text commits",
    events: [d('{"choices":[{"text":"Once","index":0,"finish_reason":null}],"object":"text_completion"}')],
    decisive: 0, verdict: "commit", reason: "content",
  },
  {
    name: "event: message is the default type (chat preamble still held)",
    events: [ev("message", pf), ev("message", chunk('{"content":"Hi"}'))],
    decisive: 1, verdict: "commit", reason: "content",
  },
  {
    name: "Responses: created, in_progress, item and part added held; text delta commits",
    events: [
      ev("response.created", resp("response.created", ',"response":{"id":"resp_1","status":"in_progress","error":null}')),
      ev("response.in_progress", resp("response.in_progress")),
      ev("response.output_item.added", resp("response.output_item.added", ',"item":{"type":"message"}')),
      ev("response.content_part.added", resp("response.content_part.added", ',"part":{"type":"output_text","text":""}')),
      ev("response.output_text.delta", resp("response.output_text.delta", ',"delta":"Hi"')),
      ev("response.completed", resp("response.completed")),
    ],
    decisive: 4, verdict: "commit", reason: "content",
  },
  {
    name: "Responses without event lines (type in data)",
    events: [d(resp("response.created")), d(resp("response.in_progress")), d(resp("response.function_call_arguments.delta", ',"delta":"{"'))],
    decisive: 2, verdict: "commit", reason: "content",
  },
  {
    name: "data that is not JSON commits (never hold the unknown)",
    events: [d(pf), "data: hello there\n\n"],
    decisive: 1, verdict: "commit", reason: "unknown",
  },
  {
    name: "JSON of an unknown shape commits",
    events: [d('{"foo":1}')],
    decisive: 0, verdict: "commit", reason: "unknown",
  },
  {
    name: "chat error before content fails",
    events: [d(pf), d('{"error":{"message":"The server had an error","type":"server_error","param":null,"code":"server_error"}}'), d(chunk('{"content":"late"}'))],
    decisive: 1, verdict: "fail", error: { event: "error", code: "server_error", message: "The server had an error", type: "server_error" },
  },
  {
    name: "chat error with a numeric code",
    events: [d('{"error":{"message":"Too many","code":429}}')],
    decisive: 0, verdict: "fail", error: { event: "error", code: "429", message: "Too many" },
  },
  {
    name: "Responses event: error before content fails",
    events: [ev("response.created", resp("response.created")), ev("error", '{"type":"error","code":"too_many_requests","message":"Slow down","param":null,"sequence_number":2}')],
    decisive: 1, verdict: "fail", error: { event: "error", code: "too_many_requests", message: "Slow down" },
  },
  {
    name: "Responses response.failed before content fails",
    events: [ev("response.created", resp("response.created")), ev("response.failed", resp("response.failed", ',"response":{"status":"failed","error":{"code":"server_error","message":"Backend broke"}}'))],
    decisive: 1, verdict: "fail", error: { event: "response.failed", code: "server_error", message: "Backend broke" },
  },
  {
    name: "event: error with data that is not JSON",
    events: [d(pf), "event: error\ndata: upstream exploded\n\n"],
    decisive: 1, verdict: "fail", error: { event: "error", data: "upstream exploded" },
  },
  {
    name: "preamble only: holds; release() hands everything over",
    events: [d(pf), d(roleOnly), ": ping\n\n", "data:\n\n", "event: ping\n\n"],
    verdict: "hold",
  },
  {
    name: "error: null in a chunk is not an error",
    events: [d('{"error":null,"choices":[{"delta":{"content":"ok"},"index":0}]}')],
    decisive: 0, verdict: "commit", reason: "content",
  },
];

function contentEnd(s: Scenario): number {
  let end = 0;
  for (let i = 0; i <= s.decisive!; i++) end += Buffer.byteLength(s.events[i]!);
  return end;
}

describe("sse-gate (LuaJIT)", () => {
  // One luajit run per scenario: a batch of all of them would overflow the harness's output buffer.
  const results = scenarios.map((s) => runLua<DriverResult>(DRIVER, { stream: s.events.join(""), cap: s.cap }));

  it.each(scenarios.map((s, i) => ({ ...s, i })))("$name", (s) => {
    const stream = s.events.join("");
    const { whole, splits, bytes } = results[s.i]!;
    expect(splits).toHaveLength(stream.length + 1);

    if (s.verdict === "commit") {
      const end = contentEnd(s);
      expect(whole).toMatchObject({ released: stream, commit_at: 1, fail_at: false, reason: s.reason, rest: "" });
      splits.forEach((run, i) => {
        expect(run.released, `split at ${i}`).toBe("<stream>");
        expect(run.commit_at, `split at ${i}`).toBe(i >= end ? 1 : 2);
        expect(run.reason, `split at ${i}`).toBe(s.reason);
      });
      expect(bytes.released).toBe(stream);
      expect(bytes.commit_at).toBe(end);
    } else if (s.verdict === "fail") {
      const end = contentEnd(s);
      expect(whole).toMatchObject({ released: "", commit_at: false, fail_at: 1, error: s.error });
      splits.forEach((run, i) => {
        expect(run.fail_at, `split at ${i}`).toBe(i >= end ? 1 : 2);
        expect(run.released, `split at ${i}`).toBe("");
        expect(run.error, `split at ${i}`).toMatchObject(s.error!);
        // After a failure the held bytes can still be relayed (a client_error event): all of it, unchanged.
        expect(run.rest, `split at ${i}`).toBe("<stream>");
      });
      expect(bytes.fail_at).toBe(end);
    } else {
      for (const run of [whole, bytes]) {
        expect(run).toMatchObject({ released: "", commit_at: false, fail_at: false, rest: stream, reason: "released" });
      }
      for (const run of splits) {
        expect(run).toMatchObject({ released: "", commit_at: false, fail_at: false, rest: "<stream>", reason: "released" });
      }
    }
  });
});

describe("sse-gate edge cases (LuaJIT)", () => {
  it("commits by the cap when the preamble never ends, releasing all bytes", () => {
    const comments = ": padding padding padding\n\n".repeat(10);
    const r = runLua<Run[]>(
      `local gate = require("lib.sse-gate")
       local g = gate.newGate(100)
       local out = {}
       for i = 1, #INPUT, 30 do
         local v, a = gate.feed(g, INPUT:sub(i, i + 29))
         out[#out + 1] = { verdict = v, bytes = a or false, reason = g.reason or false }
       end
       return out`,
      comments,
    );
    const verdicts = r.map((x) => (x as unknown as { verdict: string }).verdict);
    expect(verdicts.slice(0, 3)).toEqual(["hold", "hold", "hold"]);
    expect(verdicts[3]).toBe("commit"); // 120 bytes held > 100
    expect((r[3] as unknown as { bytes: string; reason: string })).toMatchObject({ bytes: comments.slice(0, 120), reason: "cap" });
    expect(verdicts.slice(4).every((v) => v === "pass")).toBe(true);
  });

  it("the default cap is 256 KiB", () => {
    const r = runLua<number[]>(
      `local gate = require("lib.sse-gate")
       local g = gate.newGate()
       local line = ": " .. string.rep("x", 1021) .. "\\n"  -- 1 KiB comment lines
       local n = 0
       for i = 1, 300 do
         n = i
         local v = gate.feed(g, line)
         if v == "commit" then break end
       end
       return { n, gate.DEFAULT_CAP }`,
      null,
    );
    expect(r).toEqual([257, 262144]);
  });

  it("ignores a leading UTF-8 BOM", () => {
    const stream = "\uFEFF" + d(pf) + d(chunk('{"content":"Hi"}'));
    const r = runLua<Run>(`${RUN} return run({ INPUT }, nil)`, stream);
    expect(r).toMatchObject({ commit_at: 1, released: stream, reason: "content" });
  });

  it("after commit passes chunks through untouched and flags error-looking ones for logging", () => {
    const r = runLua<[string, string, boolean][]>(
      `local gate = require("lib.sse-gate")
       local g = gate.newGate()
       local out = {}
       for i, c in ipairs(INPUT) do
         local v, a, b = gate.feed(g, c)
         out[i] = { v, a or false, b or false }
       end
       return out`,
      [d(chunk('{"content":"Hi"}')), d(chunk('{"content":"the word error is fine"}')), 'data: {"error":{"message":"cut"}}\n\n', "event: error\ndata: {}\n\n", 'data: {"type":"response.failed"}\n\n', ""],
    );
    expect(r.map((x) => x[0])).toEqual(["commit", "pass", "pass", "pass", "pass", "pass"]);
    expect(r.map((x) => x[2])).toEqual([false, false, true, true, true, false]);
    expect(r[1]![1]).toBe(d(chunk('{"content":"the word error is fine"}')));
  });

  it("keeps reporting fail (and keeping the bytes) after a failure; release() hands them over once", () => {
    const r = runLua<unknown[]>(
      `local gate = require("lib.sse-gate")
       local g = gate.newGate()
       local v1, e1 = gate.feed(g, INPUT[1])
       local v2, e2 = gate.feed(g, INPUT[2])
       local held = gate.release(g)
       local v3, a3 = gate.feed(g, "data: more\\n\\n")
       return { v1, e1.code, v2, e2.code, held, gate.release(g), v3, a3, gate.isCommitted(g) }`,
      ['data: {"error":{"code":"content_filter","message":"filtered"}}\n\n', d(pf)],
    );
    const held = 'data: {"error":{"code":"content_filter","message":"filtered"}}\n\n' + d(pf);
    expect(r).toEqual(["fail", "content_filter", "fail", "content_filter", held, "", "pass", "data: more\n\n", true]);
  });

  it("the emitted Lua uses no TSTL lualib helpers and no multi-return comparisons (hot path)", () => {
    const emitted = readFileSync(path.join(repoRoot, "build/lua-test/lib/sse-gate.lua"), "utf8");
    expect(emitted).not.toContain("lualib_bundle");
    expect(emitted).not.toMatch(/\(\{find\(/);
  });
});
