/**
 * The chaos report (pure): a table per fault phase, a table per bad-input kind, then every run-level check as
 * PASS/FAIL with its figures, the error log's [error] kinds, worker RSS, and a sample of each kind of miss. Markdown
 * tables, so a run can be pasted into docs/reliability.md as it is.
 */
import { MAX_FAILOVER_RATE, type CaptureFindings, type ErrorLogFindings, type Ledger, type PhaseSummary } from "./checks.ts";
import type { Outcome } from "./traffic.ts";

export interface Check {
  /** Stable key (judge.ts CHECK_IDS). */
  id: string;
  name: string;
  pass: boolean;
  detail: string;
}

export interface RunFacts {
  header: string[];
  phases: PhaseSummary[];
  outcomes: readonly Outcome[];
  ledger: Ledger;
  captures: CaptureFindings;
  errorLog: ErrorLogFindings;
  checks: Check[];
  rss: { beforeKiB?: number; afterKiB?: number };
  notes: string[];
}

const pct = (n: number, of: number): string => (of === 0 ? "–" : `${((100 * n) / of).toFixed(2)} %`);
const counts = (m: Record<string, number>): string =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}×${n}`)
    .join(" ") || "–";

export function phaseTable(phases: readonly PhaseSummary[]): string {
  const rows = phases.map((p) => {
    const rate = p.healthy ? `${pct(p.failed, p.good)} (${p.failed}/${p.good})` : `n/a (${p.failed}/${p.good})`;
    const retry = p.retryChecked !== undefined ? ` Retry-After checked ${p.retryChecked}, off ${p.retryOff?.length ?? 0}` : "";
    const injected = p.expectsFaults ? String(p.faultsInjected ?? "?") : "–";
    return `| ${p.name} | ${injected} | ${p.sent} | ${p.answers} | ${counts(p.errors)} | ${p.sseErrors} | ${counts(p.misses)} | ${rate}${retry} | ${(p.slowestMs / 1000).toFixed(1)} s |`;
  });
  return [
    "| phase | faults injected | requests | complete answers | JSON errors (status×n) | SSE error after content | misses | 429/5xx | slowest |",
    "|---|---:|---:|---:|---|---:|---|---|---:|",
    ...rows,
  ].join("\n");
}

export function badInputTable(outcomes: readonly Outcome[]): string {
  const byKind = new Map<string, { sent: number; got: Record<string, number>; misses: Record<string, number> }>();
  for (const o of outcomes) {
    if (o.client !== "bad") continue;
    const row = byKind.get(o.what) ?? { sent: 0, got: {}, misses: {} };
    row.sent++;
    const v = o.verdict;
    const key = v.kind === "error" ? String(v.status) : v.kind === "miss" ? `${v.status ?? "–"}` : v.kind;
    if (v.kind === "miss") row.misses[v.reason] = (row.misses[v.reason] ?? 0) + 1;
    row.got[key] = (row.got[key] ?? 0) + 1;
    byKind.set(o.what, row);
  }
  const rows = [...byKind].map(([kind, r]) => `| ${kind} | ${r.sent} | ${counts(r.got)} | ${counts(r.misses)} |`);
  return ["| bad input | sent | outcome (status or kind ×n) | misses |", "|---|---:|---|---|", ...rows].join("\n");
}

export function clientTable(outcomes: readonly Outcome[]): string {
  const by = new Map<string, { sent: number; answers: number; misses: number }>();
  for (const o of outcomes) {
    if (o.client === "bad") continue;
    const key = `${o.client} ${o.what}`;
    const row = by.get(key) ?? { sent: 0, answers: 0, misses: 0 };
    row.sent++;
    if (o.verdict.kind === "answer") row.answers++;
    if (o.verdict.kind === "miss") row.misses++;
    by.set(key, row);
  }
  const rows = [...by].sort().map(([k, r]) => `| ${k} | ${r.sent} | ${r.answers} | ${r.misses} |`);
  return ["| client | sent | complete answers | misses |", "|---|---:|---:|---:|", ...rows].join("\n");
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").slice(0, 240);

function samples(phases: readonly PhaseSummary[], outcomes: readonly Outcome[]): string {
  const lines: string[] = [];
  const badSeen = new Set<string>();
  for (const o of outcomes) {
    if (o.client !== "bad" || o.verdict.kind !== "miss" || badSeen.has(o.what)) continue;
    badSeen.add(o.what);
    lines.push(`- [bad input] ${o.verdict.reason}: ${o.what} (x-chaos-id ${o.id}): ${oneLine(o.verdict.detail)}`);
  }
  for (const p of phases) {
    for (const s of p.samples) lines.push(`- [${p.name}] ${s.reason}: ${s.client} ${s.what} (x-chaos-id ${s.id}): ${oneLine(s.detail)}`);
    for (const off of p.retryOff?.slice(0, 3) ?? []) {
      lines.push(`- [${p.name}] Retry-After off: x-chaos-id ${off.id} promised ${off.promisedMs} ms (Retry-After ${off.retryAfterS}), earliest recovery in ${off.earliestMs} ms`);
    }
  }
  return lines.length > 0 ? `Misses (one example per kind and phase):\n${lines.join("\n")}` : "";
}

function errorKinds(f: ErrorLogFindings): string {
  const top = [...f.errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 12);
  if (top.length === 0) return "Error log: no [error] or worse lines.";
  return `Error log, [error]-or-worse lines by kind (lab start-up noise excluded):\n${top.map(([sig, n]) => `- ${n}× ${sig}`).join("\n")}`;
}

export function formatReport(f: RunFacts): string {
  const mib = (k: number | undefined): string => (k === undefined ? "?" : `${(k / 1024).toFixed(1)} MiB`);
  const checks = f.checks.map((c) => `${c.pass ? "PASS" : "FAIL"}  ${c.name}: ${c.detail}`).join("\n");
  const passed = f.checks.every((c) => c.pass);
  return [
    f.header.join("\n"),
    phaseTable(f.phases),
    badInputTable(f.outcomes),
    clientTable(f.outcomes),
    checks,
    `Worker RSS (2 workers, summed): ${mib(f.rss.beforeKiB)} after warm-up, ${mib(f.rss.afterKiB)} after the run.`,
    errorKinds(f.errorLog),
    samples(f.phases, f.outcomes),
    f.notes.map((n) => `note: ${n}`).join("\n"),
    passed ? "RESULT: PASS" : `RESULT: FAIL (${f.checks.filter((c) => !c.pass).map((c) => c.name).join("; ")})`,
  ]
    .filter((s) => s !== "")
    .join("\n\n")
    .concat("\n");
}

/** The rate rule over every good request of the phases where a backend stayed healthy. */
export function failoverRateCheck(phases: readonly PhaseSummary[]): Check {
  const healthy = phases.filter((p) => p.healthy);
  const good = healthy.reduce((n, p) => n + p.good, 0);
  const failed = healthy.reduce((n, p) => n + p.failed, 0);
  const worst = [...healthy].sort((a, b) => b.failed / Math.max(1, b.good) - a.failed / Math.max(1, a.good))[0];
  return {
    id: "rate",
    name: `client-visible 429/5xx < ${MAX_FAILOVER_RATE * 100} % while a backend is healthy`,
    pass: good > 0 && failed / good < MAX_FAILOVER_RATE,
    detail: `${failed} of ${good} good requests (${pct(failed, good)})${worst && worst.failed > 0 ? `; most in "${worst.name}" (${worst.failed}/${worst.good})` : ""}`,
  };
}
