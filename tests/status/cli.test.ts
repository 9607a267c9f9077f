// `spillway status` against a local server serving the fixture scrapes: flags, the metrics address from the env, one
// or two scrapes, --json, --watch, and the exit codes of `spillway status` run as a command.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, UsageError } from "../../lib/errors.ts";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { ScrapeError } from "../../scripts/lib/prometheus-text.ts";
import { runWith, type StatusIo } from "../../scripts/status/cli.ts";
import { defaultMetricsUrl, planFromFlags } from "../../scripts/status/options.ts";
import type { StatusReport } from "../../scripts/status/table.ts";

const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8");
const SCRAPES = [fixture("scrape-1.txt"), fixture("scrape-2.txt")];
const METRICS_PATH = "/apisix/prometheus/metrics";

/** Fake exporters named by behaviour: each GET of /apisix/prometheus/metrics answers the next fixture (the last repeats). */
let server: Server;
let base: string;
const served = new Map<string, number>();
/** A port nothing listens on (a server was bound there, then closed). */
let closedUrl: string;

function listen(s: Server): Promise<string> {
  return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const [route, scenario = "sequence"] = (req.url ?? "").split("?");
    if (route !== METRICS_PATH) return void res.writeHead(404, { "content-type": "application/json" }).end('{"error_msg":"404 Route Not Found"}');
    if (scenario === "html") return void res.writeHead(200, { "content-type": "text/html" }).end("<html><body>APISIX Dashboard</body></html>");
    if (scenario === "not-text") return void res.writeHead(200, { "content-type": "text/plain" }).end("<html><body>hi</body></html>");
    const n = served.get(scenario) ?? 0;
    served.set(scenario, n + 1);
    if (scenario === "flaky" && n === 1) return void res.writeHead(503).end();
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(SCRAPES[Math.min(n, SCRAPES.length - 1)]);
  });
  base = await listen(server);
  const closed = createServer();
  closedUrl = `${await listen(closed)}${METRICS_PATH}`;
  await new Promise((resolve) => closed.close(resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A scenario of its own per test, so each starts at the first fixture. */
const url = (scenario: string): string => `${base}${METRICS_PATH}?${scenario}`;

function io(env: Record<string, string | undefined> = {}, signal?: AbortSignal): StatusIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { env, out: (t) => void stdout.push(t), err: (l) => void stderr.push(l), clear: false, stdout, stderr, ...(signal ? { signal } : {}) };
}

describe("status options", () => {
  it("defaults to the renderer's metrics address, 10 s, two scrapes, the apisix_ prefix", () => {
    expect(planFromFlags({}, {})).toEqual({
      metricsUrl: "http://127.0.0.1:9091/apisix/prometheus/metrics", intervalMs: 10_000, once: false, watch: false, json: false, metricPrefix: "apisix_",
    });
  });

  it.each([
    [{ SPILLWAY_METRICS_HOST: "10.0.0.4", SPILLWAY_METRICS_PORT: "9191" }, "http://10.0.0.4:9191/apisix/prometheus/metrics"],
    [{ SPILLWAY_METRICS_HOST: "0.0.0.0" }, "http://127.0.0.1:9091/apisix/prometheus/metrics"],
    [{ SPILLWAY_METRICS_HOST: "", SPILLWAY_METRICS_PORT: " " }, "http://127.0.0.1:9091/apisix/prometheus/metrics"],
    [{ SPILLWAY_METRICS_HOST: "::" }, "http://[::1]:9091/apisix/prometheus/metrics"],
    [{ SPILLWAY_METRICS_HOST: "gateway.internal" }, "http://gateway.internal:9091/apisix/prometheus/metrics"],
  ])("reads the metrics address from %o", (env, expected) => {
    expect(defaultMetricsUrl(env)).toBe(expected);
  });

  it("names the variable when the env's metrics port is wrong, and ignores it given --metrics-url", () => {
    expect(() => planFromFlags({}, { SPILLWAY_METRICS_PORT: "metrics" })).toThrow(ConfigError);
    expect(() => planFromFlags({}, { SPILLWAY_METRICS_PORT: "metrics" })).toThrow(/SPILLWAY_METRICS_PORT must be a port number/);
    expect(planFromFlags({ metricsUrl: "http://h:1/m" }, { SPILLWAY_METRICS_PORT: "metrics" }).metricsUrl).toBe("http://h:1/m");
  });

  it.each([
    [{ interval: "0" }, /--interval must be a number of seconds from 0.1 to 3600 \(got "0"\)/],
    [{ interval: "ten" }, /--interval must be/],
    [{ interval: "-5" }, /--interval must be/],
    [{ metricsUrl: "127.0.0.1:9091" }, /--metrics-url must be an http/],
    [{ metricsUrl: "ftp://h/m" }, /--metrics-url must be an http/],
    [{ metricPrefix: "apisix-" }, /--metric-prefix must be/],
    [{ once: true, watch: true }, /--once and --watch exclude each other/],
  ])("rejects %o as bad usage", (flags, message) => {
    expect(() => planFromFlags(flags, {})).toThrow(UsageError);
    expect(() => planFromFlags(flags, {})).toThrow(message);
  });

  it("takes fractions of a second and an empty prefix", () => {
    expect(planFromFlags({ interval: "0.5", metricPrefix: "" }, {})).toMatchObject({ intervalMs: 500, metricPrefix: "" });
  });
});

describe("status run", () => {
  it("prints one scrape's table with --once", async () => {
    const out = io();
    await runWith({ once: true, metricsUrl: url("once") }, out);
    expect(out.stdout).toHaveLength(1);
    expect(out.stdout[0]).toMatch(/, one scrape, no rates\nbackend +state +cooling for \(s\) +tokens left +requests left\npayg-north /);
    expect(served.get("once")).toBe(1);
  });

  it("takes rates over two scrapes an interval apart, and says so on stderr while waiting", async () => {
    const out = io();
    await runWith({ interval: "0.2", json: true, metricsUrl: url("two") }, out);
    const report = JSON.parse(out.stdout.join("")) as StatusReport;
    expect(report.intervalSeconds).toBeGreaterThanOrEqual(0.19);
    const east = report.backends.find((r) => r.backend === "ptu-east")!;
    expect((east.attemptsPerMin! * report.intervalSeconds!) / 60).toBeCloseTo(36, 6);
    expect(report.backends.find((r) => r.backend === "payg-west")).toMatchObject({ state: "cooling", coolingForSeconds: 12.4, remainingTokens: 0 });
    expect(report.footer?.exhaustedPerMin).toHaveProperty("504");
    expect(out.stderr).toEqual(["scraping again in 0.2 s for the rates (--once: one scrape, no rates)"]);
  });

  it("--watch prints a table every interval until stopped, and rides over a failed scrape", async () => {
    const controller = new AbortController();
    const out = io({}, controller.signal);
    out.out = (t) => {
      out.stdout.push(t);
      if (out.stdout.length === 3) controller.abort();
    };
    await runWith({ watch: true, interval: "0.1", metricsUrl: url("flaky") }, out);
    expect(out.stdout).toHaveLength(3);
    expect(out.stdout[0]).toContain("one scrape, no rates");
    // The second scrape failed: the next table has no baseline, so no rates; the one after has.
    expect(out.stdout[1]).toContain("one scrape, no rates");
    expect(out.stdout[2]).toMatch(/rates over 0\.\d s/);
    expect(out.stderr).toEqual([expect.stringMatching(/cannot scrape .*\?flaky \(HTTP 503\).*; trying again in 0.1 s$/)]);
  });

  it.each([
    ["nothing listens", () => closedUrl, /cannot scrape http:\/\/127\.0\.0\.1:\d+\/apisix\/prometheus\/metrics \(ECONNREFUSED\): check that the gateway is running/],
    ["the path is not the exporter's", () => `${base}/metrics`, /cannot scrape .*\/metrics \(HTTP 404\)/],
    ["an HTML page answers", () => url("html"), /\(it answered text\/html, not Prometheus text\)/],
    ["text that is not exposition answers", () => url("not-text"), /not Prometheus exposition text: "<html><body>hi<\/body><\/html>" is not a metric name/],
  ])("fails with a ScrapeError naming the URL when %s", async (_what, target, message) => {
    const run = runWith({ once: true, metricsUrl: target() }, io());
    await expect(run).rejects.toThrow(ScrapeError);
    await expect(run).rejects.toThrow(message);
  });
});

describe("spillway status (the command)", () => {
  const exec = promisify(execFile);
  async function spillway(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", "scripts/spillway.ts", "status", ...args], { cwd: repoRoot, timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it("--once prints the fixture's table and exits 0", async () => {
    const res = await spillway(["--once", "--metrics-url", url("cmd-once")]);
    expect(res).toMatchObject({ code: 0, stderr: "" });
    expect(res.stdout.replace(/ at \d\d:\d\d:\d\d UTC/, " at HH:MM:SS UTC")).toBe(
      `${url("cmd-once")} at HH:MM:SS UTC, one scrape, no rates
backend     state    cooling for (s)  tokens left  requests left
payg-north  ok                     -          900             40
payg-west   cooling                3         1200              2
ptu-east    ok                     0       450000           1200
`,
    );
  }, 30_000);

  it("exits 1 naming the URL and what to check when the gateway cannot be scraped", async () => {
    const res = await spillway(["--once", "--metrics-url", closedUrl]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe(
      `spillway: cannot scrape ${closedUrl} (ECONNREFUSED): check that the gateway is running and that this is its metrics address ` +
        "(SPILLWAY_METRICS_HOST:SPILLWAY_METRICS_PORT, port 9091 unless changed; not the API port 9080) with the path /apisix/prometheus/metrics, or pass --metrics-url\n",
    );
  }, 30_000);

  it.each([
    [["--bogus"], "spillway: unknown option '--bogus'; see `spillway status --help`\n"],
    [["--interval"], "spillway: option '--interval <seconds>' argument missing; see `spillway status --help`\n"],
    [["--interval", "soon"], 'spillway: --interval must be a number of seconds from 0.1 to 3600 (got "soon")\n'],
  ])("exits 2 on bad usage: %j", async (args, message) => {
    const res = await spillway(args);
    expect(res).toEqual({ code: 2, stdout: "", stderr: message });
  }, 30_000);
});
