/**
 * The pure parts of `spillway bench`: option parsing, where real APISIX comes from, the files each real-APISIX row
 * runs with, wrk output parsing, the stream client's SSE parsing, /proc and error-log readers, the statistics and the
 * report text. Nothing here is timed; the bench itself is run by hand (docs/bench.md), and bench.apisix.test.ts
 * starts its real-APISIX rows once.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { EnvironmentError, UsageError } from "../../lib/errors.ts";
import { apisixSource, locateApisix, noApisixMessage } from "../../scripts/bench/apisix-home.ts";
import { apisixTargetFiles, renderEnv } from "../../scripts/bench/apisix-gateways.ts";
import { throttledProblem } from "../../scripts/bench/fleet.ts";
import { estimatedSeconds, gatewayTargets, planFromFlags } from "../../scripts/bench/options.ts";
import { LogWatch, parseVmRss, statFields, warnLines } from "../../scripts/bench/proc.ts";
import { BENCH_URI, benchRoute } from "../../scripts/bench/gateways.ts";
import { rawNginxConf } from "../../scripts/bench/processes.ts";
import { formatRatios } from "../../scripts/bench/ratios.ts";
import {
  APISIX_LABELS, fmtDeltaMs, formatHealthTable, formatSoak, formatStreamTable, formatTable, median, percentile, STANDIN_LABELS, summarize,
  type BenchResults,
} from "../../scripts/bench/report.ts";
import { rotate } from "../../scripts/bench/run.ts";
import { cpuPlan } from "../../scripts/bench/pin.ts";
import { nextChunkSeconds } from "../../scripts/bench/soak.ts";
import { isContentEvent, takeEvents } from "../../scripts/bench/stream-client.ts";
import { parseWrkOutput, RESULT_MARK, wrkScript } from "../../scripts/bench/wrk.ts";

describe("bench options", () => {
  it("defaults to real APISIX, 1 worker, no soak, the baseline's method within a ~3 minute budget", () => {
    const plan = planFromFlags({});
    expect(plan).toMatchObject({ engine: "apisix", workers: 1, soakRequests: 0, connections: 32, streamConcurrency: 4, streamChunks: 20, streamIntervalMs: 20, rounds: 3, quick: false, build: false });
    expect(estimatedSeconds(plan)).toBeLessThanOrEqual(180);
  });

  it("--quick keeps the measuring under ~45 s and still alternates two rounds", () => {
    const plan = planFromFlags({ quick: true });
    expect(plan.rounds).toBe(2);
    expect(estimatedSeconds(plan)).toBeLessThanOrEqual(45);
  });

  it("measures stock ai-proxy-multi with and without prometheus, Spillway's rendered route, the skip and both hops on real APISIX", () => {
    expect(planFromFlags({}).wrkTargets).toEqual(["direct", "nginx", "stock", "stock-prom", "gateway", "gateway-noprom", "skip", "stock-hop", "hop"]);
    expect(planFromFlags({}).streamTargets).toEqual(["direct", "stock-prom", "gateway"]);
    expect(planFromFlags({ quick: true }).wrkTargets).toEqual(["direct", "stock", "stock-prom", "gateway", "gateway-noprom", "skip", "stock-hop", "hop"]);
    expect(gatewayTargets(planFromFlags({ quick: true }))).toEqual(["stock", "stock-prom", "gateway", "gateway-noprom", "skip", "stock-hop", "hop"]);
  });

  it("keeps the stand-in's rows only behind --standin", () => {
    const plan = planFromFlags({ standin: true });
    expect(plan.engine).toBe("standin");
    expect(plan.wrkTargets).toEqual(["direct", "nginx", "stock", "gateway", "skip", "stock-hop", "hop"]);
    expect(plan.streamTargets).toEqual(["direct", "nginx", "stock", "gateway"]);
    expect(planFromFlags({ standin: true, quick: true }).wrkTargets).toEqual(["direct", "nginx", "gateway", "skip", "hop"]);
  });

  it("takes --workers and --soak", () => {
    expect(planFromFlags({ workers: "2", soak: "200000" })).toMatchObject({ workers: 2, soakRequests: 200_000 });
  });

  it("takes explicit numbers over the --quick ones", () => {
    expect(planFromFlags({ quick: true, duration: "3", rounds: "1", connections: "64", streams: "2" })).toMatchObject({
      durationS: 3,
      rounds: 1,
      connections: 64,
      streamConcurrency: 2,
    });
  });

  it.each([
    ["--duration", { duration: "0" }],
    ["--duration", { duration: "2.5" }],
    ["--connections", { connections: "many" }],
    ["--rounds", { rounds: "11" }],
    ["--streams", { streams: "-1" }],
    ["--workers", { workers: "0" }],
    ["--workers", { workers: "9" }],
    ["--soak", { soak: "10" }],
    ["--soak", { soak: "1e6" }],
  ])("refuses a bad %s with a UsageError naming the flag", (flag, flags) => {
    expect(() => planFromFlags(flags)).toThrow(UsageError);
    expect(() => planFromFlags(flags)).toThrow(flag);
  });
});

describe("where real APISIX comes from", () => {
  const kit = (exists: boolean) => () => exists;

  it("takes APISIX_HOME first, then the apisix-lab kit (SPILLWAY_APISIX_LAB or ../shared/apisix-lab)", () => {
    expect(apisixSource({ APISIX_HOME: " /opt/apisix " }, kit(true))).toEqual({ kind: "home", home: "/opt/apisix" });
    expect(apisixSource({ SPILLWAY_APISIX_LAB: "/kits/lab" }, kit(true))).toEqual({ kind: "lab", kit: "/kits/lab" });
    expect(apisixSource({}, kit(true))).toMatchObject({ kind: "lab", kit: expect.stringMatching(/shared\/apisix-lab$/) });
    expect(apisixSource({ APISIX_HOME: "" }, kit(false))).toMatchObject({ kind: "none" });
  });

  it("stops with exit code 4 and says how to get APISIX, or to choose the stand-in, when there is none", async () => {
    const err = await locateApisix({ SPILLWAY_APISIX_LAB: "/nonexistent/apisix-lab" }, () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).exitCode).toBe(4);
    const text = noApisixMessage("/k");
    expect(text).toContain("APISIX_HOME");
    expect(text).toContain("scripts/apisix-lab.sh");
    expect(text).toContain("--standin");
  });

  it("refuses an APISIX_HOME that is not an install", async () => {
    await expect(locateApisix({ APISIX_HOME: "/nonexistent/apisix" }, () => undefined)).rejects.toThrow(/does not look like an APISIX install/);
  });
});

describe("real-APISIX rows: the files each instance runs", () => {
  const b = { apiKey: "k-0123456789", okUrl: "http://127.0.0.1:1001", throttledUrl: "http://127.0.0.1:1002" };
  const ports = { listen: 2001, metrics: 2002, status: 2003 };
  type Instance = { name: string; provider: string; priority: number; override: { endpoint: string } };
  type Route = { id: string; uris: string[]; plugins: Record<string, unknown> & { "ai-proxy-multi": { instances: Instance[]; streaming_flush_interval_ms: number } } };
  type Config = {
    apisix: Record<string, unknown> & { node_listen: { port: number }[] };
    nginx_config: { worker_processes: string; error_log_level: string; http: Record<string, unknown> };
    plugins: string[];
  };
  const files = (route: Parameters<typeof apisixTargetFiles>[0], workers = 1) => {
    const f = apisixTargetFiles(route, b, ports, workers, "/repo/build/lua");
    expect(f.apisixYaml.endsWith("#END\n")).toBe(true);
    const routes = (parse(f.apisixYaml) as { routes: Route[] }).routes;
    return { config: parse(f.configYaml) as Config, routes, chat: routes.find((r) => r.id === "spillway-chat" || r.id === "stock-chat")! };
  };
  const order = (r: Route) => r.plugins["ai-proxy-multi"].instances.map((i) => [i.name, i.priority]);

  it("renders Spillway's route with `spillway render` for two backends, the healthy one first, prometheus on", () => {
    const { config, routes, chat } = files("gateway");
    expect(routes.map((r) => r.id)).toContain("spillway-healthz");
    expect(chat.uris).toContain(BENCH_URI);
    expect(Object.keys(chat.plugins)).toEqual(["spillway-failover", "ai-proxy-multi", "prometheus"]);
    expect(chat.plugins["spillway-failover"]).toEqual({});
    expect(chat.plugins["ai-proxy-multi"].instances.map((i) => [i.name, i.provider, i.override.endpoint])).toEqual([
      ["healthy", "azure-openai-dynamic", b.okUrl],
      ["throttled", "azure-openai-dynamic", b.throttledUrl],
    ]);
    expect(config.apisix).toMatchObject({ lua_module_hook: "spillway.hook", extra_lua_path: "/repo/build/lua/?.lua", enable_control: false });
    expect(config.apisix.node_listen[0]!.port).toBe(2001);
    expect(config.nginx_config).toMatchObject({ worker_processes: "1", error_log_level: "warn" });
    expect(config.nginx_config.http.custom_lua_shared_dict).toEqual({ "spillway-cooldown": "10m" });
    expect(config.plugins).toEqual(expect.arrayContaining(["spillway-failover", "ai-proxy-multi", "prometheus"]));
  });

  it("takes prometheus off the route for the no-prometheus row, and keeps it in the plugin list", () => {
    const { config, chat } = files("gateway-noprom");
    expect(Object.keys(chat.plugins)).toEqual(["spillway-failover", "ai-proxy-multi"]);
    expect(config.plugins).toContain("prometheus");
  });

  it("puts the throttled backend first for skip and hop; skip cools for up to 15 min, hop never", () => {
    expect(order(files("skip").chat)).toEqual([["throttled", 10], ["healthy", 0]]);
    expect(files("skip").chat.plugins["spillway-failover"]).toEqual({ max_cooldown_ms: 900_000 });
    expect(files("hop").chat.plugins["spillway-failover"]).toEqual({ max_cooldown_ms: 0 });
    expect(order(files("gateway").chat)).toEqual([["healthy", 10], ["throttled", 0]]);
  });

  it("runs stock in an APISIX with the same config.yaml minus everything Spillway", () => {
    const { config, routes, chat } = files("stock");
    expect(routes).toHaveLength(1);
    expect(config.apisix.lua_module_hook).toBeUndefined();
    expect(config.apisix.extra_lua_path).toBeUndefined();
    expect(config.nginx_config.http.custom_lua_shared_dict).toBeUndefined();
    expect(config.nginx_config.http.access_log_format).toBe(files("gateway").config.nginx_config.http.access_log_format);
    expect(config.plugins).not.toContain("spillway-failover");
    expect(config.plugins).not.toContain("azure-openai-auth");
    expect(config.plugins).toEqual(expect.arrayContaining(["ai-proxy-multi", "prometheus"]));
    expect(Object.keys(chat.plugins)).toEqual(["ai-proxy-multi"]);
    expect(chat.plugins["ai-proxy-multi"].instances.map((i) => [i.name, i.provider, i.override.endpoint])).toEqual([
      ["healthy", "openai-compatible", `${b.okUrl}${BENCH_URI}`],
      ["throttled", "openai-compatible", `${b.throttledUrl}${BENCH_URI}`],
    ]);
    // The rendered conf's options, e.g. the flush interval, carry over: like for like.
    expect(chat.plugins["ai-proxy-multi"].streaming_flush_interval_ms).toBe(0);
  });

  it("adds prometheus to stock's route for stock-prom and stock-hop; stock-hop calls the throttled instance first", () => {
    expect(Object.keys(files("stock-prom").chat.plugins)).toEqual(["ai-proxy-multi", "prometheus"]);
    expect(Object.keys(files("stock-hop").chat.plugins)).toEqual(["ai-proxy-multi", "prometheus"]);
    expect(order(files("stock-hop").chat)).toEqual([["throttled", 10], ["healthy", 0]]);
  });

  it("renders --workers into every instance", () => {
    expect(files("gateway", 2).config.nginx_config.worker_processes).toBe("2");
    expect(files("stock", 2).config.nginx_config.worker_processes).toBe("2");
    expect(renderEnv("gateway", b, ports, 2, "/l").SPILLWAY_WORKER_PROCESSES).toBe("2");
  });
});

describe("wrk", () => {
  it("parses the line of the done() hook, ignoring wrk's own text", () => {
    const out = [
      "Running 1s test @ http://127.0.0.1:1/x",
      "  1 threads and 32 connections",
      "  3146 requests in 1.00s, 4.0MB read",
      `${RESULT_MARK} {"requests":3146,"duration_us":1000500,"p50_us":225,"p99_us":5760,"connect":0,"read":1,"write":0,"timeout":0,"status":3}`,
      "Requests/sec:   3144.43",
    ].join("\n");
    expect(parseWrkOutput(out)).toEqual({
      requests: 3146,
      durationUs: 1000500,
      p50Us: 225,
      p99Us: 5760,
      errors: { connect: 0, read: 1, write: 0, timeout: 0, status: 3 },
    });
  });

  it("says what wrk printed when the result line is missing or incomplete", () => {
    expect(() => parseWrkOutput("unable to connect to 127.0.0.1:1 Connection refused")).toThrow(/no SPILLWAY_WRK line[\s\S]*Connection refused/);
    expect(() => parseWrkOutput(`${RESULT_MARK} {"requests":1}`)).toThrow(/duration_us/);
  });

  it("writes a POST script whose body cannot break out of its Lua string", () => {
    const script = wrkScript('{"a":"]=]"}', { "api-key": "k" });
    expect(script).toContain('wrk.method = "POST"');
    expect(script).toContain('wrk.body = [==[{"a":"]=]"}]==]');
    // "[[" would open a long string: the key needs the spaces.
    expect(script).toContain("wrk.headers[ [=[api-key]=] ] = [=[k]=]");
    expect(script).toContain("latency:percentile(99)");
  });

  it("writes a script LuaJIT (wrk's Lua) compiles", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bench-wrk-"));
    try {
      const file = path.join(dir, "s.lua");
      writeFileSync(file, wrkScript('{"x":"[[y]]"}', { "Content-Type": "application/json", "api-key": "k" }));
      expect(() => execFileSync("luajit", ["-bl", file], { stdio: "pipe" })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stream client parsing", () => {
  it("splits complete SSE events and keeps the unfinished rest", () => {
    expect(takeEvents('data: {"a":1}\n\ndata: [DONE]\n\ndata: {"b"')).toEqual({ data: ['{"a":1}', "[DONE]"], rest: 'data: {"b"' });
  });

  it("counts only chunks whose delta carries content", () => {
    expect(isContentEvent('{"choices":[{"delta":{"content":"hi"}}]}')).toBe(true);
    expect(isContentEvent('{"choices":[{"delta":{"role":"assistant","content":""}}]}')).toBe(false);
    expect(isContentEvent('{"choices":[],"prompt_filter_results":[]}')).toBe(false);
    expect(isContentEvent("[DONE]")).toBe(false);
  });
});

describe("bench statistics and report", () => {
  it("takes medians and nearest-rank percentiles", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeUndefined();
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });

  it("rotates the target order round by round", () => {
    expect(rotate(["a", "b", "c"], 1)).toEqual(["b", "c", "a"]);
    expect(rotate(["a", "b", "c"], 3)).toEqual(["a", "b", "c"]);
  });

  it("formats signed millisecond deltas with a real minus sign", () => {
    expect(fmtDeltaMs(-0.234)).toBe("−0.23 ms");
    expect(fmtDeltaMs(12.34)).toBe("+12.3 ms");
    expect(fmtDeltaMs(0.001)).toBe("0.00 ms");
    expect(fmtDeltaMs(undefined)).toBe("–");
  });

  const round = (rps: number, cpu?: number, calls?: number) => ({ rps, p50Us: 9000, p99Us: 41000, c1P50Us: 200, workerCpuUsPerReq: cpu, throttledCalls: calls, requests: rps, failures: 0 });
  const stream = (firstByteP50: number, firstContentP50: number, gapP99: number) => ({ firstByteP50, firstContentP50, gapP99, streams: 20, failures: 0 });
  const results: BenchResults = {
    wrk: {
      direct: [round(3000), round(3200), round(3100)],
      nginx: [round(4000, 20), round(4000, 20), round(4000, 20)],
      gateway: [round(2000, 100), round(2000, 100), round(2000, 100)],
      skip: [round(1920, 110, 0), round(1920, 110, 0), round(1920, 110, 0)],
      hop: [round(1000, 200, 1000), round(1000, 200, 1000), round(1000, 200, 1032)],
    },
    stream: {
      direct: [stream(1, 21, 22)],
      gateway: [stream(21.5, 21.5, 22.4)],
    },
  };

  it("prints one row per target: req/s, the c=32 p50/p99, c=1 p50 and CPU", () => {
    const table = formatTable(summarize(results), 32, ["direct", "nginx", "gateway", "skip", "hop"], STANDIN_LABELS);
    const lines = table.split("\n");
    expect(lines[0]).toBe("| target | req/s c=32 | p50 c=32 | p99 c=32 | c=1 p50 | worker CPU µs/req | sim CPU µs/req |");
    expect(lines).toHaveLength(7);
    expect(lines[2]).toBe("| direct to the simulator | 3100 | 9.00 ms | 41.0 ms | 0.20 ms | – | – |");
    expect(lines[4]).toBe("| Spillway, one backend | 2000 | 9.00 ms | 41.0 ms | 0.20 ms | 100 | – |");
  });

  it("prints the streamed rows with the gap p99 against direct", () => {
    const lines = formatStreamTable(summarize(results), ["direct", "gateway"], APISIX_LABELS).split("\n");
    expect(lines[0]).toBe("| streamed target | 1st byte p50 | 1st content p50 | gap p99 | gap p99 vs direct |");
    expect(lines[3]).toBe("| Spillway chat route (rendered, + prometheus) | 21.5 ms | 21.5 ms | 22.4 ms | +0.40 ms |");
  });

  it("prints the stand-in's ratios: gateway/direct, hop and skip against no failover, stream deltas", () => {
    const text = formatRatios(summarize(results), "standin");
    expect(text).toMatch(/gateway \/ direct +req\/s ×0\.65/);
    expect(text).toMatch(/429 hop \/ no failover +req\/s ×0\.50 .* worker CPU ×2\.00 \(\+100 µs\/req\) .*called 3032× for 3000 requests \(1\.01\/req\)/);
    expect(text).toMatch(/cooled skip \/ no failover +req\/s ×0\.96 .* worker CPU ×1\.10 \(\+10\.0 µs\/req\) .*called 0× for 5760 requests \(0\.00\/req\)/);
    expect(text).toMatch(/stream gateway − direct +1st byte p50 \+20\.5 ms +1st content p50 \+0\.50 ms +gap p99 \+0\.40 ms/);
    expect(text).not.toContain("stock");
  });

  const real: BenchResults = {
    wrk: {
      stock: [round(5900, 165), round(5800, 167)],
      "stock-prom": [round(5100, 194), round(5000, 190)],
      gateway: [round(4100, 200, 0), round(4200, 204, 0)],
      "gateway-noprom": [round(4600, 170, 0)],
      skip: [round(4000, 208, 0)],
      "stock-hop": [round(2800, 334, 2800)],
      hop: [round(2600, 350, 2600)],
    },
    stream: { direct: [stream(2, 22, 22)], "stock-prom": [stream(3, 23, 23)], gateway: [stream(23, 23.1, 22.5)] },
  };

  it("compares Spillway with stock like for like on real APISIX, and prices prometheus, the skip and the hops", () => {
    const text = formatRatios(summarize(real), "apisix");
    expect(text).toMatch(/Spillway \/ stock, both \+ prometheus +worker CPU ×1\.05 \(\+10\.0 µs\/req\) +req\/s ×0\.82/);
    expect(text).toMatch(/Spillway \/ stock, neither prometheus +worker CPU ×1\.02 \(\+4\.0 µs\/req\)/);
    expect(text).toMatch(/prometheus on the route, stock +worker CPU ×1\.16 \(\+26\.0 µs\/req\)/);
    expect(text).toMatch(/cooled skip − no failover \(Spillway\) +worker CPU ×1\.03 \(\+6\.0 µs\/req\).*called 0× for 4000 requests/);
    expect(text).toMatch(/hop − no failover, stock +worker CPU ×1\.74 \(\+142 µs\/req\).*called 2800× for 2800 requests \(1\.00\/req\)/);
    expect(text).toMatch(/Spillway hop \/ stock hop +worker CPU ×1\.05 \(\+16\.0 µs\/req\)/);
    expect(text).toMatch(/Spillway skip \/ stock hop +worker CPU ×0\.62 \(−126 µs\/req\) +req\/s ×1\.43/);
    expect(text).toMatch(/stream Spillway − direct +1st byte p50 \+21\.0 ms +1st content p50 \+1\.10 ms +gap p99 \+0\.50 ms/);
    expect(text).toMatch(/stream stock − direct +1st byte p50 \+1\.00 ms/);
    // Rows that did not run (raw nginx, direct in wrk) leave their lines out.
    expect(text).not.toContain("raw nginx");
  });

  it("adds the stand-in's comparisons with stock ai-proxy-multi when those rows ran", () => {
    const withStock: BenchResults = {
      wrk: { ...results.wrk, stock: [round(2200, 90)], "stock-hop": [round(880, 150, 880)] },
      stream: { ...results.stream, stock: [stream(22, 22, 22)] },
    };
    const text = formatRatios(summarize(withStock), "standin");
    expect(text).toMatch(/gateway \/ stock +req\/s ×0\.91 .* worker CPU ×1\.11 \(\+10\.0 µs\/req\)/);
    expect(text).toMatch(/skip \/ stock-hop +req\/s ×2\.18 .*called 880× for 880 requests/);
    expect(text).toMatch(/stream stock − direct +1st byte p50 \+21\.0 ms +1st content p50 \+1\.00 ms/);
  });

  it("prints each gateway row's worker RSS, error-log lines per 1k requests, lab-only lines and throttled calls", () => {
    const withHealth: BenchResults = {
      ...real,
      health: {
        gateway: { rssAfterWarmupKiB: 40 * 1024, rssAfterRunKiB: 43.5 * 1024, logLines: 0, requests: 9000, labOnlyLines: 160 },
        skip: { rssAfterWarmupKiB: 41 * 1024, rssAfterRunKiB: 41 * 1024, logLines: 4000, requests: 4000, labOnlyLines: 0 },
      },
    };
    const lines = formatHealthTable(summarize(withHealth), ["gateway", "skip"], APISIX_LABELS, 2).split("\n");
    expect(lines[0]).toContain("worker RSS after warm-up (2 workers)");
    expect(lines[2]).toBe("| Spillway chat route (rendered, + prometheus) | 40.0 MiB | 43.5 MiB | +3.5 MiB | 0 | 0.0 | 160 | 0.00 |");
    expect(lines[3]).toBe("| Spillway, 1st backend 429: cooled skip | 41.0 MiB | 41.0 MiB | 0.0 MiB | 4000 | 1000.0 | 0 | 0.00 |");
  });

  it("prints the soak: requests, rate, RSS before → after and the largest, log lines", () => {
    const text = formatSoak(
      { target: "gateway", requests: 200_400, seconds: 50.1, failures: 0, rssBeforeKiB: 44 * 1024, rssAfterKiB: 44.5 * 1024, rssMaxKiB: 45 * 1024, logLines: 0, labOnlyLines: 2 },
      APISIX_LABELS,
    );
    expect(text).toBe(
      'soak: 200400 requests to "Spillway chat route (rendered, + prometheus)" in 50 s (4000 req/s, 0 failed); ' +
        "worker RSS 44.0 MiB → 44.5 MiB (+0.5 MiB; largest 45.0 MiB); error-log lines (warn+) 0 (+2 lab-only)",
    );
  });
});

describe("bench plumbing: /proc, error logs, soak, warm-up checks", () => {
  it("reads VmRSS in KiB from /proc/<pid>/status", () => {
    expect(parseVmRss("Name:\tnginx\nVmPeak:\t  9999 kB\nVmRSS:\t   45312 kB\nRssAnon:\t 1 kB\n")).toBe(45312);
    expect(parseVmRss("Name:\tzombie\n")).toBeUndefined();
  });

  it("counts warn-or-worse lines only", () => {
    expect(warnLines("a [notice] x\nb [warn] y\nc [error] z\nd [info] w\ne [crit] v")).toEqual(["b [warn] y", "c [error] z", "e [crit] v"]);
  });

  it("counts what a gateway logs between mark and take, the lab-only lines apart, across read chunks", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bench-log-"));
    try {
      const file = path.join(dir, "error.log");
      writeFileSync(file, "2026/12/06 [warn] before the mark\n");
      const watch = new LogWatch(file);
      appendFileSync(file, "2026/12/06 [warn] 1#1: *5 ngx.sleep(0) called without delayed events patch, this will hurt performance\n");
      appendFileSync(file, `2026/12/06 [warn] ai instance throttled returned status 429 ${"x".repeat(2 << 20)}\n`);
      appendFileSync(file, "2026/12/06 [notice] not counted\n2026/12/06 [error] counted\n");
      const lines = watch.take();
      expect(lines).toMatchObject({ count: 2, labOnly: 1 });
      expect(lines.samples[0]).toMatch(/^2026\/12\/06 \[warn\] ai instance throttled/);
      expect(watch.take()).toEqual({ count: 0, labOnly: 0, samples: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sizes the soak's wrk runs from the rate seen so far: 5 s first, then what is left, 1 to 10 s", () => {
    expect(nextChunkSeconds(200_000, undefined)).toBe(5);
    expect(nextChunkSeconds(180_000, 4000)).toBe(10);
    expect(nextChunkSeconds(6000, 4000)).toBe(2);
    expect(nextChunkSeconds(10, 4000)).toBe(1);
  });

  it("checks the warm-up's calls to the throttled backend: never, once (the skip's first request), or every request", () => {
    expect(throttledProblem("never", 0, 400)).toBeUndefined();
    expect(throttledProblem("never", 3, 400)).toMatch(/called 3× in 400 requests; this row must never call it/);
    expect(throttledProblem("once", 1, 400)).toBeUndefined();
    expect(throttledProblem("once", 400, 400)).toMatch(/expected once/);
    expect(throttledProblem("every", 400, 400)).toBeUndefined();
    expect(throttledProblem("every", 12, 400)).toMatch(/expected on every request/);
  });
});

describe("stand-in bench routes (--standin)", () => {
  const b = { apiKey: "k", okUrl: "http://127.0.0.1:1", throttledUrl: "http://127.0.0.1:2" };
  type Plugins = { "spillway-failover"?: Record<string, unknown>; "ai-proxy-multi": { instances: { name: string; provider: string; priority: number; override: { endpoint: string } }[] } };
  const plugins = (r: Parameters<typeof benchRoute>[0]) => benchRoute(r, b).plugins as Plugins;

  it("gives the no-failover row one Spillway backend", () => {
    const p = plugins("gateway");
    expect(p["spillway-failover"]).toEqual({});
    expect(p["ai-proxy-multi"].instances.map((i) => [i.name, i.provider, i.override.endpoint])).toEqual([["healthy", "azure-openai-dynamic", b.okUrl]]);
  });

  it("puts the throttled primary first for skip and hop, and disables the cooldown only for hop", () => {
    for (const r of ["skip", "hop"] as const) {
      expect(plugins(r)["ai-proxy-multi"].instances.map((i) => [i.name, i.priority])).toEqual([["throttled", 10], ["healthy", 0]]);
    }
    expect(plugins("skip")["spillway-failover"]).toEqual({ max_cooldown_ms: 900_000 });
    expect(plugins("hop")["spillway-failover"]).toEqual({ max_cooldown_ms: 0 });
  });

  it("runs the stock rows without any Spillway plugin, on openai-compatible with the full endpoint", () => {
    const p = plugins("stock-hop");
    expect(p["spillway-failover"]).toBeUndefined();
    expect(p["ai-proxy-multi"].instances.map((i) => [i.provider, i.override.endpoint])).toEqual([
      ["openai-compatible", `${b.throttledUrl}${BENCH_URI}`],
      ["openai-compatible", `${b.okUrl}${BENCH_URI}`],
    ]);
  });
});

describe("bench plumbing", () => {
  it("reads utime/stime positions even when the process name has spaces and parentheses", () => {
    const fields = statFields("1234 (nginx: (worker) x) S 1 2 3 4 5 6 7 8 9 10 111 222 0 0");
    expect(fields[0]).toBe("S");
    expect(fields[11]).toBe("111");
    expect(fields[12]).toBe("222");
  });

  it("configures the raw nginx reference with one worker, upstream keep-alive and no buffering", () => {
    const conf = rawNginxConf(8080, "127.0.0.1:9000", "k", false);
    expect(conf).toContain("worker_processes 1;");
    expect(rawNginxConf(8080, "127.0.0.1:9000", "k", false, 2)).toContain("worker_processes 2;");
    expect(conf).toContain("server 127.0.0.1:9000;");
    expect(conf).toContain("keepalive 64;");
    expect(conf).toContain("proxy_buffering off;");
    expect(conf).toContain("listen 127.0.0.1:8080;");
    expect(conf).not.toContain("user root");
  });
});

describe("CPU pinning plan", () => {
  it("gives one worker the last core and the load the rest", () => {
    expect(cpuPlan(1, 2)).toEqual({ gateway: "1", load: "0" });
    expect(cpuPlan(2, 4)).toEqual({ gateway: "2-3", load: "0-1" });
    expect(cpuPlan(1, 8)).toEqual({ gateway: "7", load: "0-6" });
  });

  it("pins nothing when the workers need every core or there is one core, and says why", () => {
    expect(cpuPlan(2, 2).gateway).toBeUndefined();
    expect(cpuPlan(2, 2).why).toMatch(/2 workers on 2 CPUs/);
    expect(cpuPlan(1, 1)).toEqual({ why: "one CPU: nothing to separate" });
  });

  it("is on by default and off with --no-pin", () => {
    expect(planFromFlags({}).pin).toBe(true);
    expect(planFromFlags({ pin: false }).pin).toBe(false);
  });
});
