// scripts/lib/prometheus-text.ts: exposition text → flat samples (the package's gaps closed), and the sums over them.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { byLabel, ExpositionError, increase, parseExposition, sum, type Sample } from "../../scripts/lib/prometheus-text.ts";

const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8");
const first = parseExposition(fixture("scrape-1.txt"));
const second = parseExposition(fixture("scrape-2.txt"));

describe("parseExposition", () => {
  it("returns one sample per sample line, in order, with labels and numeric values", () => {
    const lines = fixture("scrape-1.txt").split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(first).toHaveLength(lines.length);
    expect(first[0]).toEqual({
      name: "apisix_bandwidth",
      labels: { consumer: "batch", llm_model: "gpt-4o", node: "", request_llm_model: "gpt-4o", request_type: "ai_chat", route: "chat", service: "", type: "egress" },
      value: 1482213,
    });
    expect(first.find((s) => s.name === "apisix_spillway_attempts_total" && s.labels.outcome === "cooled_skip")).toEqual({
      name: "apisix_spillway_attempts_total",
      labels: { backend: "payg-west", outcome: "cooled_skip", route: "chat" },
      value: 5,
    });
  });

  it("unescapes a label value holding a quote and a backslash", () => {
    const team = first.find((s) => s.name === "apisix_spillway_budget_rejections_total" && s.labels.lane === "high");
    expect(team?.labels.client).toBe('team "a\\b"');
    expect(team?.labels.client).toHaveLength(10);
  });

  it("keeps every series of a labelled histogram: _bucket with le, _sum and _count, as written", () => {
    const buckets = first.filter((s) => s.name === "apisix_spillway_ttft_seconds_bucket");
    expect(buckets).toHaveLength(24);
    expect(buckets.filter((s) => s.labels.backend === "ptu-east").map((s) => s.labels.le)).toEqual(
      ["000.05", "000.10", "000.25", "000.50", "001.00", "002.00", "005.00", "010.00", "030.00", "060.00", "120.00", "+Inf"],
    );
    expect(buckets.find((s) => s.labels.backend === "payg-west" && s.labels.le === "+Inf")).toEqual({
      name: "apisix_spillway_ttft_seconds_bucket", labels: { backend: "payg-west", lane: "low", le: "+Inf" }, value: 50,
    });
    expect(first.filter((s) => s.name === "apisix_spillway_ttft_seconds_sum")).toEqual([
      { name: "apisix_spillway_ttft_seconds_sum", labels: { backend: "payg-west", lane: "low" }, value: 38.5 },
      { name: "apisix_spillway_ttft_seconds_sum", labels: { backend: "ptu-east", lane: "high" }, value: 31.25 },
    ]);
    expect(sum(first, "apisix_spillway_ttft_seconds_count")).toBe(150);
  });

  it("reads a summary's quantile samples under the family name", () => {
    const text = '# TYPE rpc summary\nrpc{quantile="0.5"} 4773\nrpc{quantile="0.99"} 76656\nrpc_sum 1.7560473e+07\nrpc_count 2693\n';
    expect(parseExposition(text)).toEqual([
      { name: "rpc", labels: { quantile: "0.5" }, value: 4773 },
      { name: "rpc", labels: { quantile: "0.99" }, value: 76656 },
      { name: "rpc_sum", labels: {}, value: 17560473 },
      { name: "rpc_count", labels: {}, value: 2693 },
    ]);
  });

  it("keeps the last line without a final newline, reads +Inf, -Inf and NaN, and drops timestamps", () => {
    const samples = parseExposition('up 1 1395066363000\nweird{p="x"} +Inf\nlow -Inf\nnone NaN');
    expect(samples.map((s) => [s.name, s.value])).toEqual([["up", 1], ["weird", Infinity], ["low", -Infinity], ["none", Number.NaN]]);
  });

  it("reads blank lines, comments and CRLF endings", () => {
    expect(parseExposition("# a comment\r\n\r\nx 2\r\n")).toEqual([{ name: "x", labels: {}, value: 2 }]);
    expect(parseExposition("")).toEqual([]);
  });

  it.each([
    ["an HTML page", "<html><body>404 Not Found</body></html>", /"<html><body>404" is not a metric name/],
    ["a JSON error", '{"error_msg":"404 Route Not Found"}', /"{\\"error_msg\\":\\"404 Route Not Found\\"}" is not a sample line/],
    ["a sample without a value", "apisix_up\n", /apisix_up has the value ""/],
    ["a value that is no number", "apisix_up one\n", /apisix_up has the value "one"/],
    ["an unquoted label value", "apisix_up{a=b} 1\n", /"apisix_up{a=b} 1" is not a sample line/],
  ])("rejects %s", (_what, text, message) => {
    expect(() => parseExposition(text)).toThrow(ExpositionError);
    expect(() => parseExposition(text)).toThrow(message);
  });
});

describe("sum, byLabel, increase", () => {
  const attempts = "apisix_spillway_attempts_total";

  it("sums the samples matching a label filter, one value or several", () => {
    expect(sum(first, attempts)).toBe(191);
    expect(sum(first, attempts, { backend: "payg-west" })).toBe(67);
    expect(sum(first, attempts, { backend: "payg-west", outcome: ["429", "5xx"] })).toBe(12);
  });

  it("tells no matching sample (undefined) from a zero", () => {
    expect(sum(first, attempts, { backend: "nowhere" })).toBeUndefined();
    expect(sum(first, "apisix_spillway_cooldown_remaining_seconds", { backend: "ptu-east" })).toBe(0);
    expect(sum(first, attempts, { missing_label: "x" })).toBeUndefined();
  });

  it("sums per value of a label, leaving out samples without it", () => {
    expect(byLabel(first, attempts, "backend")).toEqual(new Map([["payg-north", 3], ["payg-west", 67], ["ptu-east", 121]]));
    expect(byLabel(first, "apisix_node_info", "backend")).toEqual(new Map());
  });

  it("takes a counter's growth per series: a new series counts from 0, a reset one from 0 again", () => {
    expect(increase(first, second, attempts, { backend: "payg-west" })).toBe(2 + 12 + 1 + 10 + 1);
    expect(increase(first, second, attempts, { backend: "ptu-backup" })).toBe(2);
    const before: Sample[] = [{ name: "c", labels: { a: "1" }, value: 50 }];
    const after: Sample[] = [{ name: "c", labels: { a: "1" }, value: 4 }];
    expect(increase(before, after, "c")).toBe(4);
    expect(increase(before, [], "c")).toBeUndefined();
  });

  it("matches series by their labels whatever their order", () => {
    const before: Sample[] = [{ name: "c", labels: { a: "1", b: "2" }, value: 3 }];
    const after: Sample[] = [{ name: "c", labels: { b: "2", a: "1" }, value: 5 }];
    expect(increase(before, after, "c")).toBe(2);
  });
});
