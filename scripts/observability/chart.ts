/**
 * One dashboard panel as a chart: the series of a Prometheus `query_range` answer, named by the target's Grafana
 * legend format, and the ECharts option that draws them the way the Grafana panel does (time axis, the panel's
 * unit). Pure; `renderPanelSvg` is the only call into ECharts' server-side SVG renderer.
 */
import * as echarts from "echarts";
import type { Panel } from "./dashboard.ts";

/**
 * DejaVu Sans advance widths of ASCII 32-126, in 1/1000 em (measured with resvg). Without a canvas ECharts estimates
 * text from Arial-like widths; DejaVu Sans, what a Debian machine draws the PNG with, is about 12 % wider, and
 * legend items overlapped. Bold is about 14 % wider again.
 */
const DEJAVU_SANS = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 300, 337, 636, 636, 636, 636, 636, 636, 636, 636,
  636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
  603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635,
  634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];
const BOLD_WIDTH = 1.14;

export function measureText(text: string, font = ""): { width: number } {
  const size = Number(/(\d+(?:\.\d+)?)px/.exec(font)?.[1] ?? 12);
  let em = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    em += c >= 32 && c < 127 ? DEJAVU_SANS[c - 32]! : 1000;
  }
  return { width: (em / 1000) * size * (/\bbold\b|\b[6-9]00\b/.test(font) ? BOLD_WIDTH : 1) };
}

echarts.setPlatformAPI({ measureText });

export interface Series {
  name: string;
  /** [unix ms, value]; null where Prometheus had no sample or answered NaN/±Inf (a gap in the line). */
  points: [number, number | null][];
}

export interface TimeRange {
  /** Unix ms. */
  start: number;
  end: number;
}

type Labels = Record<string, string>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Grafana's legend: `{{label}}` replaced by the series' value of it; empty or `__auto` → the label set. */
export function legendName(format: string | undefined, labels: Labels): string {
  if (format !== undefined && format !== "" && format !== "__auto") {
    return format.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => labels[name] ?? "").trim();
  }
  const { __name__: name = "", ...rest } = labels;
  const pairs = Object.entries(rest).map(([k, v]) => `${k}="${v}"`);
  return pairs.length > 0 ? `${name}{${pairs.join(", ")}}` : name || "value";
}

/**
 * The series of one `/api/v1/query_range` answer (resultType matrix). Throws with Prometheus' own message when it
 * answered an error, and names the first thing that is not the documented shape.
 */
export function seriesFromQueryRange(body: unknown, legendFormat?: string): Series[] {
  if (!isRecord(body)) throw new Error("query_range: the answer is not a JSON object");
  if (body.status !== "success") throw new Error(`query_range: ${String(body.errorType ?? "error")}: ${String(body.error ?? "no message")}`);
  const data = body.data;
  if (!isRecord(data) || data.resultType !== "matrix" || !Array.isArray(data.result)) {
    throw new Error(`query_range: expected data.resultType "matrix" with a result list, got ${JSON.stringify(isRecord(data) ? data.resultType : data)}`);
  }
  return data.result.map((item: unknown, i) => {
    if (!isRecord(item) || !isRecord(item.metric) || !Array.isArray(item.values)) throw new Error(`query_range: result[${i}] has no metric and values`);
    const points = item.values.map((pair: unknown, j): [number, number | null] => {
      if (!Array.isArray(pair) || typeof pair[0] !== "number" || typeof pair[1] !== "string") throw new Error(`query_range: result[${i}].values[${j}] is not [time, "value"]`);
      const value = Number(pair[1]);
      return [Math.round(pair[0] * 1000), Number.isFinite(value) ? value : null];
    });
    return { name: legendName(legendFormat, item.metric as Labels), points };
  });
}

const SI = [
  { at: 1e9, suffix: "G" },
  { at: 1e6, suffix: "M" },
  { at: 1e3, suffix: "k" },
];

function short(v: number): string {
  const abs = Math.abs(v);
  for (const { at, suffix } of SI) if (abs >= at) return `${trim(v / at)}${suffix}`;
  return trim(v);
}

function trim(v: number): string {
  const abs = Math.abs(v);
  const digits = abs === 0 || abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return String(Number(v.toFixed(digits)));
}

/** An axis value in the panel's Grafana unit (the units the dashboard uses; others as plain numbers). */
export function formatValue(unit: string | undefined, v: number): string {
  if (unit === "s") return Math.abs(v) < 1 && v !== 0 ? `${trim(v * 1000)} ms` : `${trim(v)} s`;
  if (unit === "reqps") return `${short(v)} req/s`;
  if (unit === "percentunit") return `${trim(v * 100)}%`;
  return short(v);
}

/** Grafana's dark theme and classic palette, so the snapshot reads like the dashboard. */
export const THEME = {
  background: "#181b1f",
  panel: "#111217",
  border: "#2c3235",
  text: "#ccccdc",
  muted: "#8e8e9e",
  palette: ["#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a6", "#705da0", "#508642", "#cca300", "#447ebc", "#c15c17"],
} as const;

/** Legend rows at the bottom of a panel: items laid out as ECharts does (icon, gap, text, item gap), wrapped. */
export function legendRows(names: string[], width: number): number {
  let rows = names.length > 0 ? 1 : 0;
  let used = 0;
  for (const n of names) {
    const item = LEGEND_ICON + 5 + measureText(n, `${LEGEND_FONT}px`).width + LEGEND_GAP;
    if (used > 0 && used + item > width - 20) {
      rows++;
      used = 0;
    }
    used += item;
  }
  return rows;
}

const LEGEND_ICON = 14;
const LEGEND_GAP = 10;
const LEGEND_FONT = 10;

/** The ECharts option of one panel: one line per series, the panel's unit on the value axis, "No data" when empty. */
export function panelOption(panel: Panel, series: Series[], range: TimeRange, size: { width: number; height: number }): echarts.EChartsOption {
  const unit = panel.fieldConfig?.defaults?.unit;
  const rows = legendRows(series.map((s) => s.name), size.width);
  const textStyle = { color: THEME.text, fontFamily: "DejaVu Sans", fontSize: 11 };
  return {
    animation: false,
    backgroundColor: THEME.panel,
    color: [...THEME.palette],
    textStyle,
    title: { text: panel.title, left: 10, top: 8, textStyle: { ...textStyle, fontSize: 13, fontWeight: "bold" } },
    grid: { left: 12, right: 18, top: 40, bottom: 14 + rows * 17, containLabel: true },
    legend: series.length > 0
      ? { bottom: 6, left: 10, right: 10, itemWidth: LEGEND_ICON, itemHeight: 3, itemGap: LEGEND_GAP, icon: "rect", textStyle: { ...textStyle, fontSize: LEGEND_FONT } }
      : { show: false },
    xAxis: {
      type: "time",
      min: range.start,
      max: range.end,
      axisLine: { lineStyle: { color: THEME.border } },
      axisLabel: { color: THEME.muted, formatter: "{HH}:{mm}:{ss}", hideOverlap: true },
      splitLine: { show: true, lineStyle: { color: THEME.border } },
    },
    yAxis: {
      type: "value",
      min: 0,
      axisLabel: { color: THEME.muted, formatter: (v: number) => formatValue(unit, v) },
      splitLine: { lineStyle: { color: THEME.border } },
    },
    graphic: series.length === 0 ? [{ type: "text", left: "center", top: "middle", style: { text: "No data", fill: THEME.muted, fontSize: 14, fontFamily: "DejaVu Sans" } }] : [],
    series: series.map((s) => ({ type: "line", name: s.name, data: s.points, showSymbol: false, connectNulls: false, lineStyle: { width: 1.5 }, areaStyle: { opacity: 0.08 } })),
  };
}

/** ECharts' server-side SVG rendering: no DOM, no canvas. */
export function renderPanelSvg(option: echarts.EChartsOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width, height });
  try {
    chart.setOption(option);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
