// The text and HTML reports: Markdown tables, check lines, the summary, the charts' ECharts options, the page.
import { describe, expect, it } from "vitest";
import { atLeast, atMost, between, check, equals, near, passed, pct, skipped } from "../../scripts/e2e/checks.ts";
import type { ScenarioResult } from "../../scripts/e2e/model.ts";
import { buildHtml, chartOption, escapeHtml, scriptSafe } from "../../scripts/e2e/report-html.ts";
import { checksTable, formatReport, markdownTable, scenarioText, summaryLine } from "../../scripts/e2e/report.ts";

function result(name: string, pass: boolean): ScenarioResult {
  return {
    name,
    title: `The ${name} scenario`,
    load: "2 users, 3 s",
    table: { headers: ["backend", "requests", "share"], rows: [["payg1", 10, "50.0 %"], ["payg2", 10, "50.0 %"]] },
    checks: [check("client-visible errors", pass, "= 0", pass ? "0" : "3")],
    chart: { title: "Requests per second", xName: "s", yName: "requests/s", series: [{ name: "payg1", type: "line", data: [[0, 3], [1, 4]] }] },
    notes: ["answers: 200×20"],
    ids: { first: 1, last: 20 },
    durationMs: 3200,
  };
}

describe("checks", () => {
  it("each says what was required and what was measured", () => {
    expect(equals("errors", 0, 0)).toEqual({ name: "errors", status: "pass", expected: "= 0", actual: "0" });
    expect(atMost("p99", 1200, 1000).status).toBe("fail");
    expect(atLeast("success", 0.95, 0.9, pct)).toMatchObject({ status: "pass", expected: "≥ 90.0 %", actual: "95.0 %" });
    expect(between("tokens", 70_000, 67_150, 88_000)).toMatchObject({ status: "pass", expected: "67150 … 88000" });
    expect(near("share", 0.52, 0.5, 0.07, pct)).toMatchObject({ status: "pass", expected: "50.0 % ± 7.0 %" });
    expect(near("share", 0.6, 0.5, 0.07).status).toBe("fail");
    expect(atMost("p99", undefined, 1000)).toMatchObject({ status: "fail", actual: "nothing measured" });
  });

  it("a skip is neither a pass nor a miss", () => {
    expect(passed([skipped("reopen", "run too short"), equals("x", 1, 1)])).toBe(true);
    expect(passed([equals("x", 1, 2)])).toBe(false);
  });
});

describe("text report", () => {
  it("Markdown tables right-align numeric columns and escape pipes", () => {
    expect(markdownTable({ headers: ["a", "n"], rows: [["x|y", 1], ["z", 22]] })).toBe("| a | n |\n|---|---:|\n| x\\|y | 1 |\n| z | 22 |");
  });

  it("a scenario that did not complete has no figures, not an empty table", () => {
    expect(markdownTable({ headers: [], rows: [] })).toBe("(no figures)");
  });

  it("a check line: name, required, measured, PASS/FAIL/SKIP", () => {
    expect(checksTable([equals("errors", 0, 0), skipped("reopen", "too short")])).toContain("| reopen | – | not checked: too short | SKIP |");
  });

  it("a scenario: heading with its verdict and time, load, figures, checks, notes", () => {
    const text = scenarioText(result("round-robin-simple", false));
    expect(text.split("\n")[0]).toBe("## round-robin-simple — The round-robin-simple scenario: FAIL (3.2 s)");
    expect(text).toContain("load: 2 users, 3 s");
    expect(text).toContain("| payg1 | 10 | 50.0 % |");
    expect(text).toContain("| client-visible errors | = 0 | 3 | FAIL |");
    expect(text).toContain("- answers: 200×20");
  });

  it("the summary names the failed scenarios, and the run's own checks", () => {
    expect(summaryLine([result("a", true), result("b", true)], [])).toBe("all 2 scenario(s) passed");
    expect(summaryLine([result("a", true), result("b", false)], [])).toBe("FAILED: b (1 of 2 scenario(s) passed)");
    expect(summaryLine([result("a", true)], [equals("lua errors", 1, 0)])).toBe("FAILED: run checks (1 of 1 scenario(s) passed)");
    const text = formatReport({ header: ["# head"], results: [result("a", true)], runChecks: [equals("lua errors", 0, 0)], notes: ["HTML report: x.html"] });
    expect(text).toMatch(/^# head\n/);
    expect(text).toContain("## the run");
    expect(text.trimEnd().split("\n").at(-1)).toBe("all 1 scenario(s) passed");
  });
});

describe("HTML report", () => {
  it("a time chart: value x axis in seconds; a second y axis when asked", () => {
    const many: [number, number][] = [[0, 1], [1, 2], [2, 3], [3, 4]];
    const option = chartOption({ title: "t", xName: "s", yName: "requests/s", y2Name: "ms", series: [{ name: "a", type: "line", data: many }, { name: "lat", type: "line", data: [[0, 12]], yAxis: 1 }] });
    expect(option.xAxis).toMatchObject({ type: "value", name: "s" });
    expect(option.yAxis).toEqual([{ type: "value", name: "requests/s" }, { type: "value", name: "ms" }]);
    expect(option.series).toEqual([
      { name: "a", type: "line", yAxisIndex: 0, data: many, showSymbol: false },
      // One point: drawn as its symbol, or it would not show at all.
      { name: "lat", type: "line", yAxisIndex: 1, data: [[0, 12]], showSymbol: true },
    ]);
  });

  it("a bar chart over categories: one value per category, in the categories' order (0 when missing)", () => {
    const option = chartOption({ title: "t", xName: "client", yName: "tokens", categories: ["a", "b"], series: [{ name: "usage", type: "bar", data: [["b", 7]] }] });
    expect(option.xAxis).toMatchObject({ type: "category", data: ["a", "b"] });
    expect((option.series as { data: number[] }[])[0]!.data).toEqual([0, 7]);
  });

  it("the page: ECharts inlined once, a section and a chart element per scenario, the options as JSON, text escaped", () => {
    const bad = { ...result("a", true), notes: ["<b>&</b>"] };
    const html = buildHtml({ header: ["# run <1>"], results: [bad, result("b", false)], runChecks: [], notes: [], echarts: "var echarts = {init: function () {}}; /* </script> */" });
    expect(html.match(/var echarts =/g)).toHaveLength(1);
    expect(html).not.toContain("/* </script> */");
    expect(html).toContain('<section id="a">');
    expect(html).toContain('<div class="chart" id="chart-1"></div>');
    expect(html).toContain('<span class="badge fail">FAIL</span>');
    expect(html).toContain("<li>&lt;b&gt;&amp;&lt;/b&gt;</li>");
    expect(html).toContain("# run &lt;1&gt;");
    const json = /<script type="application\/json" id="charts">([^]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)).toHaveLength(2);
  });

  it("scriptSafe and escapeHtml keep text inside its element", () => {
    expect(scriptSafe('a</script>b<!--c</SCRIPT')).toBe("a<\\/script>b<\\!--c<\\/SCRIPT");
    expect(escapeHtml('<a href="x">&</a>')).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
  });
});
