// scripts/status/table.ts: two scrapes 10 s apart → a row per backend and the footer, as text and as data.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { METRICS } from "../../plugins/lib/metric-catalog.ts";
import { parseExposition, type Sample } from "../../scripts/lib/prometheus-text.ts";
import { formatStatus, METRIC, statusReport, type Scrape } from "../../scripts/status/table.ts";

const METRICS_URL = "http://127.0.0.1:9091/apisix/prometheus/metrics";
const T0 = Date.UTC(2026, 0, 5, 9, 30, 0);
const scrape = (name: string, at: number, prefix = "apisix_"): Scrape => {
  const samples = parseExposition(readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8"));
  return { samples: samples.map((s) => ({ ...s, name: s.name.replace(/^apisix_/, prefix) })), at };
};
const before = scrape("scrape-1.txt", T0);
const after = scrape("scrape-2.txt", T0 + 10_000);
const report = statusReport(METRICS_URL, "apisix_", after, before);
const row = (backend: string) => report.backends.find((r) => r.backend === backend);

describe("status rows", () => {
  it("lists the backends seen in the per-backend metrics, sorted, and not the histograms' backend=none", () => {
    expect(report.backends.map((r) => r.backend)).toEqual(["payg-north", "payg-west", "ptu-backup", "ptu-east"]);
  });

  it("takes per-minute rates over the measured interval, summed over routes", () => {
    // ptu-east: chat 100 → 130, embeddings 20 → 26, 4xx unchanged: 36 in 10 s.
    expect(row("ptu-east")).toMatchObject({ attemptsPerMin: 216, throttledPerMin: 0, failedPerMin: 0 });
    expect(statusReport(METRICS_URL, "apisix_", { ...after, at: T0 + 20_000 }, before).backends.find((r) => r.backend === "ptu-east")?.attemptsPerMin).toBe(108);
  });

  it("counts 429s, 5xx + timeouts + connect errors and failovers per backend; a series new in the second scrape counts from 0", () => {
    expect(row("payg-west")).toMatchObject({ throttledPerMin: 72, failedPerMin: 12, failoversPerMin: 84 });
    expect(row("ptu-backup")).toMatchObject({ attemptsPerMin: 12, throttledPerMin: 0, failedPerMin: 12, failoversPerMin: 12 });
  });

  it("does not count backends passed over (cooled_skip, reserve_skip) as attempts", () => {
    // payg-west: ok +2, 429 +12, 5xx +1, timeout +1; cooled_skip +10 left out.
    expect(row("payg-west")?.attemptsPerMin).toBe(96);
    expect(row("payg-north")?.attemptsPerMin).toBe(0);
  });

  it("shows a cooling backend with its remaining seconds, rounded up", () => {
    expect(row("payg-west")).toMatchObject({ state: "cooling", coolingForSeconds: 12.4 });
    expect(row("ptu-backup")).toMatchObject({ state: "cooling", coolingForSeconds: 30 });
    expect(row("ptu-east")).toMatchObject({ state: "ok", coolingForSeconds: 0 });
    expect(formatStatus(report, "apisix_")).toMatch(/^payg-west +cooling +13 /m);
  });

  it("reads the remaining tokens and requests from the second scrape", () => {
    expect(row("ptu-east")).toMatchObject({ remainingTokens: 447_200, remainingRequests: 1187 });
    expect(row("payg-west")).toMatchObject({ remainingTokens: 0, remainingRequests: 0 });
  });

  it("gives null (shown -) for a metric with no sample for the backend", () => {
    expect(row("payg-north")).toMatchObject({ state: "ok", coolingForSeconds: null, failoversPerMin: null });
    expect(row("ptu-backup")).toMatchObject({ remainingTokens: null, remainingRequests: null });
    expect(formatStatus(report, "apisix_")).toMatch(/^ptu-backup +cooling +30 +- +- +12\.0 /m);
  });

  it("takes the footer's rates: exhausted by status, budget rejections, low-priority refusals", () => {
    expect(report.footer).toEqual({ exhaustedPerMin: { "429": 18, "503": 0, "504": 6 }, budgetRejectionsPerMin: 18, lowPriorityRefusalsPerMin: 24 });
  });

  it("treats a counter that went down as reset (a gateway restart)", () => {
    const restarted = statusReport(METRICS_URL, "apisix_", { ...before, at: T0 + 10_000 }, { ...after, at: T0 });
    // ptu-east chat 130 → 100 and embeddings 26 → 20 are resets: 100 + 20 + 0 in 10 s.
    expect(restarted.backends.find((r) => r.backend === "ptu-east")?.attemptsPerMin).toBe(720);
  });

  it("reads names behind another metric prefix", () => {
    const other = statusReport(METRICS_URL, "gw_", scrape("scrape-2.txt", T0 + 10_000, "gw_"), scrape("scrape-1.txt", T0, "gw_"));
    expect(other.backends).toEqual(report.backends);
    expect(statusReport(METRICS_URL, "gw_", after, before).backends).toEqual([]);
  });
});

describe("status text", () => {
  it("prints the table with rates and the footer", () => {
    expect(formatStatus(report, "apisix_")).toBe(
      `${METRICS_URL} at 09:30:10 UTC, rates over 10.0 s
backend     state    cooling for (s)  tokens left  requests left  attempts/min  429/min  5xx+timeout+connect/min  failovers/min
payg-north  ok                     -          900             40           0.0      0.0                      0.0              -
payg-west   cooling               13            0              0          96.0     72.0                     12.0           84.0
ptu-backup  cooling               30            -              -          12.0      0.0                     12.0           12.0
ptu-east    ok                     0       447200           1187         216.0      0.0                      0.0              -
exhausted/min: 429 18.0, 503 0.0, 504 6.0 · budget rejections/min: 18.0 · low-priority refusals/min: 24.0
`,
    );
  });

  it("leaves the rate columns and the footer out for one scrape", () => {
    const once = statusReport(METRICS_URL, "apisix_", after);
    expect(once.intervalSeconds).toBeNull();
    expect(once.footer).toBeNull();
    expect(once.backends.every((r) => r.attemptsPerMin === null && r.failoversPerMin === null)).toBe(true);
    const text = formatStatus(once, "apisix_");
    expect(text.split("\n")[0]).toBe(`${METRICS_URL} at 09:30:10 UTC, one scrape, no rates`);
    expect(text.split("\n")[1]).toBe("backend     state    cooling for (s)  tokens left  requests left");
    expect(text).not.toContain("/min");
  });

  it("shows - in the footer for a metric with no sample", () => {
    const bare: Sample[] = [{ name: "apisix_spillway_attempts_total", labels: { backend: "b", outcome: "ok", route: "r" }, value: 1 }];
    const text = formatStatus(statusReport(METRICS_URL, "apisix_", { samples: bare, at: T0 + 10_000 }, { samples: [], at: T0 }), "apisix_");
    expect(text).toContain("exhausted/min: - · budget rejections/min: - · low-priority refusals/min: -");
  });

  it("says why there are no rows, and names the prefix", () => {
    const text = formatStatus(statusReport(METRICS_URL, "gw_", after), "gw_");
    expect(text).toContain("no Spillway backend in these metrics (no gw_spillway_attempts_total");
    expect(text).toContain('metric prefix is not "gw_" (--metric-prefix)');
  });
});

describe("metric catalog", () => {
  it("has every metric this command reads, with the labels it filters on", () => {
    const byName = new Map(METRICS.map((m) => [m.name, m]));
    const labels: Record<string, string[]> = {
      [METRIC.attempts]: ["backend", "outcome"],
      [METRIC.failovers]: ["backend"],
      [METRIC.exhausted]: ["status"],
      [METRIC.budgetRejections]: [],
      [METRIC.lowPriorityRefusals]: [],
      [METRIC.cooldown]: ["backend"],
      [METRIC.remainingTokens]: ["backend"],
      [METRIC.remainingRequests]: ["backend"],
    };
    for (const [name, needed] of Object.entries(labels)) {
      expect(byName.get(name)?.labels, name).toEqual(expect.arrayContaining(needed));
    }
    expect(byName.get(METRIC.cooldown)?.type).toBe("gauge");
    expect(byName.get(METRIC.attempts)?.type).toBe("counter");
  });

  it("lists the attempts outcomes this command splits on", () => {
    const help = METRICS.find((m) => m.name === METRIC.attempts)!.help;
    for (const outcome of ["ok", "429", "5xx", "timeout", "connect", "4xx", "cooled_skip", "reserve_skip"]) expect(help).toContain(outcome);
  });

  it("matches the fixtures: every spillway metric in them is in the catalog with its labels", () => {
    for (const s of [...before.samples, ...after.samples].filter((x) => x.name.startsWith("apisix_spillway_"))) {
      const base = s.name.replace(/^apisix_/, "").replace(/_(bucket|sum|count)$/, "");
      const spec = METRICS.find((m) => m.name === base || m.name === s.name.replace(/^apisix_/, ""));
      expect(spec, s.name).toBeDefined();
      expect(Object.keys(s.labels).filter((l) => l !== "le").sort(), s.name).toEqual([...spec!.labels].sort());
    }
  });
});
