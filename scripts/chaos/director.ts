/**
 * Runs the fault schedule against the running stack while the traffic flows: sets each phase's faults on the
 * simulators (or stops one), stops and restarts Redis, changes the env file the `render --watch` process reads,
 * clears everything at the phase's end. Nothing here judges: it records when each phase ran (checks.ts judges).
 */
import type { Backend } from "./backends.ts";
import type { CaptureLog } from "./capture.ts";
import { mixedDraw, type BackendState, type Phase } from "./phases.ts";
import type { Redis } from "./redis.ts";
import type { Traffic } from "./traffic.ts";
import type { Watcher } from "./gateway.ts";

const MIX_TICK_MS = 1000;

export interface Stage {
  backends: readonly Backend[];
  traffic: Traffic;
  redis: Redis | undefined;
  watcher: Watcher;
  /** Rewrites the env file with backend `index` renamed; returns the new name. */
  renameBackend: (index: number) => string;
  capture: CaptureLog;
  /** Each backend's fault counter when last read (a reopened simulator starts again from 0). */
  faultCounts: number[];
  say: (line: string) => void;
}

export interface PhaseRecord {
  startedAt: number;
  /** When the phase's time was up (a stopped backend back, and where it settles, the faults cleared). */
  clearedAt: number;
  endedAt: number;
  /** All-throttled phase: per backend, when it answered 429 (its captured requests before the clear). */
  throttledAt?: number[][];
  /** Faults the simulators applied during the phase (stats); undefined when they could not be read. */
  faultsInjected?: number;
  /** Reload phase: the renamed backend's new name, once the watcher rewrote apisix.yaml. */
  renamedTo?: string;
  notes: string[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function apply(stage: Stage, states: readonly BackendState[]): Promise<void> {
  await Promise.all(
    stage.backends.map(async (b, i) => {
      const state = states[i] ?? [];
      if (state === "stopped") {
        await stage.capture.drain(b);
        await b.close();
      } else await b.setFaults(state);
    }),
  );
}

/** Faults applied since the last count, over every backend (a phase that injected none tested nothing). */
async function countFaults(stage: Stage): Promise<number | undefined> {
  try {
    const now = await Promise.all(stage.backends.map((b) => b.faultsApplied()));
    let sum = 0;
    now.forEach((n, i) => {
      const before = stage.faultCounts[i] ?? 0;
      sum += n >= before ? n - before : n;
      stage.faultCounts[i] = n;
    });
    return sum;
  } catch {
    return undefined;
  }
}

export async function runPhase(stage: Stage, index: number, phase: Phase, lengthMs: number, last: boolean): Promise<PhaseRecord> {
  const startedAt = Date.now();
  const rec: PhaseRecord = { startedAt, clearedAt: startedAt, endedAt: startedAt, notes: [] };
  stage.traffic.phase = index;
  await apply(stage, phase.backends);
  const until = startedAt + lengthMs;
  let redisBack: Promise<void> | undefined;
  if (phase.redisOutage && stage.redis !== undefined) {
    await stage.redis.stop();
    redisBack = sleep(lengthMs / 2).then(() => stage.redis!.start());
  }
  if (phase.reload) {
    const before = (stage.watcher.output().match(/apisix\.yaml changed and was rewritten/g) ?? []).length;
    const name = stage.renameBackend(2);
    await stage.watcher.rewrites(before + 1);
    rec.renamedTo = name;
    rec.notes.push(`apisix.yaml rewritten by render --watch ${Date.now() - startedAt} ms into the phase (backend 2 renamed ${name})`);
  }
  if (phase.mixed) {
    const clean = Math.floor(Math.random() * stage.backends.length);
    rec.notes.push(`backend ${stage.backends[clean]!.spec.name} kept clean; the others drew a new fault every ${MIX_TICK_MS} ms`);
    while (Date.now() + MIX_TICK_MS <= until) {
      await apply(stage, mixedDraw(clean));
      await sleep(MIX_TICK_MS);
    }
  }
  await sleep(Math.max(0, until - Date.now()));
  await redisBack;
  // A stopped backend comes back now; faults stay until the next phase sets its own (one round of control calls
  // per phase), except where the phase settles with every backend clean.
  await Promise.all(stage.backends.map((b) => (b.listening() ? (phase.settleMs !== undefined || last ? b.setFaults([]) : undefined) : b.open())));
  rec.clearedAt = Date.now();
  if (phase.settleMs !== undefined) await sleep(phase.settleMs);
  const injected = await countFaults(stage);
  if (injected !== undefined) rec.faultsInjected = injected;
  if (phase.allThrottled !== undefined) {
    await stage.capture.drainAll();
    rec.throttledAt = stage.backends.map((b) => stage.capture.throttledBetween(b.spec.name, startedAt, Date.now()));
  }
  rec.endedAt = Date.now();
  stage.say(`phase ${index + 1} ${phase.name}: ${Math.round((rec.endedAt - startedAt) / 100) / 10} s, ${stage.traffic.sent} requests sent so far, ${stage.traffic.open} open`);
  return rec;
}
