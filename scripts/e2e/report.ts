/**
 * The text report (pure): per scenario its load, a Markdown table of its figures, its checks as PASS/FAIL/SKIP with
 * what was required and what was measured, and its notes; then the run's own checks and a summary line. Markdown,
 * so a run can be pasted into docs/e2e.md as it is.
 */
import { passed } from "./checks.ts";
import type { Check, ScenarioResult, Table } from "./model.ts";

export interface RunReport {
  header: string[];
  results: ScenarioResult[];
  /** Checks of the whole run (the gateway's error log). */
  runChecks: Check[];
  notes: string[];
}

const cell = (v: string | number): string => String(v).replace(/\|/g, "\\|").replace(/\n/g, " ");

export function markdownTable(t: Table): string {
  if (t.headers.length === 0) return "(no figures)";
  const numeric = t.headers.map((_, i) => t.rows.length > 0 && t.rows.every((r) => typeof r[i] === "number"));
  return [
    `| ${t.headers.map(cell).join(" | ")} |`,
    `|${numeric.map((n) => (n ? "---:" : "---")).join("|")}|`,
    ...t.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

const MARK = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;

export function checksTable(checks: readonly Check[]): string {
  return markdownTable({ headers: ["check", "required", "measured", "result"], rows: checks.map((c) => [c.name, c.expected, c.actual, MARK[c.status]]) });
}

export function verdict(checks: readonly Check[]): "PASS" | "FAIL" {
  return passed(checks) ? "PASS" : "FAIL";
}

export function scenarioText(r: ScenarioResult): string {
  return [
    `## ${r.name} — ${r.title}: ${verdict(r.checks)} (${(r.durationMs / 1000).toFixed(1)} s)`,
    "",
    `load: ${r.load}`,
    "",
    markdownTable(r.table),
    "",
    checksTable(r.checks),
    ...(r.notes.length > 0 ? ["", ...r.notes.map((n) => `- ${n}`)] : []),
    "",
  ].join("\n");
}

export function summaryLine(results: readonly ScenarioResult[], runChecks: readonly Check[]): string {
  const failed = results.filter((r) => !passed(r.checks)).map((r) => r.name);
  const runFailed = !passed(runChecks);
  if (failed.length === 0 && !runFailed) return `all ${results.length} scenario(s) passed`;
  return `FAILED: ${[...failed, ...(runFailed ? ["run checks"] : [])].join(", ")} (${results.length - failed.length} of ${results.length} scenario(s) passed)`;
}

export function formatReport(r: RunReport): string {
  return [
    ...r.header,
    "",
    ...r.results.map(scenarioText),
    ...(r.runChecks.length > 0 ? ["## the run", "", checksTable(r.runChecks), ""] : []),
    ...r.notes.map((n) => `- ${n}`),
    "",
    summaryLine(r.results, r.runChecks),
    "",
  ].join("\n");
}
