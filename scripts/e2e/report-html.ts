/**
 * The HTML report: one section per scenario (verdict, load, figures, checks, notes) with its chart, drawn by
 * ECharts inlined into the page, so the file works offline and can be attached to a CI run. Building the page is
 * pure (`buildHtml`); only `echartsSource` reads a file.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { EnvironmentError } from "../../lib/errors.ts";
import { repoRoot } from "../lib/pins.ts";
import type { ChartSpec, Check, ScenarioResult, Table } from "./model.ts";
import { summaryLine, verdict } from "./report.ts";

export const ECHARTS_FILE = path.join(repoRoot, "node_modules", "echarts", "dist", "echarts.min.js");

export function echartsSource(file = ECHARTS_FILE): string {
  if (!existsSync(file)) throw new EnvironmentError(`the HTML report inlines ECharts from ${file}, which is missing: run \`npm ci\``);
  return readFileSync(file, "utf8");
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Text placed inside a <script> element: a closing tag or comment opener in it would end the element early. */
export function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

const SYMBOLS_UP_TO = 3;

/** The ECharts option of one chart (pure, JSON-serialisable). */
export function chartOption(spec: ChartSpec): Record<string, unknown> {
  const categories = spec.categories;
  return {
    title: { text: spec.title, left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis" },
    legend: { top: 26 },
    grid: { top: 70, left: 64, right: spec.y2Name !== undefined ? 64 : 24, bottom: 44 },
    xAxis: categories !== undefined ? { type: "category", name: spec.xName, data: categories } : { type: "value", name: spec.xName, nameLocation: "middle", nameGap: 26 },
    yAxis: [{ type: "value", name: spec.yName }, ...(spec.y2Name !== undefined ? [{ type: "value", name: spec.y2Name }] : [])],
    series: spec.series.map((s) => ({
      name: s.name,
      type: s.type,
      yAxisIndex: s.yAxis ?? 0,
      data: categories !== undefined ? categories.map((c) => s.data.find(([x]) => x === c)?.[1] ?? 0) : s.data,
      // A line of one or two points draws nothing visible without its symbols.
      ...(s.type === "line" ? { showSymbol: s.data.length <= SYMBOLS_UP_TO } : {}),
      ...(s.type === "scatter" ? { symbolSize: 7 } : {}),
    })),
  };
}

function tableHtml(t: Table): string {
  if (t.headers.length === 0) return "<p>(no figures)</p>";
  const head = t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const rows = t.rows.map((r) => `<tr>${r.map((c) => `<td${typeof c === "number" ? ' class="n"' : ""}>${escapeHtml(String(c))}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function checksHtml(checks: readonly Check[]): string {
  return tableHtml({ headers: ["check", "required", "measured", "result"], rows: checks.map((c) => [c.name, c.expected, c.actual, c.status.toUpperCase()]) }).replace(
    /<td>(PASS|FAIL|SKIP)<\/td><\/tr>/g,
    (_, v: string) => `<td class="${v.toLowerCase()}">${v}</td></tr>`,
  );
}

function section(r: ScenarioResult, i: number): string {
  const v = verdict(r.checks);
  return [
    `<section id="${escapeHtml(r.name)}">`,
    `<h2>${escapeHtml(r.name)} <span class="badge ${v.toLowerCase()}">${v}</span></h2>`,
    `<p class="title">${escapeHtml(r.title)} — ${(r.durationMs / 1000).toFixed(1)} s</p>`,
    `<p class="load">${escapeHtml(r.load)}</p>`,
    `<div class="chart" id="chart-${i}"></div>`,
    tableHtml(r.table),
    checksHtml(r.checks),
    r.notes.length > 0 ? `<ul>${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` : "",
    `</section>`,
  ].join("\n");
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin:36px 0 4px}section{border-top:1px solid #ddd}
table{border-collapse:collapse;margin:10px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
td.n{text-align:right}th{background:#f4f4f4}.chart{width:100%;height:340px}
.badge{font-size:12px;padding:2px 8px;border-radius:3px;color:#fff}.badge.pass{background:#2e7d32}.badge.fail{background:#c62828}
td.pass{color:#2e7d32;font-weight:600}td.fail{color:#c62828;font-weight:600}td.skip{color:#888}
.title{margin:0;color:#444}.load{color:#666;font-size:13px}pre{background:#f7f7f7;padding:8px}`;

export interface HtmlInput {
  header: string[];
  results: ScenarioResult[];
  runChecks: Check[];
  notes: string[];
  /** The ECharts bundle to inline. */
  echarts: string;
}

export function buildHtml(input: HtmlInput): string {
  const summary = summaryLine(input.results, input.runChecks);
  const charts = JSON.stringify(input.results.map((r) => chartOption(r.chart)));
  const index = input.results.map((r) => `<li><a href="#${escapeHtml(r.name)}">${escapeHtml(r.name)}</a> — ${verdict(r.checks)}</li>`).join("");
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><title>spillway e2e</title>',
    `<style>${STYLE}</style></head><body>`,
    `<h1>spillway e2e</h1>`,
    `<pre>${escapeHtml(input.header.join("\n"))}</pre>`,
    `<p><strong>${escapeHtml(summary)}</strong></p>`,
    `<ul>${index}</ul>`,
    ...input.results.map(section),
    input.runChecks.length > 0 ? `<section><h2>the run</h2>${checksHtml(input.runChecks)}</section>` : "",
    input.notes.length > 0 ? `<ul>${input.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` : "",
    `<script>${scriptSafe(input.echarts)}</script>`,
    `<script type="application/json" id="charts">${scriptSafe(charts)}</script>`,
    "<script>",
    'JSON.parse(document.getElementById("charts").textContent).forEach(function (option, i) {',
    '  var el = document.getElementById("chart-" + i);',
    "  if (el && window.echarts) { var c = echarts.init(el); c.setOption(option); window.addEventListener('resize', function () { c.resize(); }); }",
    "});",
    "</script>",
    "</body></html>",
    "",
  ].join("\n");
}
