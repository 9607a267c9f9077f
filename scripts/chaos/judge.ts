/**
 * The run's PASS/FAIL list (pure): every check the issue asks for, each with the figures that decided it. A run
 * passes only when every check does; the CLI exits non-zero otherwise.
 */
import type { CaptureFindings, ErrorLogFindings, Ledger, PhaseSummary } from "./checks.ts";
import { WORKERS } from "./gateway.ts";
import type { PhaseRecord } from "./director.ts";
import { failoverRateCheck, type Check } from "./report.ts";
import type { Outcome } from "./traffic.ts";

/** Every check a full run makes (retry-after, redis and reload only when their phase ran). */
export const CHECK_IDS = ["coverage", "answers", "timeouts", "ledger", "rate", "retry-after", "secrets", "credentials", "error-log", "workers", "redis", "reload"] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export interface JudgeInput {
  summaries: PhaseSummary[];
  records: PhaseRecord[];
  outcomes: readonly Outcome[];
  ledger: Ledger;
  accessPids: ReadonlySet<string>;
  captures: CaptureFindings;
  errorLog: ErrorLogFindings;
  /** Where (log name) which secrets (labels) were found. */
  secretsInLogs: [string, string[]][];
  pidsBefore: number[];
  pidsAfter: number[];
  reloadRun: boolean;
  /** The Redis outage phase ran. */
  redisOutage: boolean;
  errorLogText: string;
}

export interface Judged {
  checks: Check[];
  notes: string[];
  ledger: Ledger;
  errorLog: ErrorLogFindings;
}

function list(ids: readonly number[]): string {
  return ids.length === 0 ? "" : ` (x-chaos-id ${ids.slice(0, 8).join(", ")}${ids.length > 8 ? ", …" : ""})`;
}

function missCheck(outcomes: readonly Outcome[]): Check[] {
  const misses = outcomes.filter((o) => o.verdict.kind === "miss");
  const by = new Map<string, number>();
  for (const o of misses) if (o.verdict.kind === "miss") by.set(o.verdict.reason, (by.get(o.verdict.reason) ?? 0) + 1);
  const hangs = by.get("hang") ?? 0;
  return [
    {
      id: "answers",
      name: "every request ends with a complete answer, a well-formed JSON error with a fitting status, or an SSE error after content",
      pass: misses.length === 0,
      detail: misses.length === 0 ? `${outcomes.length} requests` : `${misses.length} of ${outcomes.length} did not: ${[...by].map(([r, n]) => `${r} ${n}`).join(", ")}`,
    },
    { id: "timeouts", name: "no request outlives the configured timeouts", pass: hangs === 0, detail: hangs === 0 ? "none did" : `${hangs} hung past the deadline` },
  ];
}

function ledgerCheck(l: Ledger): Check {
  const balanced = l.sent === l.answered + l.abandoned + 0 && l.notLogged.length === 0 && l.loggedTwice.length === 0 && l.unmatchedLines.length === 0;
  const parts = [`sent ${l.sent}`, `answered ${l.answered}`, `left on purpose ${l.abandoned}`, `access-log lines matched ${l.logged}`];
  if (l.sent !== l.answered + l.abandoned) parts.push(`${l.sent - l.answered - l.abandoned} without an answer`);
  if (l.notLogged.length > 0) parts.push(`${l.notLogged.length} not logged${list(l.notLogged)}`);
  if (l.loggedTwice.length > 0) parts.push(`${l.loggedTwice.length} logged twice${list(l.loggedTwice)}`);
  if (l.unmatchedLines.length > 0) parts.push(`${l.unmatchedLines.length} log lines match no request sent, e.g. ${l.unmatchedLines[0]}`);
  return { id: "ledger", name: "no request lost: sent = answered (+ left on purpose) = access-log lines", pass: balanced, detail: parts.join(", ") };
}

function retryCheck(summaries: readonly PhaseSummary[]): Check | undefined {
  const phase = summaries.find((s) => s.retryChecked !== undefined);
  if (phase === undefined) return undefined;
  const off = phase.retryOff ?? [];
  return {
    id: "retry-after",
    name: "all throttled: 429 with Retry-After within ±1 s of the earliest recovery",
    pass: (phase.retryChecked ?? 0) > 0 && off.length === 0,
    detail: `${phase.retryChecked} 429s checked, ${off.length} off${off[0] ? ` (e.g. promised ${off[0].promisedMs} ms / Retry-After ${off[0].retryAfterS}, earliest recovery in ${off[0].earliestMs} ms)` : ""}`,
  };
}

/** A phase whose faults never reached a request (its backend was still cooling, say) tested nothing. */
function coverageCheck(summaries: readonly PhaseSummary[]): Check {
  const idle = summaries.filter((s) => s.expectsFaults && s.faultsInjected === 0).map((s) => s.name);
  const unknown = summaries.filter((s) => s.expectsFaults && s.faultsInjected === undefined).map((s) => s.name);
  const parts = [`${summaries.filter((s) => s.expectsFaults).length - idle.length - unknown.length} fault phases injected faults`];
  if (idle.length > 0) parts.push(`none in: ${idle.join(", ")}`);
  if (unknown.length > 0) parts.push(`not counted (simulator stats unreadable): ${unknown.join(", ")}`);
  return { id: "coverage", name: "every fault phase reached requests", pass: idle.length === 0, detail: parts.join("; ") };
}

function secretCheck(outcomes: readonly Outcome[], inLogs: [string, string[]][]): Check {
  const found: string[] = [];
  const inAnswers = new Set(outcomes.flatMap((o) => o.secrets));
  if (inAnswers.size > 0) found.push(`answers (headers or bodies): ${[...inAnswers].join(", ")}`);
  for (const [where, labels] of inLogs) if (labels.length > 0) found.push(`${where}: ${labels.join(", ")}`);
  return { id: "secrets", name: "no secret (backend keys, client keys) in any log line, error body or header", pass: found.length === 0, detail: found.length === 0 ? "none found" : found.join("; ") };
}

function captureCheck(c: CaptureFindings): Check {
  const pass = c.captured > 0 && c.leaks.length === 0 && c.wrongKey === 0;
  const detail = `${c.captured} requests captured at the backends; ${c.leaks.length} with client credentials${c.leaks[0] ? ` (${c.leaks[0]})` : ""}; ${c.wrongKey} without the backend's own key`;
  return { id: "credentials", name: "client credentials never reach a backend (simulator capture)", pass, detail };
}

function errorLogCheck(e: ErrorLogFindings): Check {
  const bad = [...e.luaErrors, ...e.severe];
  return {
    id: "error-log",
    name: "error log free of Lua errors (and of crit/alert/emerg)",
    pass: bad.length === 0,
    detail: bad.length === 0 ? `${[...e.errorKinds.values()].reduce((a, b) => a + b, 0)} [error] lines, none a Lua error` : `${e.luaErrors.length} Lua errors, ${e.severe.length} crit/alert/emerg; first: ${bad[0]}`,
  };
}

function workerCheck(before: readonly number[], after: readonly number[], servedBy: ReadonlySet<string>): Check {
  const same = before.length === WORKERS && before.every((p) => after.includes(p)) && after.length === WORKERS;
  return {
    id: "workers",
    name: `the ${WORKERS} workers live through the run and both serve`,
    pass: same && servedBy.size >= WORKERS,
    detail: `pids before ${before.join(", ")}, after ${after.join(", ")}; access log shows ${servedBy.size} serving pid(s)`,
  };
}

function reloadCheck(records: readonly PhaseRecord[], outcomes: readonly Outcome[], errorLog: string): Check | undefined {
  const rec = records.find((r) => r.renamedTo !== undefined);
  if (rec === undefined) return undefined;
  const byNewName = outcomes.filter((o) => (o.verdict.kind === "answer" || o.verdict.kind === "sse-error") && o.verdict.backend === rec.renamedTo).length;
  // APISIX's own line when it reads a changed apisix.yaml (config_yaml.lua), once per worker: says which side failed.
  const reads = (errorLog.match(/config file \S+apisix\.yaml reloaded/g) ?? []).length;
  return { id: "reload", name: "render --watch reload under load takes effect", pass: byNewName > 0, detail: `${byNewName} answers named the renamed backend "${rec.renamedTo}" after the rewrite (APISIX logged ${reads} reload(s) of apisix.yaml)` };
}

/** The gateway noticed Redis going away and, after the restart, coming back (spillway-failover's own log lines). */
function redisCheck(errorLog: string): Check {
  const down = /spillway-failover: redis unavailable/.test(errorLog);
  const back = /spillway-failover: redis answers again/.test(errorLog);
  return { id: "redis", name: "Redis stopped and restarted: the gateway notices both", pass: down && back, detail: `"redis unavailable" ${down ? "logged" : "NOT logged"}, "redis answers again" ${back ? "logged" : "NOT logged"}` };
}

export function judgeRun(input: JudgeInput): Judged {
  const checks: Check[] = [
    coverageCheck(input.summaries),
    ...missCheck(input.outcomes),
    ledgerCheck(input.ledger),
    failoverRateCheck(input.summaries),
  ];
  const retry = retryCheck(input.summaries);
  if (retry !== undefined) checks.push(retry);
  checks.push(secretCheck(input.outcomes, input.secretsInLogs), captureCheck(input.captures), errorLogCheck(input.errorLog), workerCheck(input.pidsBefore, input.pidsAfter, input.accessPids));
  if (input.redisOutage) checks.push(redisCheck(input.errorLogText));
  const reload = reloadCheck(input.records, input.outcomes, input.errorLogText);
  if (reload !== undefined) checks.push(reload);
  else if (input.reloadRun) checks.push({ id: "reload", name: "render --watch reload under load takes effect", pass: false, detail: "the reload phase did not run" });
  const notes = input.summaries.flatMap((s) => s.notes.map((n) => `[${s.name}] ${n}`));
  return { checks, notes, ledger: input.ledger, errorLog: input.errorLog };
}
