// outcome: attempt classification and the failover rule, in Node and under LuaJIT.
import * as outcome from "../../plugins/lib/outcome.ts";
import { dualHost } from "./lib/dual-host.ts";
import type { DualCase } from "./lib/dual-host.ts";

const MOD = "lib.outcome";

const attempts: DualCase[] = [
  [200, undefined, "ok"], [201, undefined, "ok"], [304, undefined, "ok"], [101, undefined, "ok"],
  [429, undefined, "throttled"],
  [500, undefined, "server_error"], [502, undefined, "server_error"], [503, undefined, "server_error"],
  [504, undefined, "server_error"], [501, undefined, "server_error"], [599, undefined, "server_error"],
  [400, undefined, "client_error"], [401, undefined, "client_error"], [404, undefined, "client_error"],
  [408, undefined, "client_error"], [413, undefined, "client_error"],
  [0, undefined, "connect_error"], [600, undefined, "connect_error"], [undefined, undefined, "connect_error"],
  [undefined, "timeout", "timeout"], [undefined, "connection timed out", "timeout"],
  [undefined, "failed to read: Timeout", "timeout"], [undefined, "ssl handshake: TIMED OUT", "timeout"],
  [undefined, "connection refused", "connect_error"], [undefined, "connection reset by peer", "connect_error"],
  [undefined, "closed", "connect_error"], [undefined, "no route to host", "connect_error"],
  [undefined, "failed to resolve host", "connect_error"],
  [200, "closed", "connect_error"], [200, "timeout", "timeout"], [429, "", "throttled"],
].map(([status, err, expected]) => ({ name: `${status} ${JSON.stringify(err)} → ${expected}`, args: [status, err], expected }));

const streamErrors: DualCase[] = [
  ["429", undefined, "throttled"], ["rate_limit_exceeded", undefined, "throttled"], ["too_many_requests", undefined, "throttled"],
  [undefined, "rate_limit_exceeded", "throttled"],
  ["server_error", undefined, "server_error"], ["internal_error", undefined, "server_error"],
  ["service_unavailable", undefined, "server_error"], ["500", undefined, "server_error"],
  [undefined, "server_error", "server_error"], ["weird", "server_error", "server_error"],
  ["content_filter", "invalid_request_error", "client_error"], ["invalid_prompt", undefined, "client_error"],
  ["context_length_exceeded", "invalid_request_error", "client_error"], [undefined, undefined, "client_error"],
  ["constructor", undefined, "client_error"],
].map(([code, type, expected]) => ({ name: `${code}/${type} → ${expected}`, args: [code, type], expected }));

const kinds = ["ok", "throttled", "server_error", "timeout", "connect_error", "client_error"] as const;
const failover: DualCase[] = kinds.map((k) => ({
  name: k,
  args: [k],
  expected: k === "throttled" || k === "server_error" || k === "timeout" || k === "connect_error",
}));
const backendFailure: DualCase[] = kinds.map((k) => ({
  name: k,
  args: [k],
  expected: k === "server_error" || k === "timeout" || k === "connect_error",
}));

dualHost("classifyOutcome", MOD, "classifyOutcome", outcome.classifyOutcome, attempts);
dualHost("classifyStreamError", MOD, "classifyStreamError", outcome.classifyStreamError, streamErrors);
dualHost("shouldFailover", MOD, "shouldFailover", outcome.shouldFailover, failover);
dualHost("isBackendFailure (429 does not count)", MOD, "isBackendFailure", outcome.isBackendFailure, backendFailure);
