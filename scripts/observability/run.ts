/**
 * `snapshot`: a throwaway Prometheus scrapes a gateway every second for `--seconds` while traffic flows (the
 * caller's, or `--traffic`: the demo's simulators and gateway driven here), then every dashboard query runs exactly
 * as written (variables: All) over that window and the panels are drawn into one PNG.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EnvironmentError, UsageError } from "../../lib/errors.ts";
import { repoRoot } from "../lib/pins.ts";
import { freePort } from "../start/ports.ts";
import { seriesFromQueryRange, type Series, type TimeRange } from "./chart.ts";
import { INTERVALS, queryPanels, readDashboard, substituteVariables, type Dashboard } from "./dashboard.ts";
import { svgToPng } from "./layout.ts";
import { renderPage } from "./page.ts";
import { findPrometheus, INSTALL_HINT, prometheusConfig, queryRange, startPrometheus, targetHealth } from "./prometheus.ts";

export interface SnapshotOptions {
  metricsUrl?: string;
  seconds?: string;
  out?: string;
  svg?: string;
  traffic?: boolean;
  build?: boolean;
  rateInterval?: string;
}

type Say = (line: string) => void;

const MAX_SECONDS = 3600;
/** APISIX's exposition refresh (15 s) plus two scrapes. */
const EXPOSITION_DRAIN_MS = 17_000;
/** Points per line: enough for a smooth curve, few enough for Prometheus' 11,000-point limit at any window. */
const POINTS = 180;

export function parseSeconds(raw: string | undefined): number {
  const n = raw === undefined ? 90 : Number(raw);
  if (!Number.isInteger(n) || n < 10 || n > MAX_SECONDS) throw new UsageError(`--seconds must be a whole number from 10 to ${MAX_SECONDS}`);
  return n;
}

export function parseRateInterval(raw: string | undefined): string {
  if (raw === undefined) return INTERVALS.__rate_interval!;
  if (!/^[1-9][0-9]*(s|m)$/.test(raw)) throw new UsageError("--rate-interval must be a Prometheus duration in seconds or minutes, e.g. 30s or 1m");
  return raw;
}

export function stepSeconds(range: TimeRange): number {
  return Math.max(1, Math.ceil((range.end - range.start) / 1000 / POINTS));
}

/** Every panel's series from Prometheus: the queries exactly as in the dashboard, variables substituted. */
export async function collectSeries(d: Dashboard, base: string, range: TimeRange, rateInterval = INTERVALS.__rate_interval!): Promise<Map<number, Series[]>> {
  const intervals = { ...INTERVALS, __rate_interval: rateInterval };
  const out = new Map<number, Series[]>();
  const step = stepSeconds(range);
  for (const panel of queryPanels(d)) {
    const series: Series[] = [];
    for (const t of panel.targets ?? []) {
      const body = await queryRange(base, substituteVariables(t.expr, intervals), { ...range, stepSeconds: step });
      try {
        series.push(...seriesFromQueryRange(body, t.legendFormat));
      } catch (err) {
        throw new EnvironmentError(`panel "${panel.title}" query ${t.refId}: ${(err as Error).message}`);
      }
    }
    out.set(panel.id, series);
  }
  return out;
}

async function waitWithProgress(ms: number, say: Say): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const left = Math.ceil((end - Date.now()) / 1000);
    say(`scraping: ${left} s left (drive traffic through the gateway now)`);
    await new Promise((r) => setTimeout(r, Math.min(15_000, end - Date.now())));
  }
}

export async function runSnapshot(opts: SnapshotOptions, say: Say): Promise<string> {
  const seconds = parseSeconds(opts.seconds);
  const rateInterval = parseRateInterval(opts.rateInterval);
  if (opts.traffic === true && opts.metricsUrl !== undefined) throw new UsageError("--traffic starts its own gateway; leave out --metrics-url");
  if (opts.traffic !== true && opts.metricsUrl === undefined) throw new UsageError("give --metrics-url <url> of a running gateway, or --traffic");
  const binary = findPrometheus();
  if (binary === undefined) throw new EnvironmentError(`prometheus is not installed: ${INSTALL_HINT}`);
  const out = path.resolve(opts.out ?? path.join(repoRoot, "docs", "dashboard.png"));
  const dashboard = readDashboard();

  const work = mkdtempSync(path.join(tmpdir(), "spillway-snapshot-"));
  const stops: (() => Promise<void>)[] = [];
  try {
    let metricsUrl = opts.metricsUrl!;
    let drive: ((ms: number) => Promise<void>) | undefined;
    if (opts.traffic === true) {
      const { startTrafficStack } = await import("./traffic.ts");
      const stack = await startTrafficStack({ build: opts.build !== false, say });
      stops.push(stack.stop);
      metricsUrl = stack.metricsUrl;
      drive = stack.drive;
    }
    const configFile = path.join(work, "prometheus.yml");
    writeFileSync(configFile, prometheusConfig(metricsUrl));
    const prom = await startPrometheus({ binary, configFile, dataDir: path.join(work, "data"), port: await freePort() });
    stops.unshift(prom.stop);
    say(`prometheus ${prom.url} scraping ${metricsUrl} every 1 s for ${seconds} s`);

    const start = Date.now();
    if (drive) await drive(seconds * 1000);
    else await waitWithProgress(seconds * 1000, say);
    // APISIX rebuilds its exposition every 15 s: wait for one more rebuild and its scrape, so the last requests are in.
    say("waiting 17 s for the gateway's last exposition refresh");
    await new Promise((r) => setTimeout(r, EXPOSITION_DRAIN_MS));
    const range: TimeRange = { start, end: Date.now() };

    const series = await collectSeries(dashboard, prom.url, range, rateInterval);
    if ([...series.values()].every((s) => s.length === 0)) {
      const targets = await targetHealth(prom.url);
      say(`every panel is empty; scrape target: ${targets.map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`).join("; ") || "none"}`);
    }
    const svg = renderPage(dashboard, series, range, `${opts.traffic === true ? "spillway demo traffic (--traffic)" : metricsUrl}  ·  $__rate_interval ${rateInterval}`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, svgToPng(svg));
    if (opts.svg !== undefined) writeFileSync(path.resolve(opts.svg), svg);
    say(`wrote ${path.relative(process.cwd(), out) || out} (${queryPanels(dashboard).length} panels)`);
    return out;
  } finally {
    for (const stop of stops) await stop().catch((err: unknown) => say(`cleanup: ${(err as Error).message}`));
    rmSync(work, { recursive: true, force: true });
  }
}
