/**
 * wrk for the non-streamed runs: a generated Lua script (POST body, headers, and a done() hook that prints one
 * machine-readable line), the spawn (argument array, abortable) and the parser of that line.
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { EnvironmentError } from "../../lib/errors.ts";

/** The marker of the line our done() hook prints; everything else wrk prints is ignored. */
export const RESULT_MARK = "SPILLWAY_WRK";

export interface WrkResult {
  requests: number;
  durationUs: number;
  /** Latency percentiles, microseconds. */
  p50Us: number;
  p99Us: number;
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
}

export function requestsPerSecond(r: WrkResult): number {
  return r.durationUs > 0 ? (r.requests * 1e6) / r.durationUs : 0;
}

/** A Lua long string that cannot be closed by the body. */
function luaLong(text: string): string {
  let eq = "=";
  while (text.includes(`]${eq}]`)) eq += "=";
  return `[${eq}[${text}]${eq}]`;
}

/** The `wrk -s` script: every request is the same POST. */
export function wrkScript(body: string, headers: Record<string, string>): string {
  const headerLines = Object.entries(headers).map(([k, v]) => `wrk.headers[ ${luaLong(k)} ] = ${luaLong(v)}`);
  return [
    'wrk.method = "POST"',
    `wrk.body = ${luaLong(body)}`,
    ...headerLines,
    "done = function(summary, latency, requests)",
    "  local e = summary.errors",
    `  io.write(string.format('${RESULT_MARK} {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,` +
      `"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}\\n',`,
    "    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),",
    "    e.connect, e.read, e.write, e.timeout, e.status))",
    "end",
    "",
  ].join("\n");
}

export function writeWrkScript(file: string, body: string, headers: Record<string, string>): string {
  writeFileSync(file, wrkScript(body, headers));
  return file;
}

const FIELDS = ["requests", "duration_us", "p50_us", "p99_us", "connect", "read", "write", "timeout", "status"] as const;

/** Reads the done() line out of wrk's stdout; throws with wrk's own output when it is missing or malformed. */
export function parseWrkOutput(stdout: string): WrkResult {
  const line = stdout.split("\n").find((l) => l.startsWith(`${RESULT_MARK} `));
  if (line === undefined) throw new Error(`wrk printed no ${RESULT_MARK} line (did the script load?):\n${stdout.trim().slice(-800)}`);
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(RESULT_MARK.length + 1));
  } catch {
    throw new Error(`wrk's result line is not JSON: ${line}`);
  }
  const obj = raw as Record<string, unknown>;
  for (const f of FIELDS) {
    if (typeof obj[f] !== "number" || !Number.isFinite(obj[f]) || (obj[f] as number) < 0) {
      throw new Error(`wrk's result line has no valid "${f}": ${line}`);
    }
  }
  const n = (f: (typeof FIELDS)[number]): number => obj[f] as number;
  return {
    requests: n("requests"),
    durationUs: n("duration_us"),
    p50Us: n("p50_us"),
    p99Us: n("p99_us"),
    errors: { connect: n("connect"), read: n("read"), write: n("write"), timeout: n("timeout"), status: n("status") },
  };
}

/** Throws EnvironmentError when wrk is not on PATH. */
export function checkWrk(): void {
  const probe = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (probe.error) {
    throw new EnvironmentError(
      `wrk is not installed (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message}); ` +
        "install it (Debian/Ubuntu: apt-get install wrk) and run spillway bench again",
    );
  }
}

export interface WrkRun {
  url: string;
  script: string;
  connections: number;
  durationS: number;
  signal: AbortSignal;
  /** Called with wrk's pid once it runs (so the run can tell its own wrk from another session's). */
  onPid?: (pid: number) => void;
}

export function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = ["-t1", `-c${run.connections}`, `-d${run.durationS}s`, "--timeout", "10s", "-s", run.script, run.url];
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"], signal: run.signal, killSignal: "SIGKILL" });
    if (child.pid !== undefined) run.onPid?.(child.pid);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", (e) => reject(run.signal.aborted ? (run.signal.reason ?? e) : new EnvironmentError(`wrk failed to start: ${e.message}`)));
    child.once("close", (code) => {
      if (run.signal.aborted) return reject(run.signal.reason ?? new Error("aborted"));
      if (code !== 0) return reject(new EnvironmentError(`wrk ${args.join(" ")} exited with ${code}: ${(err || out).trim().slice(-500)}`));
      try {
        resolve(parseWrkOutput(out));
      } catch (e) {
        reject(new EnvironmentError(`${(e as Error).message}\n${err.trim()}`));
      }
    });
  });
}
