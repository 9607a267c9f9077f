/**
 * Public types of the Azure OpenAI simulator. Other tests and scripts import these through index.ts; keep them
 * stable and keep docs/simulator.md in step.
 */

/** Milliseconds since the epoch. Inject a fake one to drive the rate-limit windows exactly in tests. */
export interface Clock {
  now(): number;
}

export type Operation = "chat" | "completions" | "embeddings" | "responses";

export interface DeploymentOptions {
  /** Catalogue model name reported in bodies, e.g. "gpt-4o-mini" or "text-embedding-3-small". */
  model: string;
  /** Tokens per minute; requests per 10 s are ceil(tpm / 1000). Default 100,000,000 (effectively unlimited). */
  tpm?: number;
  /** Alias of tpm, as in aoai-api-simulator's deployment JSON. */
  tokensPerMinute?: number;
  /** Embedding vector length. Default 1536 (or `dimensions` for text-embedding-3-* models). */
  embeddingSize?: number;
  /** Completion length when the request sets no max tokens. Default 100. */
  defaultMaxTokens?: number;
  /** Latency overrides for this deployment, merged over the instance's. */
  latency?: LatencyOptions;
}

export interface OpLatency {
  /** Chat, completions, responses: ms per completion token. Embeddings: ms per request. */
  mean?: number;
  /** Standard deviation of a normal draw around mean (per request). */
  stdDev?: number;
}

export interface LatencyOptions {
  /** Fixed delay before the first byte of every successful inference response. Default 0. */
  baseMs?: number;
  /** Shorthand: ms per completion token for chat, completions and responses. Default 0. */
  perTokenMs?: number;
  /** Shorthand: total ms per embeddings request. Default 0. */
  embeddingsMs?: number;
  /** Gap between streamed SSE chunks. Default 20. */
  streamIntervalMs?: number;
  chat?: OpLatency;
  completions?: OpLatency;
  responses?: OpLatency;
  embeddings?: OpLatency;
}

export type FaultKind =
  | "status"
  | "reset"
  | "reset-mid-headers"
  | "hang"
  | "slow-first-byte"
  | "stream-cut"
  | "stream-error"
  | "invalid-json";

/** Retry signals a 429 fault can carry (`retryHeaders`): each of Azure's forms, alone or together. */
export type RetryHeader = "retry-after-ms" | "retry-after" | "x-ratelimit-reset-requests" | "x-ratelimit-reset-tokens";

export interface FaultSpec {
  kind: FaultKind;
  /** Only requests to this deployment. Absent: every deployment of the instance. */
  deployment?: string;
  /** Only these operations. Absent: all of them. */
  operations?: Operation[];
  /** Apply to the first N matching requests, then stop ("fail N times then succeed"). Absent: forever. */
  times?: number;
  /** kind "status": the HTTP status (500, 502, 503, 504, 429, ...). */
  status?: number;
  /** kind "status" with 429: Retry-After in ms (headers Retry-After = ceil(s), retry-after-ms). Default 1000. */
  retryAfterMs?: number;
  /**
   * kind "status" with 429: which retry signals carry `retryAfterMs` (the x-ratelimit-reset-* and retry-after
   * forms in whole seconds, rounded up). Default ["retry-after", "retry-after-ms", "x-ratelimit-reset-tokens"];
   * [] sends a 429 that names no wait at all.
   */
  retryHeaders?: RetryHeader[];
  /** kind "slow-first-byte": delay before the response headers, then the request is served normally. */
  delayMs?: number;
  /** kind "stream-cut" / "stream-error": content chunks sent first (0 = right after the preamble). Default 0. */
  afterChunks?: number;
  /** Error code and message in the body (status) or the in-stream error event. */
  code?: string;
  message?: string;
  /** kind "stream-error" on the Responses API: which event carries it. Default "response.failed". */
  event?: "error" | "response.failed";
}

export interface SimulatorOptions {
  /** Instance name, echoed in `x-sim-instance` on every response. */
  name: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Accepted in `api-key` or `Authorization: Bearer`; also guards /++/*. */
  apiKey: string;
  deployments: Record<string, DeploymentOptions>;
  latency?: LatencyOptions;
  faults?: FaultSpec[];
  /** `x-ms-region` value. Default "simulated-region". */
  region?: string;
  clock?: Clock;
  /** How many received requests GET /++/requests keeps. Default 200. */
  requestLogSize?: number;
  /** How many Responses API objects are kept. Default 1000. */
  maxStoredResponses?: number;
}

export interface RecordedRequest {
  /** The `x-request-id` the simulator answered with. */
  id: string;
  time: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names; `api-key` / `authorization` values are replaced by "[valid]" or "[invalid]". */
  headers: Record<string, string>;
  /** Parsed JSON when the body was JSON, else the raw text ("" when empty). */
  body: unknown;
  /** How it was answered: the status, or "reset" / "hang"; absent while the answer is still being decided. */
  outcome?: number | "reset" | "hang";
}

export interface SimulatorStats {
  instance: string;
  total: number;
  streamed: number;
  byDeployment: Record<string, number>;
  /** Status code as a string, or "reset" / "hang" for connection faults. */
  byStatus: Record<string, number>;
  /** chat, completions, embeddings, responses, responses.get, responses.delete, responses.cancel, responses.input_items, models, unknown */
  byRoute: Record<string, number>;
  faults: number;
  tokens: { prompt: number; completion: number };
}

export interface SimulatorHandle {
  /** http://host:port, without trailing slash. */
  url: string;
  port: number;
  name: string;
  stop(): Promise<void>;
  stats(): SimulatorStats;
  requests(): RecordedRequest[];
  /** Replace the fault list. */
  setFaults(faults: FaultSpec[]): void;
  clearFaults(): void;
  /** Clear stats, the request log, rate-limit windows and stored responses (faults and latency stay). */
  reset(): void;
}
