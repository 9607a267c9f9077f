/**
 * The snapshot's pure parts on canned Prometheus answers: series from query_range JSON, Grafana legends and
 * variables, the ECharts option of a panel, the page layout, the scrape config, and one real render to PNG.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { formatValue, legendName, legendRows, measureText, panelOption, renderPanelSvg, seriesFromQueryRange, type Series } from "../../scripts/observability/chart.ts";
import { INTERVALS, queryPanels, readDashboard, substituteVariables, type Panel } from "../../scripts/observability/dashboard.ts";
import { cellFor, composePage, PAGE, pageHeight, scopeIds, svgToPng } from "../../scripts/observability/layout.ts";
import { renderPage } from "../../scripts/observability/page.ts";
import { findPrometheus, prometheusConfig } from "../../scripts/observability/prometheus.ts";
import { parseRateInterval, parseSeconds, stepSeconds } from "../../scripts/observability/run.ts";
import { phaseAt, PHASES } from "../../scripts/observability/traffic.ts";

const T0 = 1_733_500_000;
/** Two backends' attempts, as Prometheus answers `sum by (backend, outcome) (rate(...))`. */
const ATTEMPTS = {
  status: "success",
  data: {
    resultType: "matrix",
    result: [
      { metric: { backend: "sim-eastus", outcome: "429" }, values: [[T0, "0.5"], [T0 + 15, "1.25"], [T0 + 30, "NaN"]] },
      { metric: { backend: "sim-westus", outcome: "ok" }, values: [[T0, "3"], [T0 + 15, "+Inf"], [T0 + 30.5, "2"]] },
    ],
  },
};

const PANEL: Panel = {
  id: 7,
  type: "timeseries",
  title: "Attempts by backend and outcome",
  gridPos: { x: 8, y: 0, w: 8, h: 8 },
  fieldConfig: { defaults: { unit: "reqps" } },
  targets: [{ refId: "A", expr: "sum by (backend, outcome) (rate(apisix_spillway_attempts_total[5m]))", legendFormat: "{{backend}} {{outcome}}" }],
};
const RANGE = { start: T0 * 1000, end: (T0 + 30) * 1000 };

describe("series from query_range", () => {
  it("names each series by the legend format and keeps times in ms, NaN and Inf as gaps", () => {
    expect(seriesFromQueryRange(ATTEMPTS, "{{backend}} {{outcome}}")).toEqual([
      { name: "sim-eastus 429", points: [[T0 * 1000, 0.5], [(T0 + 15) * 1000, 1.25], [(T0 + 30) * 1000, null]] },
      { name: "sim-westus ok", points: [[T0 * 1000, 3], [(T0 + 15) * 1000, null], [(T0 + 30.5) * 1000, 2]] },
    ]);
  });

  it("answers no series for an empty result", () => {
    expect(seriesFromQueryRange({ status: "success", data: { resultType: "matrix", result: [] } })).toEqual([]);
  });

  it("reports Prometheus' own error", () => {
    const error = { status: "error", errorType: "bad_data", error: 'parse error: unexpected "}"' };
    expect(() => seriesFromQueryRange(error)).toThrow('query_range: bad_data: parse error: unexpected "}"');
  });

  it.each([
    ["not an object", []],
    ["an instant vector", { status: "success", data: { resultType: "vector", result: [] } }],
    ["a value that is not a string", { status: "success", data: { resultType: "matrix", result: [{ metric: {}, values: [[T0, 1]] }] } }],
  ])("refuses %s", (_, body) => {
    expect(() => seriesFromQueryRange(body)).toThrow(/query_range/);
  });

  it("follows Grafana's legend rules: missing labels empty, no format → the label set", () => {
    expect(legendName("p95 {{ backend }} {{lane}}", { backend: "a" })).toBe("p95 a");
    expect(legendName("", { __name__: "up", job: "spillway" })).toBe('up{job="spillway"}');
    expect(legendName("__auto", {})).toBe("value");
  });
});

describe("Grafana variables", () => {
  it("become .* for template variables and fixed intervals for Grafana's own", () => {
    const expr = 'sum by (backend) (rate(a{backend=~"$backend", client=~"${client}", x=~"${lane:regex}"}[$__rate_interval]))';
    expect(substituteVariables(expr)).toBe(`sum by (backend) (rate(a{backend=~".*", client=~".*", x=~".*"}[${INTERVALS.__rate_interval}]))`);
    expect(substituteVariables("increase(a[$__range]) / $__interval", { __range: "90s", __interval: "1s" })).toBe("increase(a[90s]) / 1s");
  });

  it("leave the dashboard's queries valid for the scanner and free of $", () => {
    for (const p of queryPanels(readDashboard())) for (const t of p.targets ?? []) expect(substituteVariables(t.expr), p.title).not.toContain("$");
  });
});

describe("a panel as an ECharts option", () => {
  const series = seriesFromQueryRange(ATTEMPTS, "{{backend}} {{outcome}}");

  it("draws one line per series over the whole range, in the panel's unit", () => {
    const option = panelOption(PANEL, series, RANGE, { width: 600, height: 300 }) as Record<string, any>;
    expect(option.title.text).toBe("Attempts by backend and outcome");
    expect(option.series.map((s: any) => [s.type, s.name, s.data.length])).toEqual([["line", "sim-eastus 429", 3], ["line", "sim-westus ok", 3]]);
    expect([option.xAxis.type, option.xAxis.min, option.xAxis.max]).toEqual(["time", RANGE.start, RANGE.end]);
    expect(option.yAxis.axisLabel.formatter(2500)).toBe("2.5k req/s");
    expect(option.animation).toBe(false);
    expect(option.graphic).toEqual([]);
  });

  it("says No data when a panel has no series", () => {
    const option = panelOption(PANEL, [], RANGE, { width: 600, height: 300 }) as Record<string, any>;
    expect(option.graphic[0].style.text).toBe("No data");
    expect(option.legend.show).toBe(false);
  });

  it.each([
    ["s", 0.25, "250 ms"],
    ["s", 2, "2 s"],
    ["s", 0, "0 s"],
    ["reqps", 0.034, "0.034 req/s"],
    ["short", 1_250_000, "1.25M"],
    ["percentunit", 0.2, "20%"],
    [undefined, 12.345, "12.3"],
  ])("formats %s %d as %s", (unit, v, text) => {
    expect(formatValue(unit, v)).toBe(text);
  });

  it("measures DejaVu Sans, wider than ECharts' Arial estimate, and wraps the legend by it", () => {
    // resvg draws "requests sim-swedencentral" at 10 px 139.2 px wide; ECharts' own estimate says 124.8.
    expect(Math.abs(measureText("requests sim-swedencentral", "10px sans-serif").width / 139.2 - 1)).toBeLessThan(0.03);
    expect(measureText("ab", "bold 10px sans-serif").width).toBeGreaterThan(measureText("ab", "10px sans-serif").width);
    expect(legendRows([], 600)).toBe(0);
    expect(legendRows(["a", "b"], 600)).toBe(1);
    expect(legendRows(Array.from({ length: 12 }, (_, i) => `requests sim-backend-${i}`), 600)).toBe(4);
  });

  it("renders to an SVG with the title and a path per line", () => {
    const svg = renderPanelSvg(panelOption(PANEL, series, RANGE, { width: 600, height: 300 }), 600, 300);
    expect(svg).toMatch(/^<svg[^>]*width="600" height="300"/);
    expect(svg).toContain("Attempts by backend and outcome");
    expect(svg).toContain("sim-westus ok");
  });
});

describe("the page", () => {
  it("places panels by gridPos on 24 columns under the header", () => {
    const cell = cellFor({ x: 8, y: 8, w: 8, h: 8 });
    const column = (PAGE.width - PAGE.gap) / 24;
    expect(cell).toEqual({ x: Math.round(PAGE.gap + 8 * column), y: PAGE.headerPx + PAGE.gap + 8 * PAGE.rowPx, width: Math.round(8 * column - PAGE.gap), height: 8 * PAGE.rowPx - PAGE.gap });
    expect(pageHeight([cell])).toBe(cell.y + cell.height + PAGE.gap);
  });

  it("keeps each panel's ids apart: the same clip path id in two panels is two ids", () => {
    const svg = '<svg><defs><clipPath id="zr0-c0"></clipPath></defs><g clip-path="url(#zr0-c0)"><use xlink:href="#zr0-c0"/><use href="#zr0-c0"/></g></svg>';
    expect(scopeIds(svg, "p3")).toBe('<svg><defs><clipPath id="p3-zr0-c0"></clipPath></defs><g clip-path="url(#p3-zr0-c0)"><use xlink:href="#p3-zr0-c0"/><use href="#p3-zr0-c0"/></g></svg>');
  });

  it("composes one SVG and rasterises it to PNG", () => {
    const cell = cellFor(PANEL.gridPos);
    const svg = composePage("Spillway <test>", "range", [{ cell, svg: '<svg width="10" height="10"><rect id="r" width="10" height="10"/></svg>' }]);
    expect(svg).toContain("Spillway &lt;test&gt;");
    expect(svg).toContain(`<svg x="${cell.x}" y="${cell.y}" width="10"`);
    expect(svg).toContain('id="p0-r"');
    const png = svgToPng(svg);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(PAGE.width);
  });

  it("draws every panel of the dashboard, with or without data", () => {
    const d = readDashboard();
    const panels = queryPanels(d);
    const data = new Map<number, Series[]>([[panels[0]!.id, seriesFromQueryRange(ATTEMPTS, "{{backend}}")]]);
    const svg = renderPage(d, data, RANGE, "canned");
    for (const p of panels) expect(svg).toContain(p.title.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"));
    expect(svg.match(/No data/g)).toHaveLength(panels.length - 1);
  });
});

describe("the throwaway Prometheus and the run's options", () => {
  it("scrapes the metrics URL's host, path and query every second", () => {
    expect(parse(prometheusConfig("https://gw.example:9443/apisix/prometheus/metrics?x=1&x=2"))).toEqual({
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "15s" },
      scrape_configs: [{ job_name: "spillway", scheme: "https", metrics_path: "/apisix/prometheus/metrics", static_configs: [{ targets: ["gw.example:9443"] }], params: { x: ["1", "2"] } }],
    });
  });

  it.each([["not a url"], ["ftp://host/metrics"]])("refuses --metrics-url %s", (url) => {
    expect(() => prometheusConfig(url)).toThrow(/--metrics-url/);
  });

  it("finds prometheus on PATH only", () => {
    expect(findPrometheus("/nonexistent-a:/nonexistent-b")).toBeUndefined();
  });

  it("checks --seconds and --rate-interval, and keeps the points per line under Prometheus' limit", () => {
    expect(parseSeconds(undefined)).toBe(90);
    for (const bad of ["5", "abc", "3601", "12.5"]) expect(() => parseSeconds(bad)).toThrow(/--seconds/);
    expect(parseRateInterval(undefined)).toBe("30s");
    expect(parseRateInterval("1m")).toBe("1m");
    expect(() => parseRateInterval("30")).toThrow(/--rate-interval/);
    expect(stepSeconds({ start: 0, end: 90_000 })).toBe(1);
    expect(stepSeconds({ start: 0, end: 3_600_000 })).toBe(20);
  });

  it("--traffic phases do not overlap and end before the last 30 % of the run (exposition refresh + rate window)", () => {
    const sorted = [...PHASES].sort((a, b) => a.from - b.from);
    sorted.forEach((p, i) => {
      expect(p.from).toBeLessThan(p.to);
      if (i > 0) expect(p.from).toBeGreaterThanOrEqual(sorted[i - 1]!.to);
    });
    expect(Math.max(...PHASES.map((p) => p.to))).toBeLessThanOrEqual(0.7);
    expect(phaseAt(0)).toBeUndefined();
    expect(phaseAt(0.65)?.label).toBe("every backend throttled");
  });
});
