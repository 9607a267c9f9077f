/**
 * The dashboard and the alert rules read only what the gateway emits: every PromQL expression in both files is
 * scanned (nothing is listed by hand here) and each metric, matcher label and by / without / on label is checked
 * against the metric catalog (plugins/lib/metric-catalog.ts) behind APISIX's prefix.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { ALERTS_FILE, queryPanels, readDashboard, variableQuery } from "../../scripts/observability/dashboard.ts";
import { AGGREGATIONS, parseLabelValues, scanPromQL, type Scan } from "../../scripts/observability/promql.ts";
import { emittedSeries } from "./emitted.ts";

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}

const dashboard = readDashboard();
const rules = parse(readFileSync(ALERTS_FILE, "utf8")) as RuleFile;
const emitted = emittedSeries();

/** Every expression of both files, named for the failure message. */
const EXPRESSIONS: { where: string; expr: string }[] = [
  ...queryPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr }))),
  ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: r.expr }))),
];

/** PromQL functions (Prometheus 2.x docs, querying/functions). */
const FUNCTIONS = new Set([
  "abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "count_over_time", "day_of_month",
  "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_quantile", "holt_winters", "hour", "idelta",
  "increase", "irate", "label_join", "label_replace", "last_over_time", "ln", "log2", "log10", "max_over_time", "min_over_time", "minute",
  "month", "predict_linear", "present_over_time", "quantile_over_time", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc",
  "sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time", "time", "timestamp", "vector", "year",
]);

/** What one scanned expression reads that the gateway does not emit. */
function problems(scan: Scan): string[] {
  const out: string[] = [];
  for (const s of scan.selectors) {
    const series = emitted.get(s.metric);
    if (!series) {
      out.push(`metric ${s.metric || "{…} without a name"} is not emitted`);
      continue;
    }
    for (const m of s.matchers) if (m.label !== "__name__" && !series.labels.has(m.label)) out.push(`${s.metric} has no label ${m.label}`);
  }
  for (const g of scan.groupings) {
    for (const metric of g.scope) {
      const labels = emitted.get(metric)?.labels;
      if (!labels) continue; // reported above
      for (const l of g.labels) if (!labels.has(l)) out.push(`${g.keyword} (${g.labels.join(", ")}): ${metric} has no label ${l}`);
    }
  }
  for (const f of scan.functions) if (!FUNCTIONS.has(f) && !AGGREGATIONS.has(f)) out.push(`unknown function ${f}`);
  return out;
}

describe("queries read only what the gateway emits", () => {
  it("finds the dashboard's and the alerts' expressions", () => {
    expect(queryPanels(dashboard).length).toBeGreaterThanOrEqual(12);
    expect(rules.groups.flatMap((g) => g.rules).length).toBeGreaterThanOrEqual(5);
  });

  it.each(EXPRESSIONS)("$where: metrics, matcher labels and by/without/on labels exist", ({ expr }) => {
    const scan = scanPromQL(expr);
    expect(scan.selectors.length).toBeGreaterThan(0);
    expect(problems(scan)).toEqual([]);
  });

  it("histograms are read only through _bucket, _sum and _count, and quantiles keep `le`", () => {
    for (const { where, expr } of EXPRESSIONS) {
      if (!/histogram_quantile/.test(expr)) continue;
      const scan = scanPromQL(expr);
      expect(scan.selectors.every((s) => s.metric.endsWith("_bucket")), where).toBe(true);
      expect(scan.groupings.filter((g) => g.keyword === "by").every((g) => g.labels.includes("le")), where).toBe(true);
    }
  });

  it("the dashboard's template variables list label values that exist", () => {
    const queried = dashboard.templating.list.filter((v) => v.type === "query");
    expect(queried.map((v) => v.name)).toContain("backend");
    for (const v of queried) {
      const lv = parseLabelValues(variableQuery(v) ?? "");
      expect(lv, `variable ${v.name}`).toBeDefined();
      expect(lv!.label, `variable ${v.name}`).toBe(v.name);
      const series = emitted.get(lv!.selector?.metric ?? "");
      expect(series, `variable ${v.name}: ${lv!.selector?.metric}`).toBeDefined();
      expect(series!.labels.has(lv!.label), `variable ${v.name}: ${lv!.selector!.metric} has no label ${lv!.label}`).toBe(true);
    }
  });

  it("the checker notices a wrong metric, a histogram read bare, and a label the metric does not have", () => {
    expect(problems(scanPromQL('sum by (backend) (rate(apisix_spillway_attempts{outcome="ok"}[5m]))'))).toEqual(["metric apisix_spillway_attempts is not emitted"]);
    expect(problems(scanPromQL("apisix_spillway_ttft_seconds"))).toEqual(["metric apisix_spillway_ttft_seconds is not emitted"]);
    expect(problems(scanPromQL("sum by (client) (apisix_spillway_exhausted_total{backend=\"a\"})"))).toEqual([
      "apisix_spillway_exhausted_total has no label backend",
      "by (client): apisix_spillway_exhausted_total has no label client",
    ]);
    expect(problems(scanPromQL("sum by (le) (rate(apisix_spillway_ttft_seconds_count[5m]))"))).toEqual(["by (le): apisix_spillway_ttft_seconds_count has no label le"]);
  });
});

describe("the dashboard", () => {
  it("is a schema 39 dashboard on a ${datasource} Prometheus variable, which every panel and query uses", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const ds = dashboard.templating.list.find((v) => v.name === "datasource");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    for (const p of queryPanels(dashboard)) {
      const raw = p as unknown as { datasource?: { uid?: string }; targets: { datasource?: { uid?: string } }[] };
      expect(raw.datasource?.uid, p.title).toBe("${datasource}");
      for (const t of raw.targets) expect(t.datasource?.uid ?? "${datasource}", p.title).toBe("${datasource}");
    }
  });

  it("has unique panel ids, and panels that stay inside the 24 columns without overlapping", () => {
    const panels = queryPanels(dashboard);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const taken = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(taken.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          taken.add(`${i},${j}`);
        }
      }
    }
  });

  it("filters by the backend and client variables (regex) wherever a panel reads a metric with that label", () => {
    for (const p of queryPanels(dashboard)) {
      for (const t of p.targets ?? []) {
        for (const s of scanPromQL(t.expr).selectors) {
          for (const label of ["backend", "client"]) {
            if (!emitted.get(s.metric)?.labels.has(label)) continue;
            expect(s.matchers.find((m) => m.label === label), `${p.title} ${t.refId}`).toEqual({ label, op: "=~", value: `$${label}` });
          }
        }
      }
    }
  });
});

describe("the alert rules", () => {
  const alerts = rules.groups.flatMap((g) => g.rules);

  it.each(alerts.map((r) => [r.alert ?? r.record ?? "?", r] as const))("%s has for, a severity, a summary and a runbook", (_, r) => {
    expect(r.alert).toMatch(/^Spillway[A-Z][A-Za-z]+$/);
    // One whole unit: Terraform turns it into an ISO 8601 duration by prefixing PT.
    expect(r.for).toMatch(/^[1-9][0-9]*[smh]$/);
    expect(["critical", "warning", "info"]).toContain(r.labels?.severity);
    expect(r.annotations?.summary?.length ?? 0).toBeGreaterThan(20);
    expect(r.annotations?.runbook).toMatch(/^docs\/observability\.md#[a-z]+/);
  });

  it("summaries name the label their alert is per (backend, client, route, operation)", () => {
    for (const r of alerts) {
      const outer = scanPromQL(r.expr).groupings.filter((g) => g.keyword === "by").flatMap((g) => g.labels);
      for (const label of ["backend", "client", "route", "operation"]) {
        if (outer.includes(label)) expect(r.annotations!.summary, r.alert).toContain(`$labels.${label}`);
      }
    }
  });

  it("each group has a one-unit interval Azure accepts (1 to 15 minutes)", () => {
    for (const g of rules.groups) {
      expect(g.interval, g.name).toMatch(/^([1-9]|1[0-5])m$/);
      expect(g.name).toMatch(/^[a-z][a-z0-9-]+$/);
    }
  });

  it("the runbook anchors exist in docs/observability.md", () => {
    const doc = readFileSync(path.join(repoRoot, "docs", "observability.md"), "utf8");
    const anchors = new Set([...doc.matchAll(/^#+\s+(.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, "").replace(/ /g, "-")));
    for (const r of alerts) expect(anchors, r.alert).toContain(/#([a-z0-9-]+)/.exec(r.annotations!.runbook!)![1]);
  });

  it("promtool check rules accepts alerts.yaml", () => {
    // Required like nginx or Redis (tests/helpers/prerequisites.ts): scripts/setup.sh installs Debian's prometheus,
    // which ships promtool. A machine without it fails here, saying how to get it, rather than skipping the check.
    const run = spawnSync("promtool", ["check", "rules", ALERTS_FILE], { encoding: "utf8" });
    if (run.error) expect.fail(`promtool is not on PATH (Debian package prometheus): run \`bash scripts/setup.sh\`. ${run.error.message}`);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });
});
