/**
 * The three Azure OpenAI simulators behind the gateway, each its own Node process (sim-child.ts; as the bench's
 * simulators, none shares the load generator's event loop), on a fixed loopback port: `close()` makes the port refuse
 * connections and `open()` serves on it again. Faults are set over each simulator's control API (docs/simulator.md,
 * `/++/faults`); what each one received (credentials redacted by the simulator) is drained from `/++/requests`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { EnvironmentError } from "../../lib/errors.ts";
import { repoRoot } from "../lib/pins.ts";
import type { FaultSpec, RecordedRequest } from "../simulator/types.ts";
import { freePort } from "../start/ports.ts";
import type { ChildCommand, ChildMessage } from "./sim-child.ts";

export const DEPLOYMENT = "gpt-4o-mini";
/** Large enough for one phase of the heaviest run; drained after each phase. */
const REQUEST_LOG_SIZE = 200_000;
const CONTROL_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 30_000;

export interface BackendSpec {
  /** Instance name: x-sim-instance, and the backend name the gateway reports in x-gw-backend. */
  name: string;
  /** This backend's own key (a fake one, only for these local simulators). */
  apiKey: string;
  /** Gap before each streamed content frame. */
  streamIntervalMs: number;
  /** Delay before the first byte of every answer. */
  baseMs: number;
}

export interface Backend {
  spec: BackendSpec;
  url: string;
  /** Its process (CPU accounting). */
  pid: number;
  /** Whether its port accepts connections (false between close() and open()). */
  listening(): boolean;
  /** Replaces its fault list (no call when the list is the one it has). */
  setFaults(faults: FaultSpec[]): Promise<void>;
  /**
   * The requests it received since the last drain (oldest first), then forgets them. A request that arrives between
   * the read and the clear is not seen: the capture is a (large) sample.
   */
  drain(): Promise<RecordedRequest[]>;
  /** Faults it has applied since it (last) started serving (GET /++/stats `faults`). */
  faultsApplied(): Promise<number>;
  /** Stops serving: its port refuses connections. */
  close(): Promise<void>;
  /** Serves again on the same port, with no faults and empty counters. */
  open(): Promise<void>;
  /** Ends the process. */
  shutdown(): Promise<void>;
}

async function control(url: string, key: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "api-key": key, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`simulator control ${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as unknown;
}

function spawnChild(file: string): { child: ChildProcess; url: Promise<string>; stderr: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts/chaos/sim-child.ts"), file], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EnvironmentError(`simulator did not start within ${START_TIMEOUT_MS / 1000} s: ${err.trim()}`)), START_TIMEOUT_MS);
    child.on("message", (m: ChildMessage) => {
      if ("event" in m) {
        clearTimeout(timer);
        resolve(m.url);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new EnvironmentError(`simulator exited (${code}) during start-up: ${err.trim()}`));
    });
  });
  return { child, url, stderr: () => err };
}

export async function startBackend(spec: BackendSpec, dir: string): Promise<Backend> {
  const port = await freePort();
  const file = path.join(dir, `sim-${spec.name}.json`);
  const options = {
    name: spec.name,
    apiKey: spec.apiKey,
    port,
    requestLogSize: REQUEST_LOG_SIZE,
    deployments: { [DEPLOYMENT]: { model: DEPLOYMENT, tpm: 1_000_000_000_000 } },
    latency: { baseMs: spec.baseMs, perTokenMs: 0, streamIntervalMs: spec.streamIntervalMs },
  };
  writeFileSync(file, JSON.stringify(options), { mode: 0o600 });
  const { child, url: started } = spawnChild(file);
  const url = await started.catch((e: unknown) => {
    child.kill("SIGKILL");
    throw e;
  });
  let open = true;
  let seq = 0;
  /** The fault list it has now (JSON), so an unchanged list costs no control call. */
  let current = "[]";
  const command = (cmd: ChildCommand["cmd"]): Promise<void> =>
    new Promise((resolve, reject) => {
      const mine = ++seq;
      const onMessage = (m: ChildMessage): void => {
        if (!("seq" in m) || m.seq !== mine) return;
        child.off("message", onMessage);
        if (m.ok) resolve();
        else reject(new EnvironmentError(`simulator ${spec.name} could not ${cmd}: ${m.error ?? "?"}`));
      };
      child.on("message", onMessage);
      child.send({ seq: mine, cmd } satisfies ChildCommand);
    });
  const call = (method: string, p: string, body?: unknown): Promise<unknown> => control(url, spec.apiKey, method, p, body);
  return {
    spec,
    url,
    pid: child.pid!,
    listening: () => open,
    async setFaults(faults) {
      const wanted = JSON.stringify(faults);
      if (!open || wanted === current) return;
      if (faults.length === 0) await call("DELETE", "/++/faults");
      else await call("POST", "/++/faults", { faults });
      current = wanted;
    },
    async drain() {
      if (!open) return [];
      const { requests } = (await call("GET", "/++/requests")) as { requests: RecordedRequest[] };
      await call("DELETE", "/++/requests");
      return requests;
    },
    async faultsApplied() {
      if (!open) return 0;
      return ((await call("GET", "/++/stats")) as { faults?: number }).faults ?? 0;
    },
    async close() {
      if (!open) return;
      open = false;
      await command("close");
    },
    async open() {
      if (open) return;
      await command("open");
      open = true;
      current = "[]";
    },
    shutdown: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

export async function startBackends(specs: readonly BackendSpec[], dir: string): Promise<Backend[]> {
  const started: Backend[] = [];
  try {
    // One at a time: each loads the tokenizer (~0.6 s of CPU) and the box has two cores.
    for (const spec of specs) started.push(await startBackend(spec, dir));
    return started;
  } catch (err) {
    await Promise.allSettled(started.map((b) => b.shutdown()));
    throw err;
  }
}
