/**
 * /proc readings: process CPU time (the contention-robust figure on a shared 2-core box, tstl-openresty.md §9),
 * resident memory, nginx worker pids, other sessions' wrk, load average; and the error-log lines a gateway adds.
 * Linux only; every reader tolerates a process that is gone.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK): the unit of utime/stime in /proc/<pid>/stat (100 on every usual kernel). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    const n = Number(out.stdout?.trim());
    ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may itself contain spaces and parentheses. */
export function statFields(text: string): string[] {
  const close = text.lastIndexOf(")");
  return close < 0 ? [] : text.slice(close + 2).trim().split(/\s+/);
}

/** utime + stime of a process in microseconds, or undefined when it is gone. */
export function cpuMicros(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // After "(comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  const f = statFields(text);
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isFinite(ticks) ? (ticks * 1e6) / clockTicks() : undefined;
}

function parentOf(pid: number): number | undefined {
  try {
    return Number(statFields(readFileSync(`/proc/${pid}/stat`, "utf8"))[1]);
  } catch {
    return undefined;
  }
}

function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** The children of a process (an nginx master's workers). */
export function childPids(parent: number): number[] {
  return allPids().filter((pid) => parentOf(pid) === parent);
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return "";
  }
}

/**
 * The request-serving workers of an nginx master: its children titled `nginx: worker process`. APISIX's nginx.conf
 * declares proxy caches, so the master also has a cache manager (and for a minute a cache loader): not workers.
 */
export function workerPids(master: number): number[] {
  return childPids(master).filter((pid) => cmdlineOf(pid).includes("worker process"));
}

/** VmRSS of a process in KiB (/proc/<pid>/status), or undefined when it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return undefined;
  }
}

/** The VmRSS line of a /proc/<pid>/status text, in KiB. */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** Summed VmRSS of several processes in KiB (undefined when one is gone). */
export function totalRssKiB(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const kib = rssKiB(pid);
    if (kib === undefined) return undefined;
    total += kib;
  }
  return total;
}

/** Reads an nginx pid file; undefined when absent. */
export function readPidFile(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** wrk processes that are not ours: another session measuring at the same time makes every figure noisier. */
export function foreignWrk(ours: ReadonlySet<number>): number[] {
  return allPids().filter((pid) => !ours.has(pid) && commOf(pid) === "wrk");
}

/** The 1-minute load average. */
export function loadAverage(): number | undefined {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return undefined;
  }
}

/** CPU of several processes over one measurement. */
export class CpuMeter {
  private readonly start = new Map<number, number>();

  constructor(private readonly pids: number[]) {
    for (const pid of pids) {
      const us = cpuMicros(pid);
      if (us !== undefined) this.start.set(pid, us);
    }
  }

  /** Microseconds of CPU the processes used since the meter was made (undefined when one is gone). */
  elapsed(): number | undefined {
    let total = 0;
    for (const pid of this.pids) {
      const before = this.start.get(pid);
      const now = cpuMicros(pid);
      if (before === undefined || now === undefined) return undefined;
      total += now - before;
    }
    return total;
  }
}

/** nginx error-log levels from warn up: what "the error log stays quiet" is about (issue 9). */
export const WARN_OR_WORSE = /\[(warn|error|crit|alert|emerg)\]/;

/** The warn-or-worse lines of a piece of error log. */
export function warnLines(text: string): string[] {
  return text.split("\n").filter((line) => WARN_OR_WORSE.test(line));
}

/**
 * warn lines only the apisix-lab build writes (its README, "Deviations"): Debian's ngx_lua lacks OpenResty's
 * delayed-events patch, so every `ngx.sleep(0)` logs a warn; 3.18's ai-providers/base.lua calls it once per
 * streamed chunk, lua-resty-prometheus now and then. The official runtime has the patch and logs none of them.
 * Counted apart.
 */
export const LAB_ONLY = [/ngx\.sleep\(0\) called without delayed events patch/];

export interface LogLines {
  /** warn-or-worse lines, without the lab-only ones. */
  count: number;
  /** Lab-only lines (LAB_ONLY). */
  labOnly: number;
  /** The first few counted lines (for the report's notes). */
  samples: string[];
}

const LOG_CHUNK = 1 << 20;
const LOG_SAMPLES = 3;

/**
 * The error-log lines a gateway writes between mark() and take(). nginx writes its error log unbuffered, so what a
 * measurement caused is in the file when the measurement ends. Read in chunks: a row that logs per request can add
 * megabytes.
 */
export class LogWatch {
  private offset = 0;

  constructor(private readonly file: string) {
    this.mark();
  }

  private size(): number {
    return existsSync(this.file) ? statSync(this.file).size : 0;
  }

  mark(): void {
    this.offset = this.size();
  }

  /** The warn-or-worse lines written since the last mark (or take), then marks. */
  take(): LogLines {
    const out: LogLines = { count: 0, labOnly: 0, samples: [] };
    const end = this.size();
    if (end <= this.offset) {
      this.offset = end;
      return out;
    }
    const fd = openSync(this.file, "r");
    try {
      const buf = Buffer.alloc(Math.min(LOG_CHUNK, end - this.offset));
      let rest = "";
      while (this.offset < end) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, end - this.offset), this.offset);
        if (n <= 0) break;
        this.offset += n;
        const lines = (rest + buf.subarray(0, n).toString("utf8")).split("\n");
        rest = lines.pop() ?? "";
        countInto(out, lines);
      }
      countInto(out, [rest]);
    } finally {
      closeSync(fd);
    }
    return out;
  }
}

function countInto(out: LogLines, lines: string[]): void {
  for (const line of lines) {
    if (!WARN_OR_WORSE.test(line)) continue;
    if (LAB_ONLY.some((re) => re.test(line))) {
      out.labOnly++;
      continue;
    }
    out.count++;
    if (out.samples.length < LOG_SAMPLES) out.samples.push(line);
  }
}
