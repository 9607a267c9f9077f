/**
 * `spillway bench`: one run, all targets on 127.0.0.1, alternated round by round (each round starts one target
 * later), medians over the rounds. Gateway rows run on real APISIX 3.18 (APISIX_HOME or the apisix-lab), one
 * instance per row; --standin runs them on the nginx test stand-in instead. Progress goes to stderr, the report to
 * stdout. Ctrl-C (SIGINT/SIGTERM) stops the current measurement and everything the run started.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import { EnvironmentError } from "../../lib/errors.ts";
import { processEnv } from "../../renderer/settings.ts";
import { repoRoot } from "../lib/pins.ts";
import { describeApisix, locateApisix } from "./apisix-home.ts";
import { chatBody, gatewayStarter, startFleet, targetOf, warmUpAndCheck, type Fleet, type Target } from "./fleet.ts";
import { machinePlan, type CpuPlan } from "./pin.ts";
import { STANDIN_LABEL } from "./gateways.ts";
import { estimatedSeconds, gatewayTargets, type BenchPlan, type StreamTarget, type WrkTarget } from "./options.ts";
import { CpuMeter, foreignWrk, loadAverage } from "./proc.ts";
import { checkNginx } from "./processes.ts";
import { closeWatches, watchGateways, watching, type Watched } from "./gateway-watch.ts";
import { formatRatios } from "./ratios.ts";
import {
  formatHealthTable, formatSoak, formatStreamTable, formatTable, labelsFor, percentile, summarize,
  type BenchResults, type StreamRound, type WrkRound,
} from "./report.ts";
import { runSoak } from "./soak.ts";
import { runStreams } from "./stream-client.ts";
import { checkWrk, requestsPerSecond, runWrk, writeWrkScript } from "./wrk.ts";

/** Ctrl-C: thrown after everything is stopped; spillway.ts turns it into exit code 130. */
export class BenchInterrupted extends Error {
  readonly exitCode = 130;
}

interface Ctx {
  plan: BenchPlan;
  fleet: Fleet;
  signal: AbortSignal;
  scripts: Record<WrkTarget, string>;
  ourWrk: Set<number>;
  watched: Partial<Record<WrkTarget, Watched>>;
  notes: string[];
  say: (line: string) => void;
}

function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(ext)) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** build/lua must exist; when plugins/ changed after it was built, the figures are for older code: say so. */
function checkBuild(notes: string[]): void {
  const hook = path.join(repoRoot, "build/lua/spillway/hook.lua");
  if (!existsSync(hook)) throw new EnvironmentError("build/lua is missing: run `npm run build` (or pass --build) first");
  if (newestMtime(path.join(repoRoot, "plugins"), ".ts") > statSync(hook).mtimeMs) {
    notes.push("build/lua is older than plugins/*.ts: these figures are for the last build (pass --build to rebuild first)");
  }
}

function aborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new BenchInterrupted("interrupted");
}

async function measureWrk(ctx: Ctx, name: WrkTarget, round: number): Promise<WrkRound> {
  const { fleet, plan, signal } = ctx;
  const target: Target = targetOf(fleet, name);
  const foreign = foreignWrk(ctx.ourWrk);
  if (foreign.length > 0) ctx.notes.push(`round ${round} ${name}: another wrk was running (pids ${foreign.join(", ")}); figures noisier`);
  const throttledBefore = await fleet.throttled.total();
  const worker = target.workerPids === undefined ? undefined : new CpuMeter(target.workerPids);
  const sim = new CpuMeter([fleet.healthy.pid]);
  const onPid = (pid: number): void => void ctx.ourWrk.add(pid);
  const res = await runWrk({ url: target.url, script: ctx.scripts[name], connections: plan.connections, durationS: plan.durationS, signal, onPid });
  const workerUs = worker?.elapsed();
  const simUs = sim.elapsed();
  const throttledCalls = (await fleet.throttled.total()) - throttledBefore;
  const c1 = await runWrk({ url: target.url, script: ctx.scripts[name], connections: 1, durationS: plan.c1DurationS, signal, onPid });
  const failures = [res, c1].reduce((n, r) => n + r.errors.status + r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout, 0);
  if (failures > 0) ctx.notes.push(`round ${round} ${name}: ${failures} non-2xx answers or socket errors; its figures are not valid`);
  const perReq = (us: number | undefined): number | undefined => (us === undefined || res.requests === 0 ? undefined : us / res.requests);
  return {
    rps: requestsPerSecond(res),
    p50Us: res.p50Us,
    p99Us: res.p99Us,
    c1P50Us: c1.p50Us,
    workerCpuUsPerReq: perReq(workerUs),
    simCpuUsPerReq: perReq(simUs),
    throttledCalls: name === "direct" || name === "nginx" ? undefined : throttledCalls,
    requests: res.requests,
    c1Requests: c1.requests,
    failures,
  };
}

async function measureStream(ctx: Ctx, name: StreamTarget, round: number): Promise<StreamRound> {
  const t = targetOf(ctx.fleet, name);
  const body = chatBody(true, ctx.plan.streamChunks);
  const r = await runStreams({ url: t.url, body, headers: t.headers, concurrency: ctx.plan.streamConcurrency, windowMs: ctx.plan.streamWindowMs, signal: ctx.signal });
  const short = r.samples.filter((s) => s.contentEvents !== ctx.plan.streamChunks).length;
  if (r.failures.length + short > 0) {
    ctx.notes.push(`round ${round} stream ${name}: ${r.failures.length} failed, ${short} short streams (${r.failures[0] ?? "fewer content events"})`);
  }
  return {
    firstByteP50: percentile(r.samples.map((s) => s.firstByteMs), 50) ?? Number.NaN,
    firstContentP50: percentile(r.samples.map((s) => s.firstContentMs), 50) ?? Number.NaN,
    gapP99: percentile(r.samples.flatMap((s) => s.gapsMs), 99) ?? Number.NaN,
    streams: r.samples.length,
    failures: r.failures.length + short,
  };
}

/** Round r visits the targets starting at index r, so no target is always first (or last) after a pause. */
export function rotate<T>(list: readonly T[], by: number): T[] {
  const k = ((by % list.length) + list.length) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

async function measure(ctx: Ctx): Promise<BenchResults> {
  const results: BenchResults = { wrk: {}, stream: {} };
  for (let round = 1; round <= ctx.plan.rounds; round++) {
    for (const name of rotate(ctx.plan.wrkTargets, round - 1)) {
      aborted(ctx.signal);
      const r = await watching(ctx.watched[name], (w: WrkRound) => w.requests + (w.c1Requests ?? 0), () => measureWrk(ctx, name, round));
      (results.wrk[name] ??= []).push(r);
      const cpu = r.workerCpuUsPerReq === undefined ? "" : `, worker ${r.workerCpuUsPerReq.toFixed(1)} µs/req`;
      ctx.say(`round ${round}/${ctx.plan.rounds} ${name.padEnd(14)} ${Math.round(r.rps)} req/s, c=1 p50 ${(r.c1P50Us / 1000).toFixed(2)} ms${cpu}`);
    }
    for (const name of rotate(ctx.plan.streamTargets, round - 1)) {
      aborted(ctx.signal);
      const r = await watching(ctx.watched[name], (s: StreamRound) => s.streams + s.failures, () => measureStream(ctx, name, round));
      (results.stream[name] ??= []).push(r);
      ctx.say(`round ${round}/${ctx.plan.rounds} stream ${name.padEnd(10)} ${r.streams} streams, 1st content p50 ${r.firstContentP50.toFixed(2)} ms, gap p99 ${r.gapP99.toFixed(2)} ms`);
    }
  }
  return results;
}

function nginxVersion(): string {
  const out = spawnSync("/usr/sbin/nginx", ["-v"], { encoding: "utf8" });
  return (out.stderr ?? "").trim().replace(/^nginx version: /, "") || "nginx";
}

/** Decided once per run (the header is written after this process pinned itself). */
let decidedPlan: CpuPlan | undefined;
function cpuPlanOf(plan: BenchPlan): CpuPlan {
  decidedPlan ??= plan.pin ? machinePlan(plan.workers) : { why: "--no-pin" };
  return decidedPlan;
}

function hostLine(plan: BenchPlan, loadBefore: number | undefined): string {
  const c = cpuPlanOf(plan);
  const where = c.gateway !== undefined
    ? `nginx workers pinned to CPU ${c.gateway}; wrk, the simulators (Node ${process.version}) and this client to CPU ${c.load}`
    : `shared by wrk, nginx, the simulators (Node ${process.version}) and this client (not pinned: ${c.why})`;
  return `host: ${cpus().length} CPU(s), ${where}; load before ${loadBefore ?? "?"}`;
}

function header(plan: BenchPlan, startedAt: Date, loadBefore: number | undefined, apisixHome: string | undefined): string {
  const workers = `${plan.workers} worker${plan.workers === 1 ? "" : "s"}`;
  const engine =
    apisixHome !== undefined
      ? `gateway rows: ${describeApisix(apisixHome)}; one APISIX instance per row, ${workers} each; Spillway's rows as \`spillway render\` renders them`
      : `gateway rows: ${STANDIN_LABEL}; ${nginxVersion()}, ${workers} each`;
  return [
    `spillway bench — ${startedAt.toISOString()} — ${plan.quick ? "--quick" : "default"} run${plan.workers > 1 ? `, --workers ${plan.workers}` : ""}`,
    engine,
    hostLine(plan, loadBefore),
    `method: wrk -t1 -c${plan.connections} -d${plan.durationS}s and -c1 -d${plan.c1DurationS}s per target per round; streams: ${plan.streamChunks} content chunks ${plan.streamIntervalMs} ms apart, ${plan.streamConcurrency} concurrent, ${plan.streamWindowMs} ms per round; ${plan.rounds} round${plan.rounds === 1 ? "" : "s"}, targets alternated, medians`,
    apisixHome !== undefined
      ? `The steady figure is worker CPU µs/req (/proc, summed over the workers); req/s and latency move with the load of this shared box.`
      : "Only ratios mean anything (test stand-in, not APISIX); worker CPU µs/req is the contention-robust figure.",
  ].join("\n");
}

async function soak(ctx: Ctx): Promise<BenchResults["soak"]> {
  const name: WrkTarget = "gateway";
  if (ctx.plan.soakRequests === 0) return undefined;
  if (!ctx.plan.wrkTargets.includes(name)) {
    ctx.notes.push("--soak needs the Spillway chat route row, which this plan has not");
    return undefined;
  }
  const t = targetOf(ctx.fleet, name);
  ctx.say(`soak: ${ctx.plan.soakRequests} requests to ${name}`);
  const r = await runSoak({
    target: name,
    url: t.url,
    script: ctx.scripts[name],
    connections: ctx.plan.connections,
    requests: ctx.plan.soakRequests,
    workerPids: t.workerPids ?? [],
    ...(t.errorLogPath !== undefined ? { errorLogPath: t.errorLogPath } : {}),
    signal: ctx.signal,
    onPid: (pid) => void ctx.ourWrk.add(pid),
    say: ctx.say,
  });
  if (r.failures > 0) ctx.notes.push(`soak: ${r.failures} non-2xx answers or socket errors`);
  return r;
}

/** The APISIX to run (exit 4 with how to get one when there is none), or undefined for the stand-in. */
async function engineHome(plan: BenchPlan, say: (line: string) => void): Promise<string | undefined> {
  if (plan.engine === "standin") {
    checkNginx(true);
    return undefined;
  }
  if (plan.wrkTargets.includes("nginx")) checkNginx(false);
  return locateApisix(processEnv(), say);
}

function report(plan: BenchPlan, summary: ReturnType<typeof summarize>, head: string, notes: string[]): string {
  const labels = labelsFor(plan.engine);
  const sections = [
    head,
    formatTable(summary, plan.connections, plan.wrkTargets, labels),
    plan.streamTargets.length > 0 ? formatStreamTable(summary, plan.streamTargets, labels) : "",
    gatewayTargets(plan).length > 0 ? formatHealthTable(summary, gatewayTargets(plan), labels, plan.workers) : "",
    formatRatios(summary, plan.engine),
    summary.soak !== undefined ? formatSoak(summary.soak, labels) : "",
    notes.map((n) => `note: ${n}`).join("\n"),
  ];
  return `${sections.filter((t) => t !== "").join("\n\n")}\n`;
}

export async function runBench(plan: BenchPlan, say: (line: string) => void, print: (text: string) => void): Promise<void> {
  const notes: string[] = [];
  checkWrk();
  const apisixHome = await engineHome(plan, say);
  if (plan.build) {
    const { buildLua } = await import("../start/gateway.ts");
    await buildLua();
  }
  checkBuild(notes);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => controller.abort(new BenchInterrupted(`interrupted by ${sig}; everything the bench started is stopped`));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const startedAt = new Date();
  const loadBefore = loadAverage();
  const where = apisixHome !== undefined ? `real APISIX from ${apisixHome}` : "the nginx test stand-in";
  say(`spillway bench: starting simulators and ${gatewayTargets(plan).length} gateways on ${where}; about ${estimatedSeconds(plan)} s of measuring`);
  let fleet: Fleet | undefined;
  try {
    fleet = await startFleet(plan, gatewayStarter(plan, apisixHome, path.join(repoRoot, "build", "lua")), cpuPlanOf(plan));
    aborted(controller.signal);
    await warmUpAndCheck(fleet, plan, controller.signal);
    const scripts = Object.fromEntries(
      plan.wrkTargets.map((t) => [t, writeWrkScript(path.join(fleet!.dir, `wrk-${t}.lua`), chatBody(false, 5), { "Content-Type": "application/json", ...targetOf(fleet!, t).headers })]),
    ) as Record<WrkTarget, string>;
    const ctx: Ctx = { plan, fleet, signal: controller.signal, scripts, ourWrk: new Set(), watched: watchGateways(plan, fleet), notes, say };
    const results = await measure(ctx);
    results.health = closeWatches(ctx.watched, fleet, notes);
    const soaked = await soak(ctx);
    if (soaked !== undefined) results.soak = soaked;
    notes.push(`load average after: ${loadAverage() ?? "?"}; took ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s`);
    print(report(plan, summarize(results), header(plan, startedAt, loadBefore, apisixHome), notes));
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await fleet?.stop();
  }
}
