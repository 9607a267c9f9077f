/**
 * The Grafana dashboard as data: its panels (rows flattened), their queries, and the variable substitution the
 * snapshot applies so that each query runs exactly as written against a plain Prometheus. Pure, except `readDashboard`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../lib/pins.ts";

export const DASHBOARD_FILE = path.join(repoRoot, "apisix", "observability", "grafana-dashboard.json");
export const ALERTS_FILE = path.join(repoRoot, "apisix", "observability", "alerts.yaml");

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: GridPos;
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  panels?: Panel[];
}

export interface TemplateVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
}

export interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  templating: { list: TemplateVariable[] };
  panels: Panel[];
}

export function readDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, "utf8")) as Dashboard;
}

/** Every panel with queries, collapsed rows' children included, in the dashboard's order. */
export function queryPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of d.panels) {
    if (p.type === "row") out.push(...(p.panels ?? []).filter((c) => (c.targets ?? []).length > 0));
    else if ((p.targets ?? []).length > 0) out.push(p);
  }
  return out;
}

/** The query text of a template variable (Grafana stores it as a string or as `{query}`). */
export function variableQuery(v: TemplateVariable): string | undefined {
  return typeof v.query === "string" ? v.query : (v.query?.query ?? v.definition);
}

/**
 * Grafana's interval variables as a plain Prometheus needs them. `$__rate_interval` 30 s, not the 15 s a 1 s scrape
 * would allow: APISIX rebuilds its exposition only every 15 s (plugin_attr.prometheus.refresh_interval), so the
 * counters move in 15 s steps and a rate needs two of them in its window.
 */
export const INTERVALS: Readonly<Record<string, string>> = {
  __rate_interval: "30s",
  __interval: "5s",
  __range: "5m",
};

const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z]+)?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * The query with Grafana's variables replaced: the interval ones by INTERVALS, every other one (`$backend`,
 * `${client}`) by `.*`, i.e. "All" — the dashboard's variables only ever appear in `=~` matchers.
 */
export function substituteVariables(expr: string, intervals: Readonly<Record<string, string>> = INTERVALS): string {
  return expr.replace(VARIABLE, (_, braced: string | undefined, bare: string | undefined) => intervals[(braced ?? bare)!] ?? ".*");
}
