// access-fields: the operation and the attempts of an access-log line, in Node and under LuaJIT.
import { expect, it } from "vitest";
import * as fields from "../../plugins/lib/access-fields.ts";
import * as catalog from "../../plugins/lib/metric-catalog.ts";
import { dualHost } from "./lib/dual-host.ts";

const op = (method: string, path: string, expected: string) => ({ name: `${method} ${path}`, args: [method, path], expected });

dualHost("operationOf", "lib.access-fields", "operationOf", fields.operationOf, [
  op("POST", "/openai/v1/chat/completions", "chat"),
  op("POST", "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", "chat"),
  op("POST", "/openai/v1/completions", "completions"),
  op("POST", "/openai/deployments/emb/embeddings?api-version=2024-10-21", "embeddings"),
  op("POST", "/openai/v1/responses", "responses"),
  op("POST", "/openai/responses?api-version=2025-04-01-preview", "responses"),
  op("POST", "/openai/v1/responses/compact", "responses.compact"),
  op("GET", "/openai/v1/responses/resp_abc", "responses.get"),
  op("DELETE", "/openai/v1/responses/resp_abc", "responses.delete"),
  op("POST", "/openai/v1/responses/resp_abc/cancel", "responses.cancel"),
  op("GET", "/openai/v1/responses/resp_abc/input_items?limit=5", "responses.input_items"),
  op("GET", "/openai/v1/models", "models"),
  op("GET", "/openai/v1/models/gpt-4o", "models"),
  op("POST", "/openai/v1/audio/speech", "other"),
]);

const records = [
  { backend: "east", kind: "throttled", status: 429, ms: 12, cool_until_ms: 5 },
  { backend: "west", kind: "throttled", skipped: true, cool_until_ms: 9 },
  { backend: "north", kind: "throttled", skipped: true, reserve: { below: "tokens", value: 10 } },
  { backend: "south", kind: "timeout", ms: 3000 },
  { backend: "ptu", kind: "ok", status: 200, ms: 41 },
  { backend: "odd \"name\" \\ \u0001", kind: "server_error", skipped: true },
];
dualHost("attemptsField", "lib.access-fields", "attemptsField", fields.attemptsField, [
  { name: "none", args: [[]], expected: "[]" },
  {
    name: "a 429, a skip while cooling, a reserve skip, a timeout, a success, an odd name",
    args: [records],
    // Exactly what JSON.stringify writes for these entries (key order backend, status, ms, reason).
    expected: JSON.stringify([
      { backend: "east", status: 429, ms: 12, reason: "throttled" },
      { backend: "west", reason: "cooling(throttled)" },
      { backend: "north", reason: "reserve(tokens)" },
      { backend: "south", ms: 3000, reason: "timeout" },
      { backend: "ptu", status: 200, ms: 41, reason: "ok" },
      { backend: "odd \"name\" \\ \u0001", reason: "cooling(server_error)" },
    ]),
  },
]);

dualHost("intText", "lib.access-fields", "intText", fields.intText, [
  { name: "0", args: [0], expected: "0" },
  { name: "200", args: [200], expected: "200" },
  { name: "200 again (remembered)", args: [200], expected: "200" },
  { name: "4095", args: [4095], expected: "4095" },
  { name: "above the memo", args: [123456], expected: "123456" },
  { name: "negative", args: [-3], expected: "-3" },
]);

dualHost("jsonQuoted", "lib.access-fields", "jsonQuoted", fields.jsonQuoted, [
  { name: "plain", args: ["east-1"], expected: JSON.stringify("east-1") },
  // Control characters as \u00XX (JSON.parse reads them back: checked below).
  { name: "quote, backslash, newline, tab", args: ["a\"b\\c\nd\te"], expected: '"a\\"b\\\\c\\u000ad\\u0009e"' },
  { name: "empty", args: [""], expected: "\"\"" },
]);

it("jsonQuoted output is JSON that reads back as its input", () => {
  for (const text of ["a\"b\\c\nd\te", "\u0000\u001f", "né-east", ""]) expect(JSON.parse(fields.jsonQuoted(text))).toBe(text);
});

const outcome = (kind: string, skipped: boolean | undefined, reserve: boolean, expected: string) => ({ name: `${kind} ${skipped ? "skipped" : ""} ${reserve ? "reserve" : ""}`, args: [kind, skipped, reserve], expected });
dualHost("outcomeLabel", "lib.metric-catalog", "outcomeLabel", catalog.outcomeLabel, [
  outcome("ok", undefined, false, "ok"),
  outcome("throttled", undefined, false, "429"),
  outcome("server_error", false, false, "5xx"),
  outcome("timeout", undefined, false, "timeout"),
  outcome("connect_error", undefined, false, "connect"),
  outcome("client_error", undefined, false, "4xx"),
  outcome("throttled", true, false, "cooled_skip"),
  outcome("server_error", true, false, "cooled_skip"),
  outcome("throttled", true, true, "reserve_skip"),
]);
