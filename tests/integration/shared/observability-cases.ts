/**
 * TEST CODE. Issue 13: what an operator sees. For a 429 failover, a cooled skip, an exhaustion 429, a stream cut
 * after commit and a budget rejection: the deltas of Spillway's Prometheus metrics (APISIX's exporter, parsed by the
 * `parse-prometheus-text-format` package) and the access-log line of the request (its attempts, backend, lane,
 * client, operation). Real APISIX only (observability.apisix{,-2w}.test.ts): metrics come from APISIX's prometheus
 * plugin, which the stand-in does not have.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { startSimulators, stopSimulators, type SimulatorHandle } from "../../../scripts/simulator/index.ts";
import { parseExposition, type Sample } from "../../../scripts/lib/prometheus-text.ts";
import { runWith as runStatus } from "../../../scripts/status/cli.ts";
import { METRICS } from "../../../plugins/lib/metric-catalog.ts";
import { simulatorInstances, writeProviderConfig, type ProviderConfig } from "../../helpers/provider-config.ts";
import { parseAccessLog, reportLogsOnFailure, severeLines, type AccessLogEntry, type Gateway } from "../../rig/gateway.ts";
import { describeOnHost, NEW_CONNECTION, type HostChoice } from "./hosts.ts";

const SIM_KEY = "sim-key-0123456789";
const CLIENT_KEY = "obs-client-key-0123456789abcdef";
const PREFIX = "apisix_";
/**
 * Counters reach the shared dict at each worker's next sync, the exporter refreshes its text every second here and
 * the gauges are published every second: on a busy machine, a while.
 */
const SETTLE_MS = 15_000;

function config(sims: SimulatorHandle[]): ProviderConfig {
  const multi = { fallback_strategy: ["http_429", "http_5xx"], instances: simulatorInstances(sims, SIM_KEY) };
  return writeProviderConfig(
    {
      routes: [
        { id: "metrics", uri: "/apisix/prometheus/metrics", plugins: { "public-api": {} } },
        {
          id: "chat",
          uris: ["/openai/v1/chat/completions"],
          plugins: {
            "azure-openai-auth": {},
            "ai-rate-limiting": { rules: [{ count: "$spillway_budget_high", time_window: 60, key: "$consumer_name", header_prefix: "consumer" }], rejected_code: 429, policy: "local" },
            "spillway-failover": { default_429_cooldown_ms: 1000 },
            "ai-proxy-multi": multi,
            prometheus: { prefer_name: true },
          },
        },
        {
          // The same without prometheus (the backend sees the usual path): Spillway counts nothing for it.
          id: "quiet",
          uris: ["/quiet/openai/v1/chat/completions"],
          plugins: {
            "azure-openai-auth": {},
            "spillway-failover": { default_429_cooldown_ms: 1000 },
            "ai-proxy-multi": multi,
            "proxy-rewrite": { regex_uri: ["^/quiet(/openai/.*)$", "$1"] },
          },
        },
      ],
      consumers: [
        { username: "team-obs", plugins: { "azure-openai-auth": { key: CLIENT_KEY, budget: { high: 1_000_000, low: 1_000_000 } } } },
        { username: "team-tiny", plugins: { "azure-openai-auth": { key: "tiny-client-key-0123456789abcd", budget: { high: 1, low: 1 } } } },
      ],
    },
    { plugin_attr: { prometheus: { refresh_interval: 1 } } },
  );
}

/** The value of one series (0 when absent): name without prefix, labels to match exactly on the ones given. */
function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  return samples
    .filter((s) => s.name === PREFIX + name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

interface Attempt {
  backend: string;
  status?: number;
  ms?: number;
  reason: string;
}

const attemptsOf = (e: AccessLogEntry): Attempt[] => JSON.parse(e.spillway_attempts) as Attempt[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function observabilitySuite(choice: HostChoice): void {
  describeOnHost(choice, "metrics and access-log fields of failovers, skips, exhaustion, stream cuts and budgets", (host) => {
    let sims: SimulatorHandle[] = [];
    let files: ProviderConfig | undefined;
    let gateway: Gateway | undefined;
    const gw = () => gateway!;
    const [primary, secondary] = [() => sims[0]!, () => sims[1]!];

    const scrape = async (): Promise<Sample[]> => {
      const res = await fetch(`${gw().url}/apisix/prometheus/metrics`, { headers: NEW_CONNECTION });
      expect(res.status).toBe(200);
      return parseExposition(await res.text());
    };
    /** Scrapes until `check` holds on the samples (counters and the exporter's cache catch up within seconds). */
    const settled = async (check: (s: Sample[]) => boolean): Promise<Sample[]> => {
      const until = Date.now() + SETTLE_MS;
      for (;;) {
        const samples = await scrape();
        if (check(samples) || Date.now() > until) return samples;
        await sleep(250);
      }
    };
    const chat = (deployment: string, extra: Record<string, unknown> = {}, key = CLIENT_KEY) =>
      fetch(`${gw().url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...NEW_CONNECTION },
        body: JSON.stringify({ model: deployment, messages: [{ role: "user", content: "hi" }], max_tokens: 5, ...extra }),
        signal: AbortSignal.timeout(10_000),
      });
    /** The access-log line of the request that carried `x-request-id` (APISIX's $request_id is nginx's own). */
    const logLine = async (status: number, deployment: string, after: number): Promise<AccessLogEntry> => {
      const until = Date.now() + 3000;
      for (;;) {
        const lines = parseAccessLog(gw().accessLog()).slice(after).filter((e) => e.spillway_deployment === deployment && e.status === String(status));
        if (lines.length > 0 || Date.now() > until) {
          expect(lines.length, `an access-log line for ${deployment} with status ${status}`).toBe(1);
          return lines[0]!;
        }
        await sleep(50);
      }
    };
    const logged = () => parseAccessLog(gw().accessLog()).length;

    beforeAll(async () => {
      sims = await startSimulators(["primary", "secondary"].map((name) => ({
        name,
        apiKey: SIM_KEY,
        deployments: Object.fromEntries(["failover", "exhaust", "cut", "budget", "quiet"].map((d) => [d, { model: "gpt-4o" }])),
        latency: { baseMs: 0, perTokenMs: 0, streamIntervalMs: 2 },
      })));
      files = config(sims);
      gateway = await host.start(files);
    });

    afterAll(async () => {
      await gateway?.stop();
      await stopSimulators(sims);
      files?.cleanup();
    });

    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gateway));

    it("exports every catalog metric with HELP and TYPE once it has been used", async () => {
      // Streamed: time to first token is a stream's figure.
      const res = await chat("failover", { stream: true });
      expect(res.status).toBe(200);
      await res.text();
      const samples = await settled((s) => value(s, "spillway_request_duration_seconds_count", {}) > 0);
      expect(value(samples, "spillway_request_duration_seconds_count", {})).toBeGreaterThan(0);
      const text = await (await fetch(`${gw().url}/apisix/prometheus/metrics`, { headers: NEW_CONNECTION })).text();
      for (const m of METRICS.filter((x) => ["spillway_attempts_total", "spillway_tokens_total", "spillway_ttft_seconds", "spillway_request_duration_seconds"].includes(x.name))) {
        expect(text).toContain(`# TYPE ${PREFIX}${m.name} ${m.type}`);
      }
    });

    it("a 429 failover, then a cooled skip: attempts by outcome, one failover, tokens by client, and the attempts in the access-log line", async () => {
      const before = await scrape();
      primary().setFaults([{ kind: "status", status: 429, retryAfterMs: 30_000, deployment: "failover" }]);
      try {
        const start = logged();
        const first = await chat("failover");
        expect([first.status, first.headers.get("x-gw-backend")]).toEqual([200, "secondary"]);
        const usage = ((await first.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
        const line = await logLine(200, "failover", start);
        const attempts = attemptsOf(line);
        expect(attempts.map((a) => [a.backend, a.status, a.reason])).toEqual([["primary", 429, "throttled"], ["secondary", 200, "ok"]]);
        for (const a of attempts) expect(a.ms).toBeGreaterThanOrEqual(0);
        expect(line).toMatchObject({ spillway_backend: "secondary", spillway_lane: "high", spillway_client: "team-obs", spillway_operation: "chat", spillway_stream_cut: "" });
        expect(Number(line.spillway_total_ms)).toBeGreaterThanOrEqual(0);

        const next = logged();
        // Streamed, so that one of the two also has a time to first token (non-streamed answers have none).
        const skipped = await chat("failover", { stream: true });
        expect(skipped.status).toBe(200);
        await skipped.text();
        expect(attemptsOf(await logLine(200, "failover", next)).map((a) => [a.backend, a.reason])).toEqual([["primary", "cooling(throttled)"], ["secondary", "ok"]]);

        const grew = (s: Sample[], name: string, labels: Record<string, string>, by: number) => value(s, name, labels) - value(before, name, labels) >= by;
        // Every worker's counters synced (the two requests may have been served by different workers).
        const after = await settled((s) =>
          grew(s, "spillway_attempts_total", { backend: "primary", outcome: "429" }, 1) &&
          grew(s, "spillway_attempts_total", { backend: "primary", outcome: "cooled_skip" }, 1) &&
          grew(s, "spillway_attempts_total", { backend: "secondary", outcome: "ok" }, 2) &&
          grew(s, "spillway_failovers_total", { backend: "primary" }, 1) &&
          grew(s, "spillway_ttft_seconds_count", { backend: "secondary" }, 1) &&
          grew(s, "spillway_request_duration_seconds_count", { backend: "secondary" }, 2) &&
          value(s, "spillway_cooldown_remaining_seconds", { backend: "primary" }) > 0 &&
          value(s, "spillway_backend_remaining_tokens", { backend: "secondary" }) > 0);
        const delta = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
        expect(delta("spillway_attempts_total", { route: "chat", backend: "primary", outcome: "429" })).toBe(1);
        expect(delta("spillway_attempts_total", { route: "chat", backend: "primary", outcome: "cooled_skip" })).toBe(1);
        expect(delta("spillway_attempts_total", { route: "chat", backend: "secondary", outcome: "ok" })).toBe(2);
        expect(delta("spillway_failovers_total", { route: "chat", backend: "primary", reason: "429" })).toBe(1);
        expect(delta("spillway_tokens_total", { client: "team-obs", lane: "high", backend: "secondary", kind: "completion" })).toBeGreaterThanOrEqual(usage.completion_tokens);
        expect(delta("spillway_tokens_total", { client: "team-obs", lane: "high", backend: "secondary", kind: "prompt" })).toBeGreaterThanOrEqual(usage.prompt_tokens);
        expect(delta("spillway_ttft_seconds_count", { backend: "secondary", lane: "high" })).toBe(1);
        expect(delta("spillway_request_duration_seconds_count", { backend: "secondary", lane: "high" })).toBe(2);
        // The primary cools for its Retry-After (30 s), as the gauge says (published every second).
        const cooling = value(after, "spillway_cooldown_remaining_seconds", { backend: "primary" });
        expect(cooling).toBeGreaterThan(20);
        expect(cooling).toBeLessThanOrEqual(30);
        expect(value(after, "spillway_backend_remaining_tokens", { backend: "secondary" })).toBeGreaterThan(0);

        // What an operator looks at first: `spillway status` on this gateway.
        const printed: string[] = [];
        await runStatus({ metricsUrl: `${gw().url}/apisix/prometheus/metrics`, once: true, json: true }, { env: {}, out: (t) => printed.push(t), err: () => {}, clear: false });
        const report = JSON.parse(printed.join("")) as { backends: { backend: string; state: string; coolingForSeconds: number | null; remainingTokens: number | null }[] };
        const rows = Object.fromEntries(report.backends.map((r) => [r.backend, r]));
        expect(rows.primary).toMatchObject({ state: "cooling" });
        expect(rows.primary!.coolingForSeconds).toBeGreaterThan(20);
        expect(rows.secondary).toMatchObject({ state: "ok" });
        expect(rows.secondary!.remainingTokens).toBeGreaterThan(0);
      } finally {
        primary().clearFaults();
      }
    });

    it("an exhaustion 429 is counted by the status the client got, with both attempts in its access-log line", async () => {
      const before = await scrape();
      for (const sim of sims) sim.setFaults([{ kind: "status", status: 429, retryAfterMs: 1000, deployment: "exhaust" }]);
      try {
        const start = logged();
        const res = await chat("exhaust");
        expect(res.status).toBe(429);
        await res.text();
        const line = await logLine(429, "exhaust", start);
        expect(attemptsOf(line).map((a) => [a.backend, a.status])).toEqual([["primary", 429], ["secondary", 429]]);
        expect(line.spillway_backend).toBe("");
        const after = await settled((s) =>
          value(s, "spillway_exhausted_total", { status: "429" }) > value(before, "spillway_exhausted_total", { status: "429" }) &&
          value(s, "spillway_request_duration_seconds_count", { backend: "none" }) > value(before, "spillway_request_duration_seconds_count", { backend: "none" }));
        expect(value(after, "spillway_exhausted_total", { route: "chat", status: "429" }) - value(before, "spillway_exhausted_total", { route: "chat", status: "429" })).toBe(1);
        expect(value(after, "spillway_request_duration_seconds_count", { backend: "none", lane: "high" }) - value(before, "spillway_request_duration_seconds_count", { backend: "none", lane: "high" })).toBe(1);
      } finally {
        for (const sim of sims) sim.clearFaults();
      }
    });

    it("a stream cut after output went out is counted and named in the access-log line", async () => {
      const before = await scrape();
      primary().setFaults([{ kind: "stream-cut", afterChunks: 2, deployment: "cut" }]);
      try {
        const start = logged();
        const res = await chat("cut", { stream: true, max_tokens: 20 });
        expect(res.status).toBe(200);
        await res.text();
        const line = await logLine(200, "cut", start);
        expect(line.spillway_stream_cut).toBe("read_error");
        expect(line.spillway_backend).toBe("primary");
        const after = await settled((s) => value(s, "spillway_stream_cuts_total", { reason: "read_error" }) > value(before, "spillway_stream_cuts_total", { reason: "read_error" }));
        expect(value(after, "spillway_stream_cuts_total", { route: "chat", backend: "primary", reason: "read_error" }) - value(before, "spillway_stream_cuts_total", { route: "chat", backend: "primary", reason: "read_error" })).toBe(1);
      } finally {
        primary().clearFaults();
      }
    });

    it("a budget rejection is counted by client and lane, and its access-log line has no attempt", async () => {
      const before = await scrape();
      const tiny = "tiny-client-key-0123456789abcd";
      // The first request spends the one-token budget (charged after it), the second is refused.
      const first = await chat("budget", {}, tiny);
      expect(first.status).toBe(200);
      await first.text();
      await sleep(100);
      const start = logged();
      const refused = await chat("budget", {}, tiny);
      expect(refused.status).toBe(429);
      await refused.text();
      const line = await logLine(429, "budget", start);
      expect(line.spillway_attempts).toBe("[]");
      expect(line.spillway_client).toBe("team-tiny");
      const after = await settled((s) => value(s, "spillway_budget_rejections_total", { client: "team-tiny" }) > value(before, "spillway_budget_rejections_total", { client: "team-tiny" }));
      expect(value(after, "spillway_budget_rejections_total", { route: "chat", client: "team-tiny", lane: "high" }) - value(before, "spillway_budget_rejections_total", { route: "chat", client: "team-tiny", lane: "high" })).toBe(1);
      expect(severeLines(gw().errorLog())).toEqual([]);
    });

    it("a route without prometheus is not counted (its access-log line is still written)", async () => {
      const before = await scrape();
      const start = logged();
      // Interleaved, each on a new connection: with two workers both get some of each.
      for (let i = 0; i < 4; i++) {
        const quiet = await fetch(`${gw().url}/quiet/openai/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}`, ...NEW_CONNECTION },
          body: JSON.stringify({ model: "quiet", messages: [{ role: "user", content: "hi" }], max_tokens: 5 }),
          signal: AbortSignal.timeout(10_000),
        });
        expect([quiet.status, quiet.headers.get("x-gw-attempts")]).toEqual([200, "1"]);
        await quiet.text();
        const counted = await chat("quiet");
        expect(counted.status).toBe(200);
        await counted.text();
      }
      // Once every worker's counts of the counted route are in, the quiet route's would be too.
      const after = await settled((s) => value(s, "spillway_request_duration_seconds_count", {}) - value(before, "spillway_request_duration_seconds_count", {}) >= 4);
      expect(value(after, "spillway_request_duration_seconds_count", {}) - value(before, "spillway_request_duration_seconds_count", {})).toBe(4);
      expect(after.filter((x) => x.labels.route === "quiet")).toEqual([]);
      // Both routes' lines (proxy-rewrite rewrote the quiet one's $uri to the backend's path): all eight, fields set.
      const lines = parseAccessLog(gw().accessLog()).slice(start).filter((e) => e.spillway_deployment === "quiet");
      expect(lines.length).toBe(8);
      for (const line of lines) expect(attemptsOf(line).map((a) => a.reason)).toEqual(["ok"]);
    });

    it("no label carries a request id, a response id, a path or a deployment", async () => {
      const samples = await scrape();
      const ours = samples.filter((s) => s.name.startsWith(`${PREFIX}spillway_`));
      expect(ours.length).toBeGreaterThan(0);
      const allowed = new Set(METRICS.flatMap((m) => m.labels).concat(["le"]));
      for (const s of ours) {
        for (const [label, v] of Object.entries(s.labels)) {
          expect(allowed.has(label), `${s.name} label ${label}`).toBe(true);
          expect(v).not.toMatch(/\/|chatcmpl|resp_|failover|exhaust|budget|cut|quiet/);
        }
      }
    });
  });
}
