/**
 * TEST CODE. The shape of a scenario: written once as data (config, requests, expected status/headers/body, what the
 * fake upstreams saw) and run by a runner per host (tests/scenarios/run.ts with a host from tests/scenarios/hosts/).
 *
 * Placeholders in any string of `apisixYaml`/`configYaml`: `{{upstream.<name>.hostPort}}` ("127.0.0.1:<port>") and
 * `{{upstream.<name>.url}}` ("http://127.0.0.1:<port>"), for the upstreams the suite declares.
 */
import type { AccessLogEntry } from "../rig/gateway.ts";
import type { UpstreamBehaviour, UpstreamOptions } from "../rig/upstreams.ts";
import type { DeploymentOptions, FaultSpec, LatencyOptions, SimulatorHandle } from "../../scripts/simulator/index.ts";

export type HeaderExpectation = string | RegExp | null; // null: the header must be absent

export interface ScenarioRequest {
  method?: string;
  /** Path plus query. */
  path: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON (Content-Type: application/json unless headers set one). */
  body?: unknown;
}

export interface ExpectedResponse {
  status: number;
  /** Lower-case header names. */
  headers?: Record<string, HeaderExpectation>;
  /** The body parsed as JSON must match this (recursive subset match). */
  json?: unknown;
  /** The body must contain each of these. */
  bodyIncludes?: string[];
  /** The body must not contain any of these. */
  bodyExcludes?: string[];
  /** The body must be exactly this. */
  bodyEquals?: string;
  /** The body must be byte-for-byte what this declared upstream sent (pass-through, house style §22). */
  bodyEqualsUpstream?: string;
}

export interface ExpectedForwarded {
  /** Which declared upstream received it (its last request during this case is checked). */
  upstream: string;
  method?: string;
  path?: string;
  /** Lower-case header names. */
  headers?: Record<string, HeaderExpectation>;
  /** The forwarded body must equal the client's bytes (pass-through, house style §22). */
  bodyEqualsClient?: boolean;
  /** The forwarded body parsed as JSON must match this (recursive subset match). */
  json?: unknown;
}

/**
 * Timing of a streamed body (SSE), measured at the client from the request start, over the first `minChunks - 1`
 * gaps between events (after `skipFirstEvents`). It proves events are relayed as the upstream sends them, in a way
 * that a busy 2-core machine running other suites cannot break (tests/scenarios/stream-timing.ts):
 *   - the MEDIAN gap is within `toleranceMs` of `eventIntervalMs` (a buffering gateway gives gaps near 0);
 *   - the events span at least half of gaps × eventIntervalMs in total (held-then-flushed events span ~0);
 *   - no single gap exceeds `maxGapMs` (a stall), which is generous because one late wake-up under load is not a
 *     gateway fault.
 */
export interface ExpectedStreamTiming {
  /** Number of network chunks that carried at least one `data:` event must be at least this. */
  minChunks: number;
  /** The upstream's interval between events. */
  eventIntervalMs: number;
  /** How far the median gap may be from eventIntervalMs. */
  toleranceMs: number;
  /** The largest single gap allowed. Default eventIntervalMs + 6 × toleranceMs. */
  maxGapMs?: number;
  /** Events at the start whose gaps are not checked (e.g. a preamble the gateway holds until the first content). */
  skipFirstEvents?: number;
}

export interface ScenarioCase {
  /** The behaviour, used as the test title ("falls back on 429 within budget"). */
  name: string;
  /** Before the request: set these simulators' faults (an empty list clears them). */
  faults?: Record<string, FaultSpec[]>;
  /** Before the request: reset these simulators (rate-limit windows, stored responses; faults stay). */
  resetSimulators?: string[];
  /** Before the request: wait this long (e.g. for a cooldown to run out). */
  waitMs?: number;
  /**
   * Before the request: prepare state on the simulators directly (e.g. create a Responses object on one of
   * them) and return values that `{{var.<name>}}` in the request path stands for.
   */
  setup?: (simulators: Record<string, SimulatorHandle>) => Promise<Record<string, string>>;
  /**
   * After the response: keep the first group of each regex over the response body as a suite variable, for
   * `{{var.<name>}}` in the path or body of later cases (e.g. a response id for a follow-up request).
   */
  capture?: Record<string, RegExp>;
  request: ScenarioRequest;
  /** Send the request this many times, one after another (default 1); every response must match `expect`. */
  repeat?: number;
  /**
   * On a host with several workers: the repeated requests (each on its own connection) must have been served by
   * more than one worker, so that what the case checks (a cooldown, an affinity) held across workers.
   */
  acrossWorkers?: boolean;
  /** The case holds only with one nginx worker (the reason): skipped, with it, on hosts with several. */
  oneWorkerOnly?: string;
  expect: ExpectedResponse;
  forwarded?: ExpectedForwarded;
  /** How many requests each declared upstream received during this case. */
  upstreamCalls?: Record<string, number>;
  /** Lines this case must add to the error log. */
  errorLog?: RegExp[];
  /** Strings this case must not add to the error log (keys, bodies). */
  errorLogExcludes?: string[];
  /** Error-level lines this case is allowed to add (besides `errorLog`). */
  allowErrors?: RegExp[];
  /** The access-log entry of this request must have these values. */
  accessLog?: Partial<Record<keyof AccessLogEntry, string | RegExp>>;
  stream?: ExpectedStreamTiming;
  /** Hosts that must not run this case, with the reason (shown in the skipped test's title). */
  skipOn?: Partial<Record<ScenarioHostName, string>>;
}

export interface DeclaredFake extends UpstreamOptions {
  behaviour: UpstreamBehaviour;
}

/** An Azure OpenAI simulator instance (scripts/simulator) as an upstream: real rate-limit signals and faults. */
export interface DeclaredSimulator {
  behaviour: "simulator";
  apiKey: string;
  deployments: Record<string, DeploymentOptions>;
  latency?: LatencyOptions;
  region?: string;
}

export type DeclaredUpstream = DeclaredFake | DeclaredSimulator;

export interface ScenarioSuite {
  name: string;
  upstreams: Record<string, DeclaredUpstream>;
  /** apisix.yaml content (without #END; the runner appends it). */
  apisixYaml: Record<string, unknown>;
  /** config.yaml content, when the suite needs one (plugins list, plugin_attr, lua_module_hook). */
  configYaml?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Extra Lua roots (relative to the repo root) searched before build/lua, e.g. hook fixtures. */
  luaPaths?: string[];
  /** Error lines the configuration itself must produce when the gateway starts (e.g. an invalid consumer). */
  startupErrors?: RegExp[];
  cases: ScenarioCase[];
}

export type ScenarioHostName = "nginx" | "apisix";
