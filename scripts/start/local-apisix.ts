/**
 * The local install (APISIX_HOME) for `spillway start` and `spillway demo`: the rendered files go into an instance
 * folder of their own (apisix-instance.ts; the install is never written to), `bin/apisix start` daemonises nginx,
 * and `stop()` quits it gracefully and removes the folder. nginx writes its logs to files there; `spillway start`
 * follows them to the terminal (error log → stderr, access log → stdout) as the container does.
 */
import { chmodSync, closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import path from "node:path";
import type { Rendered } from "../../renderer/render.ts";
import { EnvironmentError } from "../../lib/errors.ts";
import { alive, checkApisixHome, closedToWorkers, createInstanceDir, installFacts, isLabNoise, removeInstanceDir, startInstance } from "./apisix-instance.ts";

const FOLLOW_INTERVAL_MS = 200;
const EXIT_POLL_MS = 500;
const SEVERE = /\[(error|crit|alert|emerg)\]/;
export interface LocalGateway {
  /** The instance folder (conf/, logs/); removed by stop(). */
  dir: string;
  apisixYamlPath: string;
  /** Resolves when the nginx master is gone without stop() having been asked. */
  exited: Promise<void>;
  /** [error]-and-worse lines of the error log, without the lab's start-up noise. */
  problems(): string[];
  stop(): Promise<void>;
}

/** `APISIX 3.18.0 at <home>`, naming the apisix-lab build (Debian nginx, not APISIX-Runtime) when it is one. */
export function describeInstall(home: string): string {
  const { version, lab } = installFacts(home);
  const what = lab ? " (apisix-lab build: Debian nginx + ngx_lua, not APISIX-Runtime)" : "";
  return `APISIX ${version ?? "(unknown version)"} at ${home}${what}`;
}

/**
 * As root, nginx workers run as `nobody`: our Lua, the install and the instance folder must be readable by others.
 * build/lua is our build output, so it is opened up here; a closed folder above it is the operator's to change.
 */
function checkWorkerAccess(home: string, luaPath: string): void {
  if (process.getuid?.() !== 0) return;
  for (const dir of [luaPath, home]) {
    const closed = closedToWorkers(dir);
    if (closed !== undefined) {
      throw new EnvironmentError(
        `APISIX's workers run as nobody (started as root) and cannot enter ${closed} (mode ${(statSync(closed).mode & 0o777).toString(8)}), which holds ${dir}; ` +
          `run \`chmod o+rx ${closed}\` or move the checkout / install to a world-readable place`,
      );
    }
  }
  const open = (p: string): void => {
    const st = statSync(p);
    const want = st.isDirectory() ? 0o005 : 0o004;
    if ((st.mode & want) !== want) chmodSync(p, st.mode | want);
    if (st.isDirectory()) for (const entry of readdirSync(p)) open(path.join(p, entry));
  };
  open(luaPath);
}

/** Copies what nginx appends to `file` onto `out`, polling; the file may not exist yet. */
function followLog(file: string, out: NodeJS.WritableStream): { stop(): void } {
  let offset = 0;
  const poll = (): void => {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < offset) offset = 0; // truncated: start over
      const buf = Buffer.alloc(64 * 1024);
      while (offset < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - offset), offset);
        if (n <= 0) break;
        offset += n;
        out.write(Buffer.from(buf.subarray(0, n)));
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(poll, FOLLOW_INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      poll(); // the last lines, e.g. the graceful-shutdown notices
    },
  };
}

function severe(log: string): string[] {
  return log.split("\n").filter((line) => SEVERE.test(line) && !isLabNoise(line));
}

function readIfThere(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

export interface LocalOptions {
  /** The checkout's build/lua, which the rendered extra_lua_path points at. */
  luaPath: string;
  /** Follow the error and access logs to stderr / stdout (`spillway start`); the demo reads them itself. */
  followLogs: boolean;
}

export async function runLocalApisix(home: string, rendered: Rendered, opts: LocalOptions): Promise<LocalGateway> {
  checkApisixHome(home);
  checkWorkerAccess(home, opts.luaPath);
  const dir = createInstanceDir(home, { configYaml: rendered.configYaml, apisixYaml: rendered.apisixYaml });
  const errorLog = path.join(dir, "logs", "error.log");
  const followers = opts.followLogs ? [followLog(errorLog, process.stderr), followLog(path.join(dir, "logs", "access.log"), process.stdout)] : [];
  const cleanUp = (): void => {
    for (const f of followers) f.stop();
    removeInstanceDir(dir);
  };
  let instance: Awaited<ReturnType<typeof startInstance>>;
  try {
    instance = await startInstance(home, dir);
  } catch (err) {
    const lines = severe(readIfThere(errorLog)).slice(-10);
    cleanUp();
    // The folder the message points at is gone now: quote the log instead, or point at the copy already shown.
    const reason = (err as Error).message.replace(/; see \S+error\.log$/, "");
    const detail = opts.followLogs ? "; its error log is above" : lines.length > 0 ? `\nerror log:\n${lines.join("\n")}` : "";
    throw new EnvironmentError(`${reason}${detail}`);
  }
  const master = instance.masterPid()!;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      if (!stopping && !alive(master)) {
        clearInterval(timer);
        resolve();
      }
    }, EXIT_POLL_MS);
  });
  let stopped: Promise<void> | undefined;
  return {
    dir,
    apisixYamlPath: path.join(dir, "conf", "apisix.yaml"),
    exited,
    problems: () => severe(readIfThere(errorLog)),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(timer);
        try {
          await instance.stop(); // bin/apisix quit: in-flight requests finish
        } finally {
          cleanUp();
        }
      })();
      return stopped;
    },
  };
}
