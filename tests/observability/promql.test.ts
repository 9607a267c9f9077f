import { describe, expect, it } from "vitest";
import { parseLabelValues, scanPromQL } from "../../scripts/observability/promql.ts";

describe("the PromQL scanner", () => {
  it("reads a selector's metric and matchers, whatever the quotes and spacing", () => {
    expect(scanPromQL(`rate(apisix_x_total{ backend =~ "$backend", outcome!='ok' }[$__rate_interval])`).selectors).toEqual([
      { metric: "apisix_x_total", matchers: [{ label: "backend", op: "=~", value: "$backend" }, { label: "outcome", op: "!=", value: "ok" }] },
    ]);
  });

  it("takes the metric of a bare `{__name__=…}` selector from the matcher", () => {
    expect(scanPromQL(`{__name__="apisix_y", le="+Inf"}`).selectors).toEqual([
      { metric: "apisix_y", matchers: [{ label: "__name__", op: "=", value: "apisix_y" }, { label: "le", op: "=", value: "+Inf" }] },
    ]);
  });

  it("ties a by clause to the metrics of its aggregation, written before or after the argument", () => {
    const before = scanPromQL("sum by (backend, le) (rate(a_bucket[5m]))");
    const after = scanPromQL("sum(rate(a_bucket[5m])) by (backend, le)");
    for (const s of [before, after]) expect(s.groupings).toEqual([{ keyword: "by", labels: ["backend", "le"], scope: ["a_bucket"] }]);
  });

  it("scopes nested aggregations separately", () => {
    const s = scanPromQL("max without (instance) (sum by (backend, instance) (a) / on (backend, instance) group_left (zone) b)");
    expect(s.groupings).toEqual([
      { keyword: "without", labels: ["instance"], scope: ["a", "b"] },
      { keyword: "by", labels: ["backend", "instance"], scope: ["a"] },
      { keyword: "on", labels: ["backend", "instance"], scope: ["a", "b"] },
      { keyword: "group_left", labels: ["zone"], scope: ["a", "b"] },
    ]);
  });

  it("names functions but not keywords, numbers, durations or Grafana variables as metrics", () => {
    const s = scanPromQL("histogram_quantile(0.95, sum by (le) (increase(a_bucket[1h] offset 5m))) > bool 1e3 and c unless d or $threshold");
    expect(s.selectors.map((x) => x.metric)).toEqual(["a_bucket", "c", "d"]);
    expect(s.functions).toEqual(["histogram_quantile", "increase"]);
  });

  it("skips comments and keeps escaped quotes inside values", () => {
    const s = scanPromQL('a{path="x\\"y"} # b{c="d"}\n+ e');
    expect(s.selectors).toEqual([{ metric: "a", matchers: [{ label: "path", op: "=", value: 'x"y' }] }, { metric: "e", matchers: [] }]);
  });

  it.each([
    ["sum(rate(a[5m])", "unbalanced ("],
    ["a)", "unbalanced )"],
    ['a{b="c}', "unterminated string"],
    ["a{b c}", "label matcher operator expected"],
    ["a[5m", "unterminated ["],
    ["rate(a) by (b)", "by outside an aggregation"],
    ["a ; b", "unexpected"],
  ])("refuses %s (%s)", (expr, message) => {
    expect(() => scanPromQL(expr)).toThrow(message);
  });

  it("reads Grafana's label_values(metric, label) and label_values(label)", () => {
    expect(parseLabelValues("label_values(apisix_a_total{route=~\"chat.*\"}, backend)")).toEqual({
      selector: { metric: "apisix_a_total", matchers: [{ label: "route", op: "=~", value: "chat.*" }] },
      label: "backend",
    });
    expect(parseLabelValues("label_values(backend)")).toEqual({ label: "backend" });
    expect(parseLabelValues("query_result(up)")).toBeUndefined();
  });
});
