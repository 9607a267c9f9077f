/**
 * /proc readings: process CPU time (the contention-robust figure on a shared 2-core box, tstl-openresty.md §9),
 * nginx worker pids, other sessions' wrk, load average. Linux only; every reader tolerates a process that is gone.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

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
