/**
 * The gateway under test: real APISIX 3.18 from APISIX_HOME (an instance folder of its own, apisix-instance.ts),
 * 2 workers, serving what `spillway render` renders for the three simulators, with client auth on, timeouts short
 * enough for a one-minute run, and Redis for the cooldowns. Two changes to the rendered config.yaml, both for
 * measuring: the control API is off (bench's benchConfigYaml: its fixed port clashes between instances), and the
 * access-log line also carries the serving worker's pid and the client's `x-chaos-id` (as the test rig logs the pid,
 * tests/rig/apisix-config.ts), so every client request can be matched with exactly one log line.
 *
 * apisix.yaml is not written by this process: `spillway render --watch` renders it into a folder of its own and the
 * instance's conf/apisix.yaml is a symlink to it, as in the image (apisix/Dockerfile). The reload phase changes the
 * env file and lets the watcher rewrite it under load.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import { EnvironmentError } from "../../lib/errors.ts";
import { renderConfig } from "../../renderer/render.ts";
import { loadSettings } from "../../renderer/settings.ts";
import { benchConfigYaml } from "../bench/apisix-gateways.ts";
import { warnLines, workerPids } from "../bench/proc.ts";
import { repoRoot } from "../lib/pins.ts";
import { createInstanceDir, removeInstanceDir, startInstance, type ApisixInstance } from "../start/apisix-instance.ts";
import { loopbackListenEnv } from "../start/ports.ts";
import type { Backend } from "./backends.ts";

export const WORKERS = 2;
const START_TIMEOUT_MS = 60_000;
const WATCH_TIMEOUT_MS = 30_000;
/** nobody: the user nginx gives its workers when started as root. */
const NOBODY = 65534;

/** The per-attempt limits this run renders (docs/configuration.md); the clients' deadline is derived from them. */
export const TIMEOUTS = { connectMs: 1000, sendMs: 2000, firstByteMs: 2000, readMs: 4000 } as const;
/**
 * Short cooldowns: a backend faulted in one phase is faulted again two phases later, and must not still be cooling
 * then, or that phase would test nothing (phases are 1.5 s in a --short run).
 */
export const COOLDOWNS = { default429Ms: 1000, errorMs: 1000, errorThreshold: 2, maxMs: 30_000 } as const;

export interface Client {
  name: string;
  key: string;
}

export interface GatewayEnvInput {
  backends: readonly Backend[];
  clients: readonly Client[];
  redisPort: number | undefined;
  /** Backend names as configured (the reload phase renames one). */
  names?: readonly string[];
}

/** The environment `spillway render` reads for this run (pure but for the free ports, which the caller passes). */
export function gatewayEnv(input: GatewayEnvInput, listen: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {
    ...listen,
    GATEWAY_REQUIRE_AUTH: "true",
    SPILLWAY_ALLOW_HTTP_BACKENDS: "true",
    APISIX_LOG_LEVEL: "warn",
    SPILLWAY_LUA_PATH: path.join(repoRoot, "build", "lua"),
    SPILLWAY_WORKER_PROCESSES: String(WORKERS),
    SPILLWAY_CONNECT_TIMEOUT_MS: String(TIMEOUTS.connectMs),
    SPILLWAY_SEND_TIMEOUT_MS: String(TIMEOUTS.sendMs),
    SPILLWAY_FIRST_BYTE_TIMEOUT_MS: String(TIMEOUTS.firstByteMs),
    SPILLWAY_READ_TIMEOUT_MS: String(TIMEOUTS.readMs),
    SPILLWAY_COOLDOWN_429_MS: String(COOLDOWNS.default429Ms),
    SPILLWAY_COOLDOWN_ERROR_MS: String(COOLDOWNS.errorMs),
    SPILLWAY_COOLDOWN_ERROR_THRESHOLD: String(COOLDOWNS.errorThreshold),
    SPILLWAY_COOLDOWN_MAX_MS: String(COOLDOWNS.maxMs),
  };
  input.backends.forEach((b, i) => {
    env[`AZURE_OPENAI_ENDPOINT_${i}`] = b.url;
    env[`AZURE_OPENAI_KEY_${i}`] = b.spec.apiKey;
    env[`AZURE_OPENAI_NAME_${i}`] = input.names?.[i] ?? b.spec.name;
  });
  input.clients.forEach((c, i) => {
    env[`GATEWAY_CLIENT_NAME_${i}`] = c.name;
    env[`GATEWAY_CLIENT_KEY_${i}`] = c.key;
  });
  if (input.redisPort !== undefined) {
    env.SPILLWAY_REDIS_HOST = "127.0.0.1";
    env.SPILLWAY_REDIS_PORT = String(input.redisPort);
  }
  return env;
}

/** The fields added to the rendered access-log line: the worker that served it, and the client's request id. */
export const ACCESS_LOG_EXTRA = ',"pid":"$pid","chaos_id":"$http_x_chaos_id"';

/** The rendered config.yaml, control API off, and the access-log line with the pid and x-chaos-id (pure). */
export function chaosConfigYaml(rendered: string): string {
  const doc = parseDocument(benchConfigYaml(rendered));
  const format = doc.getIn(["nginx_config", "http", "access_log_format"]);
  if (typeof format !== "string" || !format.endsWith("}")) throw new EnvironmentError("the rendered config.yaml has no JSON access_log_format");
  doc.setIn(["nginx_config", "http", "access_log_format"], `${format.slice(0, -1)}${ACCESS_LOG_EXTRA}}`);
  return doc.toString();
}

/** KEY=value lines; the values are fake keys of this run only (never real ones). */
export function envFileText(env: Record<string, string>): string {
  return `${Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n")}\n`;
}

export interface Watcher {
  /** Everything the watcher printed (checked for secrets like every log). */
  output(): string;
  /** Resolves once the watcher says it rewrote apisix.yaml `count` times in all. */
  rewrites(count: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `spillway render --env-file <file> --out <dir> --watch --interval 1`. As root it runs as nobody, the user the
 * workers run as, so the files it writes (apisix.yaml is owner-only) are the workers' to read, as in the image where
 * the renderer and APISIX share a user.
 */
export async function startWatcher(envFile: string, outDir: string): Promise<Watcher> {
  const asNobody = process.getuid?.() === 0;
  if (asNobody) {
    chmodSync(outDir, 0o777);
    chmodSync(envFile, 0o644);
  }
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", path.join(repoRoot, "scripts", "spillway.ts"), "render", "--env-file", envFile, "--out", outDir, "--watch", "--interval", "1"],
    { cwd: repoRoot, env: { PATH: process.env.PATH ?? "", HOME: outDir }, stdio: ["ignore", "pipe", "pipe"], ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {}) },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const rewrites = async (count: number): Promise<void> => {
    const deadline = Date.now() + WATCH_TIMEOUT_MS;
    while ((out.match(/apisix\.yaml changed and was rewritten/g) ?? []).length < count) {
      if (child.exitCode !== null) throw new EnvironmentError(`spillway render --watch exited (${child.exitCode}): ${out.trim().slice(-500)}`);
      if (Date.now() > deadline) throw new EnvironmentError(`spillway render --watch did not rewrite apisix.yaml within ${WATCH_TIMEOUT_MS / 1000} s: ${out.trim().slice(-500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const deadline = Date.now() + WATCH_TIMEOUT_MS;
  while (!/watching: re-reading/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new EnvironmentError(`spillway render --watch did not start: ${out.trim().slice(-800)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    output: () => out,
    rewrites,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface Gateway {
  url: string;
  dir: string;
  errorLogPath: string;
  accessLogPath: string;
  /** The current workers of the master (a crashed worker is replaced under another pid). */
  workerPids(): number[];
  stop(): Promise<void>;
}

function readIfThere(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

async function waitServing(url: string, instance: ApisixInstance): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const master = instance.masterPid()!;
  while (Date.now() < deadline) {
    if (workerPids(master).length === WORKERS) {
      try {
        await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
        return;
      } catch {
        // not listening yet
      }
    }
    if (!existsSync(`/proc/${master}`)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = warnLines(readIfThere(instance.errorLogPath)).slice(-8).join("\n");
  throw new EnvironmentError(`APISIX did not serve with ${WORKERS} workers within ${START_TIMEOUT_MS / 1000} s${tail ? `; error log:\n${tail}` : ""}`);
}

/**
 * Starts APISIX on the rendered config.yaml (with the chaos changes) and the watcher's apisix.yaml (a symlink to
 * `renderedDir/apisix.yaml`, which must exist).
 */
export async function startGateway(home: string, configYaml: string, renderedDir: string, listenPort: string): Promise<Gateway> {
  const dir = createInstanceDir(home, { configYaml, apisixYaml: readFileSync(path.join(renderedDir, "apisix.yaml"), "utf8") });
  const linked = path.join(dir, "conf", "apisix.yaml");
  rmSync(linked);
  symlinkSync(path.join(renderedDir, "apisix.yaml"), linked);
  let instance: ApisixInstance | undefined;
  const url = `http://127.0.0.1:${listenPort}`;
  try {
    instance = await startInstance(home, dir);
    await waitServing(url, instance);
  } catch (err) {
    await instance?.stop().catch(() => undefined);
    removeInstanceDir(dir);
    throw err;
  }
  const started = instance;
  return {
    url,
    dir,
    errorLogPath: started.errorLogPath,
    accessLogPath: started.accessLogPath,
    workerPids: () => workerPids(started.masterPid()!),
    stop: () => started.stop(),
  };
}

/** Renders once in this process (the same inputs the watcher reads): the config.yaml the instance runs with. */
export function renderedConfigYaml(env: Record<string, string>): string {
  const { settings, secrets } = loadSettings(env);
  return chaosConfigYaml(renderConfig(settings, secrets).configYaml);
}

export { loopbackListenEnv };

/** Writes the env file the watcher reads (0600 unless the watcher runs as nobody, see startWatcher). */
export function writeEnvFile(file: string, env: Record<string, string>): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, envFileText(env), { mode: 0o600 });
}
