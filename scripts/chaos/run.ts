/**
 * One `spillway chaos` run: start the stack (stack.ts), check it answers, run the fault schedule under load, stop
 * everything, judge (checks.ts, judge.ts) and report. Progress goes to `say`; the report and the checks are
 * returned. An abort signal (Ctrl-C) ends the schedule early; everything the run started is stopped either way.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describeApisix } from "../bench/apisix-home.ts";
import { CpuMeter, loadAverage, totalRssKiB } from "../bench/proc.ts";
import { checkErrorLog, checkRetryAfter, ledger, readAccessLog, secretLabelsIn, summarizePhase, type PhaseSummary } from "./checks.ts";
import { CaptureLog } from "./capture.ts";
import { runPhase, type PhaseRecord, type Stage } from "./director.ts";
import { COOLDOWNS, TIMEOUTS, WORKERS } from "./gateway.ts";
import { judgeRun } from "./judge.ts";
import type { ChaosPlan } from "./options.ts";
import { phaseLengths, schedule, type Phase } from "./phases.ts";
import { formatReport, type Check } from "./report.ts";
import { startStack, stopStack, warmUp, type Stack } from "./stack.ts";
import { Traffic, type Outcome } from "./traffic.ts";

export interface ChaosResult {
  passed: boolean;
  checks: Check[];
  report: string;
}

/** The index of the phase running at time t (the last one for answers after the schedule ended). */
function phaseAt(records: readonly PhaseRecord[], t: number): number {
  let i = 0;
  while (i + 1 < records.length && records[i + 1]!.startedAt <= t) i++;
  return i;
}

interface Driven {
  phases: Phase[];
  records: PhaseRecord[];
  outcomes: Outcome[];
  capture: CaptureLog;
  pids: { before: number[]; after: number[] };
  rss: { beforeKiB?: number; afterKiB?: number };
  notes: string[];
}

const busy = (us: number | undefined): string => (us === undefined ? "?" : `${(us / 1e6).toFixed(1)} s`);

/** The load and the fault schedule, from the first request to the last answer. */
async function drive(stack: Stack, plan: ChaosPlan, say: (line: string) => void, signal: AbortSignal | undefined): Promise<Driven> {
  const gw = stack.gateway;
  const before = gw.workerPids();
  const rssBefore = totalRssKiB(before);
  const traffic = new Traffic({ gatewayUrl: gw.url, clients: stack.clients, ...plan.clients, thinkMs: plan.thinkMs, deadlineMs: plan.deadlineMs, maxTokens: plan.maxTokens, secrets: stack.secrets, simulatorOf: stack.simulatorOf });
  const capture = new CaptureLog(stack.backends, stack.clientSecrets);
  const stage: Stage = { backends: stack.backends, traffic, redis: stack.redis, watcher: stack.watcher, renameBackend: stack.renameBackend, capture, faultCounts: stack.backends.map(() => 0), say };
  const phases = schedule({ redis: stack.redis !== undefined, reload: plan.reload });
  const lengths = phaseLengths(phases, plan.durationMs, plan.minPhaseMs);
  say(`chaos: ${plan.clients.raw + plan.clients.sdk + plan.clients.bad} clients, ${phases.length} phases, about ${Math.round(lengths.reduce((a, b) => a + b, 0) / 1000)} s of faults`);
  const records: PhaseRecord[] = [];
  const loadBefore = loadAverage();
  const cpu = { workers: new CpuMeter(before), simulators: new CpuMeter(stack.backends.map((b) => b.pid)), self: process.cpuUsage(), since: Date.now() };
  capture.start();
  traffic.start();
  try {
    for (const [i, phase] of phases.entries()) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("interrupted");
      records.push(await runPhase(stage, i, phase, lengths[i]!, i === phases.length - 1));
    }
  } finally {
    await traffic.stop();
    await capture.stop();
  }
  const self = process.cpuUsage(cpu.self);
  const notes = [
    `CPU over the ${Math.round((Date.now() - cpu.since) / 1000)} s of load: gateway workers ${busy(cpu.workers.elapsed())}, simulators ${busy(cpu.simulators.elapsed())}, ` +
      `load generator ${busy(self.user + self.system)}; machine load average ${loadBefore ?? "?"} before, ${loadAverage() ?? "?"} after (other work on this machine counts in it)`,
  ];
  if (capture.failures > 0) notes.push(`${capture.failures} background drains of a simulator's request log failed (retried by the next drain)`);
  const after = gw.workerPids();
  const rssAfter = totalRssKiB(after);
  // A request counts in the phase during which it was answered: the gateway's answer reflects the state then
  // (a request sent just before "all throttled" began and answered 429 in it is that phase's 429).
  const outcomes = traffic.outcomes.map((o) => ({ ...o, phase: phaseAt(records, o.answeredAt) }));
  return {
    phases,
    records,
    outcomes,
    capture,
    pids: { before, after },
    rss: { ...(rssBefore !== undefined ? { beforeKiB: rssBefore } : {}), ...(rssAfter !== undefined ? { afterKiB: rssAfter } : {}) },
    notes,
  };
}

function summaries(d: Driven): PhaseSummary[] {
  return d.phases.map((p, i) => {
    const mine = d.outcomes.filter((o) => o.phase === i);
    const s = summarizePhase(p, mine);
    const rec = d.records[i]!;
    if (p.allThrottled !== undefined && rec.throttledAt !== undefined) checkRetryAfter(s, mine, rec.throttledAt, p.allThrottled.retryAfterMs);
    s.notes.push(...rec.notes);
    if (rec.faultsInjected !== undefined) s.faultsInjected = rec.faultsInjected;
    return s;
  });
}

function header(stack: Stack, plan: ChaosPlan, startedAt: Date): string[] {
  return [
    `spillway chaos — ${startedAt.toISOString()} — ${plan.short ? "--short" : "full"} run, ${plan.durationMs / 1000} s of faults`,
    `gateway: ${describeApisix(stack.home)}; ${WORKERS} workers; rendered by \`spillway render\` for 3 simulators (auth on, Redis ${stack.redis ? "on" : "off"})`,
    `timeouts: connect ${TIMEOUTS.connectMs} ms, first byte ${TIMEOUTS.firstByteMs} ms, read idle ${TIMEOUTS.readMs} ms; cooldowns: 429 default ${COOLDOWNS.default429Ms} ms, errors ${COOLDOWNS.errorMs} ms after ${COOLDOWNS.errorThreshold}; client deadline ${plan.deadlineMs} ms`,
    `clients: ${plan.clients.raw} raw node:http, ${plan.clients.sdk} openai SDK (maxRetries 0), ${plan.clients.bad} bad input; pause between requests 0–${plan.thinkMs * 2} ms; ${plan.maxTokens} tokens per chat`,
  ];
}

export async function runChaos(plan: ChaosPlan, say: (line: string) => void, signal?: AbortSignal): Promise<ChaosResult> {
  const startedAt = new Date();
  const stack = await startStack(plan, say);
  try {
    await warmUp(stack, plan.maxTokens);
    const d = await drive(stack, plan, say, signal);
    await stack.gateway.stop(); // a graceful quit flushes the buffered access log
    const accessText = readFileSync(stack.gateway.accessLogPath, "utf8");
    const errorText = readFileSync(stack.gateway.errorLogPath, "utf8");
    if (plan.dumpFile !== undefined) writeFileSync(plan.dumpFile, JSON.stringify({ phases: d.phases, records: d.records, outcomes: d.outcomes }));
    const accessLog = readAccessLog(accessText);
    const phases = summaries(d);
    const judged = judgeRun({
      summaries: phases,
      records: d.records,
      outcomes: d.outcomes,
      ledger: ledger(d.outcomes, accessLog),
      accessPids: accessLog.pids,
      captures: d.capture.findings,
      errorLog: checkErrorLog(errorText),
      secretsInLogs: [
        ["error log", secretLabelsIn(errorText, stack.secrets)],
        ["access log", secretLabelsIn(accessText, stack.secrets)],
        ["render --watch output", secretLabelsIn(stack.watcher.output(), stack.secrets)],
      ],
      pidsBefore: d.pids.before,
      pidsAfter: d.pids.after,
      reloadRun: plan.reload,
      redisOutage: d.phases.some((p) => p.redisOutage === true),
      errorLogText: errorText,
    });
    const took = `took ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s${plan.keepLogs ? `; logs kept in ${stack.gateway.dir}/logs` : ""}`;
    const report = formatReport({
      header: header(stack, plan, startedAt),
      phases,
      outcomes: d.outcomes,
      ledger: judged.ledger,
      captures: d.capture.findings,
      errorLog: judged.errorLog,
      checks: judged.checks,
      rss: d.rss,
      notes: [...stack.notes, ...d.notes, ...judged.notes, took],
    });
    return { passed: judged.checks.every((c) => c.pass), checks: judged.checks, report };
  } finally {
    await stopStack(stack, plan.keepLogs);
  }
}
