// upstream-route: client path → upstream path/query/model per backend, in Node and under LuaJIT.
import * as route from "../../plugins/lib/upstream-route.ts";
import { dualHost } from "./lib/dual-host.ts";
import type { DualCase } from "./lib/dual-host.ts";

const MOD = "lib.upstream-route";
const aliases = { "gpt-4o": "gpt-4o-eastus", mini: "gpt-4o-mini-prod", same: "same", empty: "" };
const Q = "api-version=2024-10-21&x=%2Fa%20b&flag";

function ok(kind: string, path: string, extra: object = {}) {
  return { ok: true, kind, path, ...extra };
}
function rejected(reason: string) {
  return { ok: false, reason };
}

const routes: DualCase[] = [
  { name: "deployments path, alias applied, query byte-for-byte", args: ["/openai/deployments/gpt-4o/chat/completions", Q, aliases, "ignored"],
    expected: ok("deployments", "/openai/deployments/gpt-4o-eastus/chat/completions", { query: Q, deployment: "gpt-4o" }) },
  { name: "deployments path without alias: unchanged", args: ["/openai/deployments/other/embeddings", "api-version=2024-02-01", aliases, undefined],
    expected: ok("deployments", "/openai/deployments/other/embeddings", { query: "api-version=2024-02-01", deployment: "other" }) },
  { name: "deployments path, no alias map", args: ["/openai/deployments/gpt-4o/completions", Q, undefined, undefined],
    expected: ok("deployments", "/openai/deployments/gpt-4o/completions", { query: Q, deployment: "gpt-4o" }) },
  { name: "deployment alone (legacy GET)", args: ["/openai/deployments/mini", undefined, aliases, undefined],
    expected: ok("deployments", "/openai/deployments/gpt-4o-mini-prod", { deployment: "mini" }) },
  { name: "empty alias value is ignored", args: ["/openai/deployments/empty/chat/completions", undefined, aliases, undefined],
    expected: ok("deployments", "/openai/deployments/empty/chat/completions", { deployment: "empty" }) },
  { name: "prototype names are not aliases", args: ["/openai/deployments/constructor/chat/completions", undefined, aliases, "toString"],
    expected: ok("deployments", "/openai/deployments/constructor/chat/completions", { deployment: "constructor" }) },
  { name: "list deployments (no name) is forwarded as other", args: ["/openai/deployments", "api-version=1", aliases, undefined],
    expected: ok("other", "/openai/deployments", { query: "api-version=1" }) },
  { name: "v1 with mapped model: rewrite", args: ["/openai/v1/chat/completions", undefined, aliases, "gpt-4o"],
    expected: ok("v1", "/openai/v1/chat/completions", { model: "gpt-4o-eastus" }) },
  { name: "v1 with unmapped model: no rewrite", args: ["/openai/v1/responses", "", aliases, "o3"],
    expected: ok("v1", "/openai/v1/responses", { query: "" }) },
  { name: "v1 alias equal to the name: no rewrite", args: ["/openai/v1/embeddings", undefined, aliases, "same"],
    expected: ok("v1", "/openai/v1/embeddings") },
  { name: "v1 without body model", args: ["/openai/v1/responses/resp_1", undefined, aliases, undefined],
    expected: ok("v1", "/openai/v1/responses/resp_1") },
  { name: "preview responses path: other, model alias applies", args: ["/openai/responses", "api-version=2025-03-01-preview", aliases, "mini"],
    expected: ok("other", "/openai/responses", { query: "api-version=2025-03-01-preview", model: "gpt-4o-mini-prod" }) },
  { name: "outside /openai/", args: ["/language/:analyze-text", undefined, aliases, undefined], expected: rejected("only paths under /openai/ are forwarded") },
  { name: "/openai without slash", args: ["/openai", undefined, aliases, undefined], expected: rejected("only paths under /openai/ are forwarded") },
  { name: "root", args: ["/", undefined, aliases, undefined], expected: rejected("only paths under /openai/ are forwarded") },
  { name: "dot-dot climbing out", args: ["/openai/../language/x", undefined, aliases, undefined], expected: rejected("dot segments are not allowed in the path") },
  { name: "trailing dot-dot", args: ["/openai/v1/..", undefined, aliases, undefined], expected: rejected("dot segments are not allowed in the path") },
  { name: "single dot", args: ["/openai/./v1/models", undefined, aliases, undefined], expected: rejected("dot segments are not allowed in the path") },
  { name: "encoded dots", args: ["/openai/%2E%2e/language", undefined, aliases, undefined], expected: rejected("encoded dots, slashes and backslashes are not allowed in the path") },
  { name: "encoded slash", args: ["/openai/deployments/a%2Fb/chat/completions", undefined, aliases, undefined], expected: rejected("encoded dots, slashes and backslashes are not allowed in the path") },
  { name: "backslash", args: ["/openai/v1\\..\\x", undefined, aliases, undefined], expected: rejected("encoded dots, slashes and backslashes are not allowed in the path") },
  { name: "empty deployment", args: ["/openai/deployments//chat/completions", undefined, aliases, undefined], expected: rejected("empty path segments are not allowed") },
  { name: "query in the path argument", args: ["/openai/v1/models?x=1", undefined, aliases, undefined], expected: rejected("the path contains a character that is not allowed") },
  { name: "dots inside a name are fine", args: ["/openai/deployments/gpt-4.1/chat/completions", undefined, aliases, undefined],
    expected: ok("deployments", "/openai/deployments/gpt-4.1/chat/completions", { deployment: "gpt-4.1" }) },
];

const responses: DualCase[] = [
  ["/openai/v1/responses/resp_abc", { id: "resp_abc", action: "retrieve" }],
  ["/openai/v1/responses/resp_abc/cancel", { id: "resp_abc", action: "cancel" }],
  ["/openai/v1/responses/resp_abc/input_items", { id: "resp_abc", action: "input_items" }],
  ["/openai/responses/resp_9", { id: "resp_9", action: "retrieve" }],
  ["/openai/deployments/gpt-4o/responses/resp_7/cancel", { id: "resp_7", action: "cancel" }],
  ["/openai/v1/responses", undefined],
  ["/openai/v1/responses/", undefined],
  ["/openai/v1/responses/compact", undefined],
  ["/openai/v1/responses/resp_abc/other", undefined],
  ["/openai/v1/responses/resp_abc/cancel/more", undefined],
  ["/openai/v1/chat/completions", undefined],
  ["/openai/deployments/x/chat/responses/resp_1", undefined],
  ["/openai/v1/responses/%2e%2e", undefined],
].map(([path, expected]) => ({ name: String(path), args: [path], expected }));

const endpoints: DualCase[] = [
  ["https://aoai-east.openai.azure.com", { ok: true, scheme: "https", host: "aoai-east.openai.azure.com", port: 443 }],
  ["https://aoai-east.openai.azure.com/", { ok: true, scheme: "https", host: "aoai-east.openai.azure.com", port: 443 }],
  ["http://127.0.0.1:8080", { ok: true, scheme: "http", host: "127.0.0.1", port: 8080 }],
  ["http://[::1]:9000/", { ok: true, scheme: "http", host: "[::1]", port: 9000 }],
  ["http://[::1]", { ok: true, scheme: "http", host: "[::1]", port: 80 }],
  ["https://x.openai.azure.com/openai/deployments/d", { ok: false, reason: "the endpoint must be scheme://host[:port], without a path" }],
  ["https://user:key@x.openai.azure.com", { ok: false, reason: "the endpoint must not carry credentials, a query or a fragment" }],
  ["https://x.openai.azure.com?api-key=secret", { ok: false, reason: "the endpoint must not carry credentials, a query or a fragment" }],
  ["ftp://x", { ok: false, reason: "the endpoint must start with https:// or http://" }],
  ["x.openai.azure.com", { ok: false, reason: "the endpoint must start with https:// or http://" }],
  ["https://", { ok: false, reason: "the endpoint has no host" }],
  ["https://h:0", { ok: false, reason: "the endpoint port must be 1-65535" }],
  ["https://h:65536", { ok: false, reason: "the endpoint port must be 1-65535" }],
  ["https://h:", { ok: false, reason: "the endpoint port must be 1-65535" }],
  ["https://h:8a", { ok: false, reason: "the endpoint port must be 1-65535" }],
].map(([endpoint, expected]) => ({ name: String(endpoint), args: [endpoint], expected }));

dualHost("upstreamRoute", MOD, "upstreamRoute", route.upstreamRoute, routes);
dualHost("parseResponsesPath", MOD, "parseResponsesPath", route.parseResponsesPath, responses);
dualHost("parseEndpoint", MOD, "parseEndpoint", route.parseEndpoint, endpoints);
