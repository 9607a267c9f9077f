/**
 * The three simulators as the scenarios see them: an address, a key, and the control API every instance serves
 * (docs/simulator.md, `/++/*`), the same for a local child process and a deployed container. Locally each one is
 * its own Node process (scripts/chaos/sim-child.ts, as the chaos run and the bench run them: off the load
 * generator's event loop) serving the toolkit's deployment set.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { EnvironmentError } from "../../lib/errors.ts";
import type { ChildMessage } from "../chaos/sim-child.ts";
import { repoRoot } from "../lib/pins.ts";
import { TOOLKIT_DEPLOYMENTS, type RecordedRequest, type SimulatorOptions, type SimulatorStats } from "../simulator/index.ts";
import type { Role } from "./model.ts";

const CONTROL_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 30_000;
/** Enough for a --long scenario's every request at one instance (the breaker reads the whole log). */
const REQUEST_LOG_SIZE = 500_000;

/** Latency as PATCH /++/config takes it (ms; chat/completions per completion token, embeddings per request). */
export interface LatencySetting {
  baseMs?: number;
  streamIntervalMs?: number;
  chat?: number;
  completions?: number;
  embeddings?: number;
}

/** The PATCH /++/config body: every mean set (0 when not given), no jitter, so a scenario starts from known latency. */
export function latencyPatch(l: LatencySetting): Record<string, unknown> {
  const op = (mean: number | undefined) => ({ mean: mean ?? 0, std_dev: 0 });
  return {
    latency: {
      open_ai_chat_completions: op(l.chat),
      open_ai_completions: op(l.completions),
      open_ai_embeddings: op(l.embeddings),
      open_ai_responses: op(l.chat),
      base_ms: l.baseMs ?? 0,
      stream_interval_ms: l.streamIntervalMs ?? 20,
    },
  };
}

export class SimulatorControl {
  constructor(
    readonly role: Role,
    readonly url: string,
    readonly key: string,
  ) {}

  private async call(method: string, p: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${p}`, {
        method,
        headers: { "api-key": this.key, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
      });
    } catch (err) {
      throw new EnvironmentError(`simulator ${this.role} at ${this.url} does not answer ${method} ${p}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    if (!res.ok) throw new EnvironmentError(`simulator ${this.role}: ${method} ${p} answered HTTP ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  }

  stats(): Promise<SimulatorStats> {
    return this.call("GET", "/++/stats") as Promise<SimulatorStats>;
  }

  async requests(): Promise<RecordedRequest[]> {
    return ((await this.call("GET", "/++/requests")) as { requests: RecordedRequest[] }).requests;
  }

  /** Deployments and their TPM, as the instance reports them (GET /++/config). */
  async deployments(): Promise<Record<string, number>> {
    const view = (await this.call("GET", "/++/config")) as { openai_deployments?: Record<string, { tokens_per_minute: number }> };
    return Object.fromEntries(Object.entries(view.openai_deployments ?? {}).map(([d, v]) => [d, v.tokens_per_minute]));
  }

  /** Sets latency (and empties the rate-limit windows, as PATCH does). */
  async setLatency(l: LatencySetting): Promise<void> {
    await this.call("PATCH", "/++/config", latencyPatch(l));
  }

  /** Stats, request log, windows and stored responses back to empty; no faults. */
  async reset(): Promise<void> {
    await this.call("DELETE", "/++/faults");
    await this.call("POST", "/++/reset");
  }
}

export interface LocalSimulator {
  control: SimulatorControl;
  pid: number;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** One local simulator serving the toolkit's deployments, in a child process; resolves once it listens. */
export async function startLocalSimulator(role: Role, apiKey: string, dir: string): Promise<LocalSimulator> {
  const options: SimulatorOptions = { name: role, apiKey, port: 0, requestLogSize: REQUEST_LOG_SIZE, deployments: TOOLKIT_DEPLOYMENTS };
  const file = path.join(dir, `sim-${role}.json`);
  writeFileSync(file, JSON.stringify(options), { mode: 0o600 });
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts/chaos/sim-child.ts"), file], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EnvironmentError(`simulator ${role} did not start within ${START_TIMEOUT_MS / 1000} s: ${err.trim()}`)), START_TIMEOUT_MS);
    child.on("message", (m: ChildMessage) => {
      if (!("event" in m)) return;
      clearTimeout(timer);
      resolve(m.url);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new EnvironmentError(`simulator ${role} exited (${code}) during start-up: ${err.trim()}`));
    });
  }).catch(async (e: unknown) => {
    await stopChild(child);
    throw e;
  });
  return { control: new SimulatorControl(role, url, apiKey), pid: child.pid!, stop: () => stopChild(child) };
}
