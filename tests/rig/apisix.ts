/**
 * TEST CODE. Real APISIX 3.18.0 behind the same Gateway interface as the nginx stand-in (nginx.ts), so one scenario
 * runs on both. Two ways to get it:
 *   docker  the pinned image (scripts/lib/pins.ts) via testcontainers, host network, build/lua bind-mounted at
 *           /opt/spillway/lua, our config.yaml + apisix.yaml mounted into conf/ (APISIX_STAND_ALONE=true);
 *   local   APISIX_HOME=<an installed APISIX, e.g. the apisix-lab build>: an instance folder of its own
 *           (scripts/start/apisix-instance.ts: symlinks to the install, own conf/ and logs/), `bin/apisix start|quit`;
 *           the install is never written to, so suites run side by side.
 * apisixAvailability() says which one this machine has, or why neither; a suite then reports itself skipped with
 * that reason, never passed.
 */
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pins, repoRoot } from "../../scripts/lib/pins.ts";
import { readApisixYaml, readConfigYaml, readPath } from "./apisix-yaml.ts";
import { renderApisixConfig } from "./apisix-config.ts";
import { parseAccessLog, type Gateway, type GatewayOptions } from "./gateway.ts";
import { freePort } from "./nginx.ts";
import { createInstanceDir, isLabNoise, removeInstanceDir, startInstance, type ApisixInstance } from "../../scripts/start/apisix-instance.ts";

const START_TIMEOUT_MS = 60_000;
const RELOAD_TIMEOUT_MS = 10_000;
const CONTAINER_LUA = "/opt/spillway/lua";
const RELOADED = /config file .* reloaded\./g;

export type ApisixAvailability =
  | { ok: true; mode: "docker" }
  | { ok: true; mode: "local"; home: string }
  | { ok: false; reason: string };

/** Docker first (a reachable engine), then APISIX_HOME; otherwise the reason both are missing. */
export async function apisixAvailability(env: NodeJS.ProcessEnv = process.env): Promise<ApisixAvailability> {
  const hasDockerHint = Boolean(env.DOCKER_HOST) || existsSync("/var/run/docker.sock") || existsSync(path.join(env.HOME ?? "/root", ".docker/run/docker.sock"));
  if (hasDockerHint) {
    try {
      const { getContainerRuntimeClient } = await import("testcontainers");
      await Promise.race([
        getContainerRuntimeClient(),
        new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 10_000)),
      ]);
      return { ok: true, mode: "docker" };
    } catch {
      // fall through to APISIX_HOME
    }
  }
  const home = env.APISIX_HOME;
  if (home && existsSync(path.join(home, "bin/apisix"))) return { ok: true, mode: "local", home };
  const reason = home ? `APISIX_HOME=${home} has no bin/apisix, and no Docker engine answers` : "no Docker engine and APISIX_HOME unset";
  // CI (scripts/test.sh with SPILLWAY_REQUIRE_APISIX=1): a real-APISIX suite must run, never skip.
  if (env.SPILLWAY_REQUIRE_APISIX === "1") throw new Error(`real APISIX is required (SPILLWAY_REQUIRE_APISIX=1) but unavailable: ${reason}`);
  return { ok: false, reason };
}

/** Splits the gateway's combined output: our JSON access-log lines vs everything else (the error log). */
function splitLogs(text: string): { error: string; access: string } {
  const error: string[] = [];
  const access: string[] = [];
  for (const line of text.split("\n")) (line.includes('{"status"') ? access : error).push(line);
  return { error: error.join("\n"), access: access.join("\n") };
}

async function waitHttp(url: string, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`APISIX did not answer on ${url} within ${timeoutMs} ms; log tail:\n${logs().split("\n").slice(-40).join("\n")}`);
}

/** APISIX notices a new apisix.yaml by mtime (1 s resolution): write in place (keeps a bind-mounted inode), bump mtime. */
function rewriteInPlace(target: string, source: string): void {
  writeFileSync(target, readFileSync(source));
  const now = Date.now() / 1000;
  utimesSync(target, now + 1, now + 1);
}

/**
 * APISIX gives no signal when a new config serves: a route rebuild follows its own check of the config
 * version (every 0.5 s) after the "reloaded." line. One second covers it (docs/testing.md, divergence 11).
 */
const ROUTES_REBUILT_MS = 1000;

/** Every worker re-reads apisix.yaml on its own timer: wait for all of them, then for their route rebuild. */
async function waitReloaded(logs: () => string, before: number, workers = 1): Promise<void> {
  const deadline = Date.now() + RELOAD_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if ((logs().match(RELOADED) ?? []).length >= before + workers) {
      await new Promise((r) => setTimeout(r, ROUTES_REBUILT_MS));
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`APISIX did not log "config file ... reloaded." within ${RELOAD_TIMEOUT_MS} ms`);
}

/** The config.yaml real APISIX runs with: the caller's, with the rig's requirements laid over it. */
function rigConfig(opts: GatewayOptions, port: number, luaPatterns: string[]): string {
  const env = { ...process.env, ...opts.env };
  const apisix = readApisixYaml(opts.apisixYaml, env); // refuses a file without #END, as APISIX would
  const base = readConfigYaml(opts.configYaml, env);
  const hookConf = readPath(base, "apisix", "lua_module_hook");
  return renderApisixConfig({
    base,
    apisix,
    port,
    luaPatterns,
    luaModuleHook: opts.luaModuleHook ?? (typeof hookConf === "string" ? hookConf : undefined),
    workers: opts.workers ?? 1,
    sharedDicts: opts.sharedDicts ?? {},
  });
}

async function startDocker(opts: GatewayOptions): Promise<Gateway> {
  const { GenericContainer } = await import("testcontainers");
  const port = await freePort();
  const extra = (opts.luaPaths ?? []).map((p, i) => ({ host: p, container: `/opt/spillway/extra${i}` }));
  const patterns = [...extra.map((e) => `${e.container}/?.lua`), `${CONTAINER_LUA}/?.lua`];
  const configText = rigConfig(opts, port, patterns);
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-apisix-"));
  chmodSync(dir, 0o755); // the image runs as user apisix (uid 636)
  const configPath = path.join(dir, "config.yaml");
  const apisixPath = path.join(dir, "apisix.yaml");
  const logPath = path.join(dir, "gateway.log");
  writeFileSync(configPath, configText, { mode: 0o644 });
  copyFileSync(opts.apisixYaml, apisixPath);
  chmodSync(apisixPath, 0o666);
  writeFileSync(logPath, "");
  let output = "";
  const container = await new GenericContainer(pins.apisix_image)
    .withNetworkMode("host")
    .withEnvironment({ ...opts.env, APISIX_STAND_ALONE: "true" })
    .withBindMounts([
      { source: path.join(repoRoot, "build/lua"), target: CONTAINER_LUA, mode: "ro" },
      ...extra.map((e) => ({ source: e.host, target: e.container, mode: "ro" as const })),
      { source: configPath, target: "/usr/local/apisix/conf/config.yaml", mode: "ro" },
      { source: apisixPath, target: "/usr/local/apisix/conf/apisix.yaml", mode: "rw" },
    ])
    .withLogConsumer((stream) => {
      stream.on("data", (d: Buffer | string) => {
        const text = d.toString();
        output += text;
        appendFileSync(logPath, text);
      });
    })
    .withStartupTimeout(START_TIMEOUT_MS)
    .start();
  const logs = () => output;
  await waitHttp(`http://127.0.0.1:${port}/`, START_TIMEOUT_MS, logs);
  let keep = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    errorLogPath: logPath,
    errorLog: () => splitLogs(output).error,
    accessLog: () => splitLogs(output).access,
    keepLogs: () => {
      keep = true;
    },
    async reload() {
      const before = (output.match(RELOADED) ?? []).length;
      rewriteInPlace(apisixPath, opts.apisixYaml);
      await waitReloaded(logs, before);
    },
    async stop() {
      await container.stop({ timeout: 5_000 });
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startLocal(opts: GatewayOptions, home: string): Promise<Gateway> {
  const port = await freePort();
  const patterns = [...(opts.luaPaths ?? []).map((p) => `${p}/?.lua`), `${path.join(repoRoot, "build/lua")}/?.lua`];
  const configText = rigConfig(opts, port, patterns);
  const dir = createInstanceDir(home, { configYaml: configText, apisixYaml: readFileSync(opts.apisixYaml, "utf8") });
  const env = { ...process.env, ...opts.env };
  const workers = opts.workers ?? 1;
  let instance: ApisixInstance;
  const errorLogPath = path.join(dir, "logs/error.log");
  const accessLogPath = path.join(dir, "logs/access.log");
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : "");
  try {
    instance = await startInstance(home, dir, env);
    await waitHttp(`http://127.0.0.1:${port}/`, START_TIMEOUT_MS, () => read(errorLogPath));
    // The readiness probe's own 404 is logged after its answer went out: wait for that line, so that suites that
    // count access-log lines from here do not count it as theirs.
    const until = Date.now() + 3_000;
    while (parseAccessLog(read(accessLogPath)).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  } catch (err) {
    await stopPid(dir);
    throw err;
  }
  let keep = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    errorLogPath,
    errorLog: () => withoutLabNoise(read(errorLogPath)),
    accessLog: () => read(accessLogPath),
    keepLogs: () => {
      keep = true;
    },
    async reload() {
      const before = (read(errorLogPath).match(RELOADED) ?? []).length;
      rewriteInPlace(path.join(dir, "conf/apisix.yaml"), opts.apisixYaml);
      await waitReloaded(() => read(errorLogPath), before, workers);
    },
    async stop() {
      await instance.stop();
      if (!keep) removeInstanceDir(dir);
    },
  };
}

/** Drops the lab's two start-up lines (isLabNoise): the suites' "no error lines" checks see only ours and APISIX's. */
function withoutLabNoise(log: string): string {
  return log
    .split("\n")
    .filter((line) => !isLabNoise(line))
    .join("\n");
}

/** A start that failed half-way: stop whatever master wrote its pid. */
async function stopPid(dir: string): Promise<void> {
  const pidFile = path.join(dir, "logs/nginx.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8"), 10);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Starts real APISIX 3.18.0 the way `availability` says; same contract as startGateway in nginx.ts. */
export function startApisix(opts: GatewayOptions, availability: ApisixAvailability): Promise<Gateway> {
  if (!availability.ok) throw new Error(`real APISIX is not available: ${availability.reason}`);
  return availability.mode === "docker" ? startDocker(opts) : startLocal(opts, availability.home);
}

export const APISIX_VERSION = pins.apisix_version;
