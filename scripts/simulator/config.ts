/**
 * Simulator configuration: normalise SimulatorOptions (defaults, validation that lists every problem), merge
 * latency, and the aoai-api-simulator compatible view and PATCH of /++/config.
 */
import { ConfigError } from "../../lib/errors.ts";
import type { Clock, DeploymentOptions, FaultSpec, LatencyOptions, Operation, SimulatorOptions } from "./types.ts";
import { systemClock } from "./clock.ts";
import { validateFaults } from "./faults.ts";

export interface OpLatencyConf {
  mean: number;
  stdDev: number;
}

export interface LatencyConf {
  baseMs: number;
  streamIntervalMs: number;
  chat: OpLatencyConf;
  completions: OpLatencyConf;
  responses: OpLatencyConf;
  embeddings: OpLatencyConf;
}

export interface DeploymentConf {
  name: string;
  model: string;
  tpm: number;
  embeddingSize: number;
  defaultMaxTokens: number;
  latency?: LatencyOptions;
}

export interface InstanceConf {
  name: string;
  host: string;
  port: number;
  apiKey: string;
  region: string;
  clock: Clock;
  deployments: Map<string, DeploymentConf>;
  latency: LatencyConf;
  faults: FaultSpec[];
  requestLogSize: number;
  maxStoredResponses: number;
}

const UNLIMITED_TPM = 100_000_000;
const DEFAULT_EMBEDDING_SIZE = 1536;
/** Upstream generates up to the model's context when max_tokens is absent; a short reply keeps streams quick. */
const DEFAULT_MAX_TOKENS = 100;

export const DEFAULT_LATENCY: LatencyConf = {
  baseMs: 0,
  streamIntervalMs: 20,
  chat: { mean: 0, stdDev: 0 },
  completions: { mean: 0, stdDev: 0 },
  responses: { mean: 0, stdDev: 0 },
  embeddings: { mean: 0, stdDev: 0 },
};

const OPS: Operation[] = ["chat", "completions", "responses", "embeddings"];

export function mergeLatency(base: LatencyConf, opts: LatencyOptions | undefined): LatencyConf {
  if (!opts) return base;
  const out: LatencyConf = { ...base };
  if (opts.baseMs !== undefined) out.baseMs = opts.baseMs;
  if (opts.streamIntervalMs !== undefined) out.streamIntervalMs = opts.streamIntervalMs;
  for (const op of OPS) {
    const shorthand = op === "embeddings" ? opts.embeddingsMs : opts.perTokenMs;
    const specific = opts[op];
    out[op] = {
      mean: specific?.mean ?? shorthand ?? base[op].mean,
      stdDev: specific?.stdDev ?? base[op].stdDev,
    };
  }
  return out;
}

function latencyProblems(path: string, l: LatencyOptions | undefined): string[] {
  if (l === undefined) return [];
  const problems: string[] = [];
  const check = (name: string, v: unknown): void => {
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) {
      problems.push(`${path}.${name}: must be a number >= 0 (milliseconds)`);
    }
  };
  check("baseMs", l.baseMs);
  check("perTokenMs", l.perTokenMs);
  check("embeddingsMs", l.embeddingsMs);
  check("streamIntervalMs", l.streamIntervalMs);
  for (const op of OPS) {
    check(`${op}.mean`, l[op]?.mean);
    check(`${op}.stdDev`, l[op]?.stdDev);
  }
  return problems;
}

function deploymentConf(name: string, d: DeploymentOptions, problems: string[]): DeploymentConf {
  const at = `deployments.${name}`;
  if (typeof d?.model !== "string" || d.model === "") problems.push(`${at}.model: required (e.g. "gpt-4o-mini")`);
  const tpm = d?.tpm ?? d?.tokensPerMinute ?? UNLIMITED_TPM;
  if (typeof tpm !== "number" || !Number.isInteger(tpm) || tpm <= 0) problems.push(`${at}.tpm: must be a positive integer`);
  problems.push(...latencyProblems(`${at}.latency`, d?.latency));
  return {
    name,
    model: d?.model,
    tpm,
    embeddingSize: d?.embeddingSize ?? DEFAULT_EMBEDDING_SIZE,
    defaultMaxTokens: d?.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
    latency: d?.latency,
  };
}

/** Validate and fill defaults; throws ConfigError listing every problem. */
export function normalizeOptions(opts: SimulatorOptions): InstanceConf {
  const problems: string[] = [];
  if (typeof opts.name !== "string" || !/^[A-Za-z0-9._-]+$/.test(opts.name)) {
    problems.push(`name: required, letters, digits, ".", "_" or "-" (got ${JSON.stringify(opts.name)})`);
  }
  if (typeof opts.apiKey !== "string" || opts.apiKey.length === 0) problems.push("apiKey: required (a non-empty string)");
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push("port: must be an integer 0-65535 (0 = any free port)");
  const deployments = new Map<string, DeploymentConf>();
  if (!opts.deployments || typeof opts.deployments !== "object" || Object.keys(opts.deployments).length === 0) {
    problems.push('deployments: required, e.g. {"gpt-4o-mini": {"model": "gpt-4o-mini", "tpm": 100000}}');
  } else {
    for (const [name, d] of Object.entries(opts.deployments)) deployments.set(name, deploymentConf(name, d, problems));
  }
  problems.push(...latencyProblems("latency", opts.latency));
  problems.push(...validateFaults(opts.faults ?? []).map((p) => `faults${p}`));
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `simulator ${opts.name ?? "?"}: ${p}`));
  return {
    name: opts.name,
    host: opts.host ?? "127.0.0.1",
    port,
    apiKey: opts.apiKey,
    region: opts.region ?? "simulated-region",
    clock: opts.clock ?? systemClock,
    deployments,
    latency: mergeLatency(DEFAULT_LATENCY, opts.latency),
    faults: opts.faults ?? [],
    requestLogSize: opts.requestLogSize ?? 200,
    maxStoredResponses: opts.maxStoredResponses ?? 1000,
  };
}

const COMPAT_KEYS: Record<string, Operation> = {
  open_ai_chat_completions: "chat",
  open_ai_completions: "completions",
  open_ai_embeddings: "embeddings",
  open_ai_responses: "responses",
};

/** GET /++/config body: aoai-api-simulator's shape plus base_ms, stream_interval_ms, instance and region. */
export function configView(conf: InstanceConf): Record<string, unknown> {
  const latency: Record<string, unknown> = {};
  for (const [key, op] of Object.entries(COMPAT_KEYS)) {
    latency[key] = { mean: conf.latency[op].mean, std_dev: conf.latency[op].stdDev };
  }
  latency.base_ms = conf.latency.baseMs;
  latency.stream_interval_ms = conf.latency.streamIntervalMs;
  const deployments: Record<string, unknown> = {};
  for (const d of conf.deployments.values()) deployments[d.name] = { tokens_per_minute: d.tpm, model: d.model };
  return { simulator_mode: "generate", latency, openai_deployments: deployments, instance: conf.name, region: conf.region };
}

/** Apply a PATCH /++/config body (field-by-field latency merge). Returns problems; nothing changes if any. */
export function patchConfig(conf: InstanceConf, patch: unknown): string[] {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) return ["body: must be a JSON object"];
  const p = patch as Record<string, unknown>;
  if (p.simulator_mode !== undefined && p.simulator_mode !== "generate") return ["simulator_mode: only \"generate\" is supported"];
  if (p.latency === undefined) return [];
  if (!p.latency || typeof p.latency !== "object") return ["latency: must be an object"];
  const next: LatencyConf = structuredClone(conf.latency);
  const problems: string[] = [];
  const num = (path: string, v: unknown, set: (n: number) => void): void => {
    if (v === undefined) return;
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) set(v);
    else problems.push(`${path}: must be a number >= 0`);
  };
  for (const [key, value] of Object.entries(p.latency as Record<string, unknown>)) {
    const op = COMPAT_KEYS[key];
    if (op !== undefined && value && typeof value === "object") {
      const v = value as Record<string, unknown>;
      num(`latency.${key}.mean`, v.mean, (n) => (next[op].mean = n));
      num(`latency.${key}.std_dev`, v.std_dev, (n) => (next[op].stdDev = n));
    } else if (key === "base_ms") num("latency.base_ms", value, (n) => (next.baseMs = n));
    else if (key === "stream_interval_ms") num("latency.stream_interval_ms", value, (n) => (next.streamIntervalMs = n));
    else if (op === undefined) problems.push(`latency.${key}: unknown setting`);
    else problems.push(`latency.${key}: must be an object {mean, std_dev}`);
  }
  if (problems.length === 0) conf.latency = next;
  return problems;
}

/** Delay before the first byte: base + one normal draw × completion tokens (embeddings: × 1). */
export function generationDelayMs(latency: LatencyConf, op: Operation, completionTokens: number): number {
  const { mean, stdDev } = latency[op];
  const sample = stdDev > 0 ? mean + stdDev * gaussian() : mean;
  const variable = Math.max(0, sample) * (op === "embeddings" ? 1 : completionTokens);
  return latency.baseMs + variable;
}

function gaussian(): number {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}
