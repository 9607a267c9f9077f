// header-policy: which headers cross the gateway each way, in Node and under LuaJIT.
import * as hp from "../../plugins/lib/header-policy.ts";
import { dualHost } from "./lib/dual-host.ts";
import type { DualCase } from "./lib/dual-host.ts";

const MOD = "lib.header-policy";

const client = {
  Authorization: "Bearer client-key",
  "api-key": "k",
  "Ocp-Apim-Subscription-Key": "s",
  cookie: "session=1",
  "x-gw-backend": "spoofed",
  "X-GW-Attempts": "9",
  host: "gateway.example",
  "content-length": "42",
  "accept-encoding": "gzip",
  connection: "keep-alive, X-Drop-Me",
  "keep-alive": "timeout=5",
  te: "trailers",
  upgrade: "h2c",
  "proxy-authorization": "Basic x",
  "x-drop-me": "listed in Connection",
  "content-type": "application/json",
  "x-ms-client-request-id": "abc",
  "x-forwarded-for": "10.0.0.1",
  accept: ["text/event-stream", "application/json"],
  "user-agent": "OpenAI/Python 1.0",
};

const upstream = {
  "Content-Type": "text/event-stream",
  "Content-Length": "1234",
  "transfer-encoding": "chunked",
  Connection: "close",
  "x-ratelimit-remaining-requests": "99",
  "x-ratelimit-remaining-tokens": "119000",
  "x-ratelimit-reset-tokens": "6",
  "retry-after": "2",
  "retry-after-ms": "1500",
  "x-ms-region": "East US",
  "apim-request-id": "r-1",
  "x-request-id": "r-2",
  "x-gw-backend": "from-upstream",
  "set-cookie": ["a=1", "b=2"],
};

const relayedCommon = {
  "x-ratelimit-remaining-requests": "99",
  "x-ratelimit-remaining-tokens": "119000",
  "x-ratelimit-reset-tokens": "6",
  "retry-after": "2",
  "retry-after-ms": "1500",
  "x-ms-region": "East US",
  "apim-request-id": "r-1",
  "x-request-id": "r-2",
  "set-cookie": ["a=1", "b=2"],
  "content-type": "text/event-stream",
};

const forward: DualCase[] = [
  { name: "drops credentials, x-gw-*, hop-by-hop, Connection-listed and transport headers", args: [client], expected: {
    "content-type": "application/json",
    "x-ms-client-request-id": "abc",
    "x-forwarded-for": "10.0.0.1",
    accept: ["text/event-stream", "application/json"],
    "user-agent": "OpenAI/Python 1.0",
  } },
  { name: "empty table", args: [{}], expected: {} },
  { name: "Connection as a repeated header", args: [{ connection: ["x-a", " X-B ,,"], "x-a": "1", "x-b": "2", "x-c": "3" }], expected: { "x-c": "3" } },
];

const relay: DualCase[] = [
  { name: "streamed (re-chunked): content-length dropped", args: [upstream, true], expected: relayedCommon },
  { name: "relayed as is: content-length kept", args: [upstream, false], expected: { ...relayedCommon, "content-length": "1234" } },
  {
    name: "what nginx's proxy module hides by default (Date, Server, X-Pad, X-Accel-*) stays behind",
    args: [{ Date: "Sun, 06 Dec 2026 21:00:00 GMT", Server: "Microsoft-HTTPAPI/2.0", "X-Pad": "avoid browser bug", "X-Accel-Buffering": "no", "x-ms-region": "East US" }, true],
    expected: { "x-ms-region": "East US" },
  },
];

const reasons: DualCase[] = [
  ["authorization", "credential"], ["api-key", "credential"], ["ocp-apim-subscription-key", "credential"], ["cookie", "credential"],
  ["x-gw-anything", "gateway"], ["x-gw-", "gateway"], ["connection", "hop-by-hop"], ["trailer", "hop-by-hop"],
  ["transfer-encoding", "hop-by-hop"], ["proxy-connection", "hop-by-hop"], ["host", "transport"], ["accept-encoding", "transport"],
  ["content-length", "transport"], ["x-gwx", undefined], ["content-type", undefined], ["x-ms-client-request-id", undefined],
  ["constructor", undefined],
].map(([name, expected]) => ({ name: String(name), args: [name], expected }));

const gw: DualCase[] = [
  { name: "plain name", args: ["payg-eastus-1", 2], expected: { "x-gw-backend": "payg-eastus-1", "x-gw-attempts": "2" } },
  { name: "unsafe bytes replaced", args: ["bad name\r\nX-Evil: 1", 1], expected: { "x-gw-backend": "bad_name__X-Evil:_1", "x-gw-attempts": "1" } },
  { name: "separators replaced", args: ['a,b;c"d\\e', 3], expected: { "x-gw-backend": "a_b_c_d_e", "x-gw-attempts": "3" } },
  { name: "long names cut at 128", args: ["n".repeat(300), 1], expected: { "x-gw-backend": "n".repeat(128), "x-gw-attempts": "1" } },
];

dualHost("forwardRequestHeaders", MOD, "forwardRequestHeaders", hp.forwardRequestHeaders, forward);
dualHost("relayResponseHeaders", MOD, "relayResponseHeaders", hp.relayResponseHeaders, relay);
dualHost("requestDropReason", MOD, "requestDropReason", hp.requestDropReason, reasons);
dualHost("gatewayHeaders", MOD, "gatewayHeaders", hp.gatewayHeaders, gw);

// Read on every answer; the result for a single value is remembered per value (a backend repeats it).
const connection: DualCase[] = [
  { name: "no Connection", args: [{ "content-type": "application/json" }], expected: undefined },
  { name: "keep-alive", args: [{ connection: "keep-alive" }], expected: { "keep-alive": true } },
  { name: "keep-alive again (remembered)", args: [{ connection: "keep-alive" }], expected: { "keep-alive": true } },
  { name: "a list, mixed case and spaces", args: [{ connection: "Close,  X-Trace-Hop " }], expected: { close: true, "x-trace-hop": true } },
  { name: "two header lines", args: [{ connection: ["keep-alive", "X-A"] }], expected: { "keep-alive": true, "x-a": true } },
];
dualHost("connectionTokensOfLower", MOD, "connectionTokensOfLower", hp.connectionTokensOfLower, connection);
