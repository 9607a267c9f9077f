/**
 * One APISIX instance from a local install (APISIX_HOME): its own folder with symlinks to the install's code
 * (`apisix bin deps openresty`) and its own `conf/` and `logs/`, so the install is never modified and several
 * instances (tests, the demo, `spillway start`) run side by side from one install. `bin/apisix` takes its home from
 * the working directory, which is why this works without copying anything.
 *
 * The rendered config.yaml sends logs to /dev/stderr and /dev/stdout, which is right in the container and wrong for a
 * daemonised local nginx (`open() "/dev/stderr" failed (6: No such device or address)`): a local instance writes them
 * to files in its logs/ folder instead (withLocalLogs).
 */
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parseDocument } from "yaml";
import { EnvironmentError } from "../../lib/errors.ts";

const run = promisify(execFile);
/** What an instance borrows from the install; everything else (conf, logs, nginx temp dirs) is its own. */
const LINKED = ["apisix", "bin", "deps", "openresty"] as const;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Lines the apisix-lab build logs at every start by design (its README, "Deviations" 3 and 8): no privileged agent
 * in Debian's nginx core, and a lower open-files hard limit than APISIX asks for. Not ours, not APISIX's behaviour.
 */
const LAB_NOISE = [
  /\[error\] .*failed to enable privileged_agent: missing privileged agent process patch in the nginx core/,
  /\[alert\] .*setrlimit\(RLIMIT_NOFILE, \d+\) failed/,
];

export function isLabNoise(line: string): boolean {
  return LAB_NOISE.some((re) => re.test(line));
}

export interface ApisixInstance {
  dir: string;
  errorLogPath: string;
  accessLogPath: string;
  /** The nginx master's pid once started. */
  masterPid(): number | undefined;
  /** `bin/apisix quit` (graceful), then SIGKILL if the master is still there after 10 s. */
  stop(): Promise<void>;
}

export function isApisixHome(home: string): boolean {
  return existsSync(path.join(home, "bin", "apisix")) && existsSync(path.join(home, "apisix"));
}

export function checkApisixHome(home: string): void {
  if (!isApisixHome(home)) {
    throw new EnvironmentError(`APISIX_HOME=${home} does not look like an APISIX install (no bin/apisix or apisix/); point it at the directory that holds them`);
  }
}

/** The install's APISIX version (apisix/core/version.lua) and whether it is an apisix-lab build. */
export function installFacts(home: string): { version: string | undefined; lab: boolean } {
  const versionFile = path.join(home, "apisix", "core", "version.lua");
  const version = existsSync(versionFile) ? /VERSION\s*=\s*"([^"]+)"/.exec(readFileSync(versionFile, "utf8"))?.[1] : undefined;
  return { version, lab: existsSync(path.join(home, ".apisix-lab-stamp")) };
}

/** The environment bin/apisix needs: the install's `openresty` (the lab's shim, or /usr/local/openresty) on PATH. */
export function apisixEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const dirs = [path.join(home, "openresty", "bin"), path.join(home, "..", "openresty", "bin"), "/usr/local/openresty/bin"].filter((d) => existsSync(d));
  return { ...process.env, ...extra, PATH: [...dirs, process.env.PATH ?? ""].join(":") };
}

/**
 * config.yaml text → the same document with error and access logs in `logsDir` when they point at /dev/std*
 * (a daemonised nginx has no terminal). Everything else is kept, comments included.
 */
export function withLocalLogs(configYaml: string, logsDir: string): string {
  const doc = parseDocument(configYaml);
  const errorLog = doc.getIn(["nginx_config", "error_log"]);
  if (errorLog === undefined || (typeof errorLog === "string" && errorLog.startsWith("/dev/"))) {
    doc.setIn(["nginx_config", "error_log"], path.join(logsDir, "error.log"));
  }
  const accessLog = doc.getIn(["nginx_config", "http", "access_log"]);
  if (accessLog === undefined || (typeof accessLog === "string" && accessLog.startsWith("/dev/"))) {
    doc.setIn(["nginx_config", "http", "access_log"], path.join(logsDir, "access.log"));
  }
  return doc.toString();
}

/**
 * Settings a local install needs that a config.yaml written for the official image does not carry: the lab build
 * (Debian nginx 1.22) has no HTTP/2 and no ngx_http_ffi_client, and says so in its own conf/config.yaml; it also turns
 * the control API off, whose fixed 127.0.0.1:9090 would make a second instance on the same machine fail to bind
 * (inside a container it is harmless). Our config.yaml replaces the install's, so these are carried over from it
 * unless ours sets them.
 */
const INSTALL_SETTINGS = [
  ["apisix", "enable_http2"],
  ["apisix", "enable_control"],
  ["plugin_attr", "ai-proxy", "http_client"],
] as const;

export function withInstallSettings(configYaml: string, installConfigYaml: string | undefined): string {
  if (installConfigYaml === undefined) return configYaml;
  const install = parseDocument(installConfigYaml);
  const doc = parseDocument(configYaml);
  for (const key of INSTALL_SETTINGS) {
    const theirs = install.getIn(key);
    if (theirs !== undefined && doc.getIn(key) === undefined) doc.setIn(key, theirs);
  }
  return doc.toString();
}

/**
 * Lays out an instance folder under `parent` (default: the OS temp folder). Workers run as `nobody` when started as
 * root, so the folder is world-readable.
 */
export function createInstanceDir(home: string, files: { configYaml: string; apisixYaml: string }, parent = tmpdir()): string {
  checkApisixHome(home);
  const dir = mkdtempSync(path.join(parent, "spillway-apisix-"));
  chmodSync(dir, 0o755);
  for (const name of LINKED) {
    const target = path.join(home, name);
    if (existsSync(target)) symlinkSync(target, path.join(dir, name));
  }
  const conf = path.join(dir, "conf");
  const logs = path.join(dir, "logs");
  mkdirSync(conf, { mode: 0o755 });
  mkdirSync(logs, { mode: 0o755 });
  // mime.types, config-default.yaml, debug.yaml, certs: the install's, copied (small) so the instance owns conf/.
  const homeConf = path.join(home, "conf");
  if (existsSync(homeConf)) {
    for (const entry of readdirSync(homeConf)) {
      const from = path.join(homeConf, entry);
      if (entry === "config.yaml" || entry === "apisix.yaml" || !statSync(from).isFile()) continue;
      copyFileSync(from, path.join(conf, entry));
    }
  }
  const installConfig = path.join(homeConf, "config.yaml");
  const configYaml = withInstallSettings(files.configYaml, existsSync(installConfig) ? readFileSync(installConfig, "utf8") : undefined);
  writeFileSync(path.join(conf, "config.yaml"), withLocalLogs(configYaml, logs), { mode: 0o644 });
  // apisix.yaml may carry keys: readable by the workers (nobody), so 0644 inside a folder only this run uses.
  writeFileSync(path.join(conf, "apisix.yaml"), files.apisixYaml, { mode: 0o644 });
  return dir;
}

/**
 * Whether `pid` is a live process. A daemonised nginx master is reparented; until its new parent reaps it, an exited
 * master is a zombie that still answers kill(0), so the state in /proc (Linux) decides.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0] !== "Z";
  } catch {
    return true; // no /proc: kill(0) is all there is
  }
}

/**
 * When started as root, nginx workers run as `nobody` and must reach every folder they read. Returns the outermost
 * folder on the way to `dir` (itself included) that others cannot enter, or undefined when the path is open.
 */
export function closedToWorkers(dir: string): string | undefined {
  const chain: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    chain.unshift(current);
    if (path.dirname(current) === current) break;
  }
  return chain.find((folder) => (statSync(folder).mode & 0o001) === 0);
}

function readPid(dir: string): number | undefined {
  const file = path.join(dir, "logs", "nginx.pid");
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** `bin/apisix start` in the instance folder (nginx daemonises); resolves once the master's pid file exists. */
export async function startInstance(home: string, dir: string, env: Record<string, string | undefined> = {}): Promise<ApisixInstance> {
  const fullEnv = apisixEnv(home, env);
  try {
    await run(path.join(dir, "bin", "apisix"), ["start"], { cwd: dir, env: fullEnv, timeout: 60_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new EnvironmentError(`\`bin/apisix start\` failed in ${dir}:\n${(e.stderr || e.stdout || e.message).trim()}`);
  }
  let pid: number | undefined;
  const deadline = Date.now() + 10_000;
  while (pid === undefined && Date.now() < deadline) {
    pid = readPid(dir);
    if (pid === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  if (pid === undefined) throw new EnvironmentError(`APISIX in ${dir} wrote no logs/nginx.pid within 10 s; see ${path.join(dir, "logs", "error.log")}`);
  const master = pid;
  return {
    dir,
    errorLogPath: path.join(dir, "logs", "error.log"),
    accessLogPath: path.join(dir, "logs", "access.log"),
    masterPid: () => master,
    async stop() {
      if (!alive(master)) return;
      await run(path.join(dir, "bin", "apisix"), ["quit"], { cwd: dir, env: fullEnv, timeout: 20_000 }).catch(() => process.kill(master, "SIGQUIT"));
      const until = Date.now() + STOP_TIMEOUT_MS;
      while (alive(master) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      if (alive(master)) process.kill(master, "SIGKILL");
    },
  };
}

/** Removes an instance folder (symlinks only: the install they point at is untouched). */
export function removeInstanceDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
