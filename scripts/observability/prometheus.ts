/**
 * A throwaway Prometheus for the snapshot: Debian's `prometheus` binary with a temp config that scrapes one gateway
 * every second into a temp storage folder, on a free loopback port, and its HTTP API (`query_range`, `targets`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { EnvironmentError, UsageError } from "../../lib/errors.ts";

export const INSTALL_HINT = "install Debian's prometheus package (`sudo apt-get install prometheus`, or `bash scripts/setup.sh`)";

/** The scrape job name; also the `job` label of every series. */
export const JOB = "spillway";

/** Prometheus' scrape config for one metrics URL (http or https, path and query kept). */
export function prometheusConfig(metricsUrl: string, scrapeSeconds = 1): string {
  let url: URL;
  try {
    url = new URL(metricsUrl);
  } catch {
    throw new UsageError(`--metrics-url ${JSON.stringify(metricsUrl)} is not a URL; e.g. http://127.0.0.1:9091/apisix/prometheus/metrics`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--metrics-url must be http or https, not ${url.protocol}`);
  const params: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (params[k] ??= []).push(v);
  const job: Record<string, unknown> = {
    job_name: JOB,
    scheme: url.protocol.slice(0, -1),
    metrics_path: url.pathname,
    static_configs: [{ targets: [url.host || "localhost"] }],
  };
  if (Object.keys(params).length > 0) job.params = params;
  return stringify({ global: { scrape_interval: `${scrapeSeconds}s`, scrape_timeout: `${scrapeSeconds}s`, evaluation_interval: "15s" }, scrape_configs: [job] });
}

/** `prometheus` on PATH, or undefined. */
export function findPrometheus(envPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, "prometheus");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

/** Starts the binary and waits for /-/ready; its log goes to the caller only when it fails. */
export async function startPrometheus(opts: { binary: string; configFile: string; dataDir: string; port: number }): Promise<RunningPrometheus> {
  const url = `http://127.0.0.1:${opts.port}`;
  const child: ChildProcess = spawn(
    opts.binary,
    [
      `--config.file=${opts.configFile}`,
      `--storage.tsdb.path=${opts.dataDir}`,
      `--web.listen-address=127.0.0.1:${opts.port}`,
      "--storage.tsdb.retention.time=1d",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => void (log = (log + chunk.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.on("error", () => resolve(-1));
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async (): Promise<void> => {
    if (!gone) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 30_000;
  while (!gone && Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).status === 200) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new EnvironmentError(`prometheus did not become ready on ${url}${gone ? " (it exited)" : " within 30 s"}:\n${log.trim()}`);
}

export async function queryRange(base: string, expr: string, range: { start: number; end: number; stepSeconds: number }): Promise<unknown> {
  const form = new URLSearchParams({ query: expr, start: String(range.start / 1000), end: String(range.end / 1000), step: `${range.stepSeconds}s` });
  const res = await fetch(`${base}/api/v1/query_range`, { method: "POST", body: form, signal: AbortSignal.timeout(30_000) });
  // Prometheus answers 400/422 with the same JSON error shape seriesFromQueryRange reports.
  return res.json();
}

/** The scrape target's health and last error, to explain an all-empty snapshot. */
export async function targetHealth(base: string): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
  const res = await fetch(`${base}/api/v1/targets`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { data?: { activeTargets?: { health?: string; lastError?: string; scrapeUrl?: string }[] } };
  return (body.data?.activeTargets ?? []).map((t) => ({ health: t.health ?? "unknown", lastError: t.lastError ?? "", scrapeUrl: t.scrapeUrl ?? "" }));
}
