/**
 * The pure parts of `spillway bench`: option parsing, wrk output parsing, the stream client's SSE parsing, the
 * statistics and the table/ratio text. Nothing here is timed; the bench itself is run by hand (docs/bench.md).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../lib/errors.ts";
import { estimatedSeconds, planFromFlags } from "../../scripts/bench/options.ts";
import { statFields } from "../../scripts/bench/proc.ts";
import { BENCH_URI, benchRoute } from "../../scripts/bench/gateways.ts";
import { rawNginxConf } from "../../scripts/bench/processes.ts";
import { fmtDeltaMs, formatRatios, formatTable, median, percentile, summarize, type BenchResults } from "../../scripts/bench/report.ts";
import { rotate } from "../../scripts/bench/run.ts";
import { isContentEvent, takeEvents } from "../../scripts/bench/stream-client.ts";
import { parseWrkOutput, RESULT_MARK, wrkScript } from "../../scripts/bench/wrk.ts";

describe("bench options", () => {
  it("defaults to the baseline's method within a ~3 minute budget", () => {
    const plan = planFromFlags({});
    expect(plan).toMatchObject({ connections: 32, streamConcurrency: 4, streamChunks: 20, streamIntervalMs: 20, rounds: 3, quick: false, build: false });
    expect(estimatedSeconds(plan)).toBeLessThanOrEqual(160);
  });

  it("--quick keeps the measuring under ~35 s and still alternates two rounds", () => {
    const plan = planFromFlags({ quick: true });
    expect(plan.rounds).toBe(2);
    expect(estimatedSeconds(plan)).toBeLessThanOrEqual(35);
  });

  it("measures the stock ai-proxy-multi rows by default and leaves them out of --quick", () => {
    expect(planFromFlags({}).wrkTargets).toEqual(["direct", "nginx", "stock", "gateway", "skip", "stock-hop", "hop"]);
    expect(planFromFlags({}).streamTargets).toEqual(["direct", "nginx", "stock", "gateway"]);
    expect(planFromFlags({ quick: true }).wrkTargets).toEqual(["direct", "nginx", "gateway", "skip", "hop"]);
    expect(planFromFlags({ quick: true }).streamTargets).toEqual(["direct", "nginx", "gateway"]);
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
  ])("refuses a bad %s with a UsageError naming the flag", (flag, flags) => {
    expect(() => planFromFlags(flags)).toThrow(UsageError);
    expect(() => planFromFlags(flags)).toThrow(flag);
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

  const round = (rps: number, cpu?: number, calls?: number) => ({ rps, c1P50Us: 200, workerCpuUsPerReq: cpu, throttledCalls: calls, requests: rps, failures: 0 });
  const results: BenchResults = {
    wrk: {
      direct: [round(3000), round(3200), round(3100)],
      nginx: [round(4000, 20), round(4000, 20), round(4000, 20)],
      gateway: [round(2000, 100), round(2000, 100), round(2000, 100)],
      skip: [round(1920, 110, 0), round(1920, 110, 0), round(1920, 110, 0)],
      hop: [round(1000, 200, 1000), round(1000, 200, 1000), round(1000, 200, 1032)],
    },
    stream: {
      direct: [{ firstByteP50: 1, firstContentP50: 21, gapP99: 22, streams: 20, failures: 0 }],
      gateway: [{ firstByteP50: 21.5, firstContentP50: 21.5, gapP99: 22.4, streams: 20, failures: 0 }],
    },
  };

  it("prints one row per target with ×raw-nginx ratios and stream figures only where streams ran", () => {
    const table = formatTable(summarize(results), 32, ["direct", "nginx", "gateway", "skip", "hop"], ["direct", "nginx", "gateway"]);
    const lines = table.split("\n");
    expect(lines[0]).toContain("req/s c=32");
    expect(lines).toHaveLength(7);
    expect(lines[2]).toMatch(/^\| direct to the simulator \| 3100 \| ×0\.78 \| 0\.20 ms \| 1\.00 ms \| 21\.0 ms \| 0\.00 ms \| – \| – \|$/);
    expect(lines[4]).toMatch(/^\| Spillway, one backend \| 2000 \| ×0\.50 \| .* \| 21\.5 ms \| 21\.5 ms \| \+0\.40 ms \| 100 \| – \|$/);
    expect(lines[5]).toMatch(/skip\) \| 1920 \| ×0\.48 \| 0\.20 ms \| – \| – \| – \| 110 \|/);
  });

  it("prints the issue's ratios: gateway/direct, hop and skip against no failover, stream deltas", () => {
    const text = formatRatios(summarize(results));
    expect(text).toMatch(/gateway \/ direct +req\/s ×0\.65/);
    expect(text).toMatch(/429 hop \/ no failover +req\/s ×0\.50 .* worker CPU ×2\.00 \(\+100 µs\/req\) .*called 3032× for 3000 requests \(1\.01\/req\)/);
    expect(text).toMatch(/cooled skip \/ no failover +req\/s ×0\.96 .* worker CPU ×1\.10 \(\+10\.0 µs\/req\) .*called 0× for 5760 requests \(0\.00\/req\)/);
    expect(text).toMatch(/stream gateway − direct +1st content p50 \+0\.50 ms +gap p99 \+0\.40 ms/);
    expect(text).not.toContain("stock");
  });

  it("adds the comparisons with stock ai-proxy-multi when those rows ran", () => {
    const withStock: BenchResults = {
      wrk: { ...results.wrk, stock: [round(2200, 90)], "stock-hop": [round(880, 150, 880)] },
      stream: { ...results.stream, stock: [{ firstByteP50: 22, firstContentP50: 22, gapP99: 22, streams: 20, failures: 0 }] },
    };
    const text = formatRatios(summarize(withStock));
    expect(text).toMatch(/gateway \/ stock +req\/s ×0\.91 .* worker CPU ×1\.11 \(\+10\.0 µs\/req\)/);
    expect(text).toMatch(/skip \/ stock-hop +req\/s ×2\.18 .*called 880× for 880 requests/);
    expect(text).toMatch(/stream stock − direct +1st content p50 \+1\.00 ms/);
  });
});

describe("bench routes", () => {
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
    expect(conf).toContain("server 127.0.0.1:9000;");
    expect(conf).toContain("keepalive 64;");
    expect(conf).toContain("proxy_buffering off;");
    expect(conf).toContain("listen 127.0.0.1:8080;");
    expect(conf).not.toContain("user root");
  });
});
