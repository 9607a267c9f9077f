/**
 * TEST CODE. Starts Debian's nginx + http-lua with the APISIX 3.18 stand-in (tests/host) in front of our built Lua
 * (build/lua), on 127.0.0.1 free ports, in a temp prefix.
 *
 * The stand-in does not parse YAML: this launcher reads the apisix.yaml given (the same file APISIX standalone would
 * read, #END marker and ${{VAR}} references included) and writes its JSON twin conf/apisix.json, plus conf/config.json
 * for an optional config.yaml. reload() rewrites the twins and HUPs the master; the stand-in loads them in
 * init_by_lua, so each reload is a fresh Lua VM (APISIX instead polls the file's mtime every second).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { crc32 } from "node:zlib";
import { repoRoot } from "../helpers/lua.ts";
import { readApisixYaml, readConfigYaml, readPath } from "./apisix-yaml.ts";
import { ACCESS_LOG_FORMAT, tailFile, type Gateway, type GatewayOptions } from "./gateway.ts";
import { renderNginxConf } from "./nginx-conf.ts";

export type { Gateway, GatewayOptions } from "./gateway.ts";

/** The stand-in also exposes its control server (GET /status, POST /schema-check), for the stand-in's own tests. */
export interface StandinGateway extends Gateway {
  controlUrl: string;
}

const NGINX = "/usr/sbin/nginx";
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 25;
const RELOAD_SETTLE_MS = 100;

/** A port the kernel just handed out on 127.0.0.1 (closed again: nginx binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function luaPathEntries(extra: string[]): string {
  // .deps: Debian's lua-resty-redis, unpacked by scripts/setup.sh (real APISIX ships it as resty.redis).
  const roots = [
    ...extra,
    path.join(repoRoot, "build/lua"),
    path.join(repoRoot, "tests/host"),
    path.join(repoRoot, ".deps/usr/share/lua/5.1"),
    "/usr/share/lua/5.1",
  ];
  const patterns = roots.flatMap((r) => (r.includes("?") ? [r] : [path.join(r, "?.lua"), path.join(r, "?/init.lua")]));
  return `${patterns.join(";")};;`;
}

interface Twins {
  apisixJson: string;
  configJson: string;
  version: string;
  hook: string | undefined;
  sharedDicts: Record<string, string>;
  /** config.yaml apisix.extra_lua_path, split on ";" (APISIX puts it before its own modules). */
  extraLuaPaths: string[];
}

function writeTwins(prefix: string, opts: GatewayOptions): Twins {
  const env = { ...process.env, ...opts.env };
  const apisix = readApisixYaml(opts.apisixYaml, env);
  const config = readConfigYaml(opts.configYaml, env);
  const apisixJson = JSON.stringify(apisix);
  writeFileSync(path.join(prefix, "conf/apisix.json"), apisixJson);
  writeFileSync(path.join(prefix, "conf/config.json"), JSON.stringify(config));
  const hookConf = readPath(config, "apisix", "lua_module_hook");
  const dictConf = readPath(config, "nginx_config", "http", "custom_lua_shared_dict");
  const extraLua = readPath(config, "apisix", "extra_lua_path");
  return {
    apisixJson,
    configJson: JSON.stringify(config),
    version: String(crc32(apisixJson)),
    hook: opts.luaModuleHook ?? (typeof hookConf === "string" ? hookConf : undefined),
    sharedDicts: { ...(dictConf as Record<string, string> | undefined), ...opts.sharedDicts },
    extraLuaPaths: typeof extraLua === "string" ? extraLua.split(";").filter((p) => p !== "") : [],
  };
}

async function controlStatus(controlPort: number): Promise<{ conf_version: string } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${controlPort}/status`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return undefined;
    return (await res.json()) as { conf_version: string };
  } catch {
    return undefined;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, exited: () => string | undefined, errorLog: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit !== undefined) {
      throw new Error(`nginx ${exit} while waiting for ${what}; error log ${errorLog}:\n${tailFile(errorLog)}`);
    }
    if (await check()) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`nginx: timed out after ${START_TIMEOUT_MS} ms waiting for ${what}; error log ${errorLog}:\n${tailFile(errorLog)}`);
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

async function startOnce(opts: GatewayOptions, prefix: string): Promise<StandinGateway> {
  const port = await freePort();
  const controlPort = await freePort();
  const twins = writeTwins(prefix, opts);
  const errorLogPath = path.join(prefix, "logs/error.log");
  const accessLogPath = path.join(prefix, "logs/access.log");
  const conf = renderNginxConf({
    prefix,
    port,
    controlPort,
    workers: opts.workers ?? 1,
    luaPath: luaPathEntries([...(opts.luaPaths ?? []), ...twins.extraLuaPaths]),
    sharedDicts: twins.sharedDicts,
    envNames: Object.keys(opts.env ?? {}),
    luaModuleHook: twins.hook,
    accessLogFormat: ACCESS_LOG_FORMAT,
    runAsRoot: process.getuid?.() === 0,
  });
  writeFileSync(path.join(prefix, "conf/nginx.conf"), conf);

  const child = spawn(NGINX, ["-p", prefix, "-c", "conf/nginx.conf", "-g", "daemon off;"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...opts.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.add(child);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  let exitInfo: string | undefined;
  child.once("exit", (code, signal) => {
    exitInfo = `exited (code ${code}, signal ${signal}): ${stderr.trim()}`;
    running.delete(child);
  });

  let version = twins.version;
  try {
    await waitFor("the stand-in to load its config", async () => (await controlStatus(controlPort))?.conf_version === version, () => exitInfo, errorLogPath);
  } catch (err) {
    child.kill("SIGKILL");
    await waitExit(child, STOP_TIMEOUT_MS);
    throw err;
  }

  let keep = false;
  const gateway: StandinGateway = {
    url: `http://127.0.0.1:${port}`,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    port,
    errorLogPath,
    errorLog: () => (existsSync(errorLogPath) ? readFileSync(errorLogPath, "utf8") : ""),
    accessLog: () => (existsSync(accessLogPath) ? readFileSync(accessLogPath, "utf8") : ""),
    keepLogs: () => {
      keep = true;
    },
    async reload() {
      const next = writeTwins(prefix, opts);
      if (next.hook !== twins.hook || JSON.stringify(next.sharedDicts) !== JSON.stringify(twins.sharedDicts) || JSON.stringify(next.extraLuaPaths) !== JSON.stringify(twins.extraLuaPaths)) {
        throw new Error("reload(): lua_module_hook, extra_lua_path and shared dicts are fixed at start; start a new gateway to change them");
      }
      version = next.version;
      child.kill("SIGHUP");
      // New workers answer on the control port once they serve the new config; old ones stop accepting at once.
      await waitFor("the reloaded config", async () => (await controlStatus(controlPort))?.conf_version === version, () => exitInfo, errorLogPath);
      // Old workers close their idle keep-alive connections as they shut down; let that happen before new requests.
      await new Promise((r) => setTimeout(r, RELOAD_SETTLE_MS));
    },
    async stop() {
      if (exitInfo === undefined) {
        child.kill("SIGQUIT");
        if (!(await waitExit(child, STOP_TIMEOUT_MS))) {
          child.kill("SIGKILL");
          await waitExit(child, STOP_TIMEOUT_MS);
        }
      }
      if (keep) {
        process.stderr.write(`gateway logs kept in ${path.dirname(errorLogPath)}\n`);
      } else {
        rmSync(prefix, { recursive: true, force: true });
      }
    },
  };
  return gateway;
}

/**
 * Starts the stand-in gateway. Retries once with new ports if another process grabbed one between freePort() and
 * nginx's bind. Throws with the error log's tail when nginx does not come up.
 */
export async function startGateway(opts: GatewayOptions): Promise<StandinGateway> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const prefix = mkdtempSync(path.join(tmpdir(), "spillway-gw-"));
    for (const dir of ["conf", "logs", "temp"]) mkdirSync(path.join(prefix, dir));
    try {
      return await startOnce(opts, prefix);
    } catch (err) {
      lastError = err;
      const log = tailFile(path.join(prefix, "logs/error.log"));
      if (!/Address already in use/.test(`${(err as Error).message}\n${log}`)) {
        // Keep the logs of an nginx that would not come up. A config refused before nginx ran (no #END, an unset
        // ${{VAR}}) left nothing to read, and the error already says why.
        if (existsSync(path.join(prefix, "conf/nginx.conf"))) {
          process.stderr.write(`gateway start failed; logs kept in ${prefix}\n`);
        } else {
          rmSync(prefix, { recursive: true, force: true });
        }
        throw err;
      }
      rmSync(prefix, { recursive: true, force: true });
    }
  }
  throw lastError;
}
