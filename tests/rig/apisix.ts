/**
 * TEST CODE. Real APISIX 3.18.0 behind the same Gateway interface as the nginx stand-in (nginx.ts), so one scenario
 * runs on both. Two ways to get it:
 *   docker  the pinned image (scripts/lib/pins.ts) via testcontainers, host network, build/lua bind-mounted at
 *           /opt/spillway/lua, our config.yaml + apisix.yaml mounted into conf/ (APISIX_STAND_ALONE=true);
 *   local   APISIX_HOME=<an installed APISIX>: our config.yaml/apisix.yaml written into its conf/ (the originals
 *           are restored on stop), `bin/apisix start|quit`.
 * apisixAvailability() says which one this machine has, or why neither; a suite then reports itself skipped with
 * that reason, never passed.
 */
import { execFile } from "node:child_process";
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pins, repoRoot } from "../../scripts/lib/pins.ts";
import { readApisixYaml, readConfigYaml, readPath } from "./apisix-yaml.ts";
import { renderApisixConfig } from "./apisix-config.ts";
import type { Gateway, GatewayOptions } from "./gateway.ts";
import { freePort } from "./nginx.ts";

const run = promisify(execFile);
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
  if (home) return { ok: false, reason: `APISIX_HOME=${home} has no bin/apisix, and no Docker engine answers` };
  return { ok: false, reason: "no Docker engine and APISIX_HOME unset" };
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

async function waitReloaded(logs: () => string, before: number): Promise<void> {
  const deadline = Date.now() + RELOAD_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if ((logs().match(RELOADED) ?? []).length > before) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`APISIX did not log "config file ... reloaded." within ${RELOAD_TIMEOUT_MS} ms`);
}

function prepare(opts: GatewayOptions, port: number, luaPatterns: string[]): { dir: string; configText: string } {
  const env = { ...process.env, ...opts.env };
  const apisix = readApisixYaml(opts.apisixYaml, env); // refuses a file without #END, as APISIX would
  const base = readConfigYaml(opts.configYaml, env);
  const hookConf = readPath(base, "apisix", "lua_module_hook");
  const configText = renderApisixConfig({
    base,
    apisix,
    port,
    luaPatterns,
    luaModuleHook: opts.luaModuleHook ?? (typeof hookConf === "string" ? hookConf : undefined),
    workers: opts.workers ?? 1,
    sharedDicts: opts.sharedDicts ?? {},
  });
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-apisix-"));
  chmodSync(dir, 0o755); // the image runs as user apisix (uid 636)
  return { dir, configText };
}

async function startDocker(opts: GatewayOptions): Promise<Gateway> {
  const { GenericContainer } = await import("testcontainers");
  const port = await freePort();
  const extra = (opts.luaPaths ?? []).map((p, i) => ({ host: p, container: `/opt/spillway/extra${i}` }));
  const patterns = [...extra.map((e) => `${e.container}/?.lua`), `${CONTAINER_LUA}/?.lua`];
  const { dir, configText } = prepare(opts, port, patterns);
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
  const { dir, configText } = prepare(opts, port, patterns);
  const conf = (name: string) => path.join(home, "conf", name);
  for (const name of ["config.yaml", "apisix.yaml"]) {
    if (existsSync(conf(name))) renameSync(conf(name), path.join(dir, `${name}.orig`));
  }
  writeFileSync(conf("config.yaml"), configText);
  copyFileSync(opts.apisixYaml, conf("apisix.yaml"));
  const errorLogPath = path.join(home, "logs/error.log");
  const accessLogPath = path.join(home, "logs/access.log");
  const offset = (p: string) => (existsSync(p) ? readFileSync(p).length : 0);
  const errStart = offset(errorLogPath);
  const accStart = offset(accessLogPath);
  const read = (p: string, from: number) => (existsSync(p) ? readFileSync(p).subarray(from).toString("utf8") : "");
  const env = { ...process.env, ...opts.env };
  const restore = () => {
    for (const name of ["config.yaml", "apisix.yaml"]) {
      const saved = path.join(dir, `${name}.orig`);
      if (existsSync(saved)) renameSync(saved, conf(name));
      else rmSync(conf(name), { force: true });
    }
  };
  try {
    await run(path.join(home, "bin/apisix"), ["start"], { env, cwd: home });
    await waitHttp(`http://127.0.0.1:${port}/`, START_TIMEOUT_MS, () => read(errorLogPath, errStart));
  } catch (err) {
    restore();
    throw err;
  }
  let keep = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    errorLogPath,
    errorLog: () => read(errorLogPath, errStart),
    accessLog: () => read(accessLogPath, accStart),
    keepLogs: () => {
      keep = true;
    },
    async reload() {
      const before = (read(errorLogPath, errStart).match(RELOADED) ?? []).length;
      rewriteInPlace(conf("apisix.yaml"), opts.apisixYaml);
      await waitReloaded(() => read(errorLogPath, errStart), before);
    },
    async stop() {
      await run(path.join(home, "bin/apisix"), ["quit"], { env, cwd: home }).catch(() => undefined);
      restore();
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts real APISIX 3.18.0 the way `availability` says; same contract as startGateway in nginx.ts. */
export function startApisix(opts: GatewayOptions, availability: ApisixAvailability): Promise<Gateway> {
  if (!availability.ok) throw new Error(`real APISIX is not available: ${availability.reason}`);
  return availability.mode === "docker" ? startDocker(opts) : startLocal(opts, availability.home);
}

export const APISIX_VERSION = pins.apisix_version;
