/**
 * CPU pinning for the bench. On a 2-core box wrk, the simulators and nginx otherwise share both cores, and the
 * scheduler's choices move worker CPU µs/req by ±30 % between rounds (measured: 135–250 µs for the same target).
 * With one nginx worker per gateway, the workers get the last core(s) and everything else the run starts gets the
 * rest (the bench pins itself first: wrk, the simulators and nginx masters inherit that), which made the figure
 * repeat within a few µs. taskset is util-linux's (present on Debian).
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";

export interface CpuPlan {
  /** taskset CPU lists ("1", "0"), or undefined when nothing is pinned. */
  gateway?: string;
  load?: string;
  /** Why nothing is pinned, for the report. */
  why?: string;
}

/** Pure: which CPUs go where, given nginx workers per gateway and the machine's CPU count. */
export function cpuPlan(workers: number, cpus: number): CpuPlan {
  if (cpus < 2) return { why: "one CPU: nothing to separate" };
  if (workers >= cpus) return { why: `${workers} workers on ${cpus} CPUs: the workers need every core, so nothing is pinned` };
  const first = cpus - workers;
  const list = (from: number, to: number) => (from === to ? `${from}` : `${from}-${to}`);
  return { gateway: list(first, cpus - 1), load: list(0, first - 1) };
}

export function machinePlan(workers: number): CpuPlan {
  const probe = spawnSync("taskset", ["-V"], { encoding: "utf8" });
  if (probe.status !== 0) return { why: "taskset (util-linux) not found: nothing is pinned" };
  // cpus(), not availableParallelism(): the latter follows this process's own affinity, which the bench narrows.
  return cpuPlan(workers, cpus().length);
}

/** Pins a running process (all its threads) to `cpus`; false when taskset refused. */
export function pin(pid: number, cpus: string | undefined): boolean {
  if (cpus === undefined) return false;
  return spawnSync("taskset", ["-a", "-pc", cpus, String(pid)], { stdio: "ignore" }).status === 0;
}
