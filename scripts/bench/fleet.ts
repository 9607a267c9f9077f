/**
 * Everything one bench run starts, on 127.0.0.1: two simulators (healthy; throttled = always 429 with a 10-minute
 * retry-after), the raw nginx reference and one gateway per gateway row (a real APISIX instance each, or with
 * --standin a stand-in each). Started together, stopped together (also when start-up fails half-way), and checked
 * before any figure is taken: each target must answer the way its row claims (who answered, how many attempts, how
 * often the throttled backend was called), or the run stops.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { InternalError } from "../../lib/errors.ts";
import { startApisixGateway } from "./apisix-gateways.ts";
import { BENCH_URI, startStandinGateway, type Backends, type GatewayProcess } from "./gateways.ts";
import { gatewayTargets, type BenchPlan, type WrkTarget } from "./options.ts";
import { warnLines } from "./proc.ts";
import { startRawNginx, startSimulatorProcess, type NginxProcess, type SimulatorProcess } from "./processes.ts";
import { pin, type CpuPlan } from "./pin.ts";
import { runStreams } from "./stream-client.ts";

/** Only for the local simulators this run starts; never a real key. */
export const BENCH_KEY = "bench-key-not-a-secret-0123";
const DEPLOYMENT = "bench";
/** Rate limits out of the way: 1e12 TPM never throttles nor reports a low remaining count. */
const DEPLOYMENTS = { [DEPLOYMENT]: { model: "gpt-4o", tpm: 1_000_000_000_000 } };
const THROTTLE_RETRY_AFTER_MS = 600_000;

export function chatBody(stream: boolean, maxTokens: number): string {
  return JSON.stringify({ model: DEPLOYMENT, messages: [{ role: "user", content: "Say something short." }], max_tokens: maxTokens, ...(stream ? { stream: true } : {}) });
}

export interface Target {
  url: string;
  /** Headers the client sends (only direct needs the key; the proxies add theirs). */
  headers: Record<string, string>;
  /** The nginx workers to meter (none for direct). */
  workerPids?: number[];
  /** The gateway's error log (gateway rows only): warn-or-worse lines are counted per row. */
  errorLogPath?: string;
}

export interface Fleet {
  dir: string;
  healthy: SimulatorProcess;
  throttled: SimulatorProcess;
  targets: Partial<Record<WrkTarget, Target>>;
  gateways: GatewayProcess[];
  stop(): Promise<void>;
}

/** How a gateway row is started: real APISIX from `apisixHome`, or the stand-in. */
export type GatewayStarter = (route: GatewayProcess["route"], b: Backends, dir: string) => Promise<GatewayProcess>;

export function gatewayStarter(plan: BenchPlan, apisixHome: string | undefined, luaPath: string): GatewayStarter {
  if (plan.engine === "apisix") return (route, b) => startApisixGateway(apisixHome!, route, b, plan.workers, luaPath);
  return (route, b, dir) => startStandinGateway(route, b, dir, plan.workers);
}

/** Instances started at once: `bin/apisix start` is a CPU-bound Lua program, and the box has 2 cores. */
const START_PARALLEL = 2;

/** Runs `fn` over `items`, `size` at a time; every start of a batch settles (and is tracked) before a failure is thrown. */
async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    const settled = await Promise.allSettled(items.slice(i, i + size).map(fn));
    for (const r of settled) {
      if (r.status === "rejected") throw r.reason;
      out.push(r.value);
    }
  }
  return out;
}

export async function startFleet(plan: BenchPlan, startGateway: GatewayStarter, cpus: CpuPlan = {}): Promise<Fleet> {
  // This process and everything it starts from here on (wrk, simulators, nginx masters) run on the load CPUs;
  // each gateway's workers are moved to the gateway CPUs once they run (pin.ts).
  pin(process.pid, cpus.load);
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-bench-"));
  const owned: { stop(): Promise<void> }[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(owned.map((o) => o.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  const track = <T extends { stop(): Promise<void> }>(p: Promise<T>): Promise<T> =>
    p.then((o) => {
      owned.push(o);
      return o;
    });
  try {
    const latency = { baseMs: 0, perTokenMs: 0, streamIntervalMs: plan.streamIntervalMs };
    const sims = [
      { name: "healthy", apiKey: BENCH_KEY, deployments: DEPLOYMENTS, latency },
      { name: "throttled", apiKey: BENCH_KEY, deployments: DEPLOYMENTS, latency, faults: [{ kind: "status", status: 429, retryAfterMs: THROTTLE_RETRY_AFTER_MS }] },
    ];
    const [healthy, throttled] = (await inBatches(sims, 2, (config) => track(startSimulatorProcess(config, dir)))) as [SimulatorProcess, SimulatorProcess];
    const backends = { apiKey: BENCH_KEY, okUrl: healthy.url, throttledUrl: throttled.url };
    const targets: Partial<Record<WrkTarget, Target>> = {
      direct: { url: `${healthy.url}${BENCH_URI}`, headers: { "api-key": BENCH_KEY } },
    };
    if (plan.wrkTargets.includes("nginx")) {
      const nginx: NginxProcess = await track(startRawNginx(healthy.url, BENCH_KEY, plan.workers));
      for (const pid of nginx.workerPids) pin(pid, cpus.gateway);
      targets.nginx = { url: `${nginx.url}${BENCH_URI}`, headers: {}, workerPids: nginx.workerPids };
    }
    const gateways = await inBatches(gatewayTargets(plan), START_PARALLEL, (r) => track(startGateway(r, backends, dir)));
    for (const g of gateways) {
      for (const pid of g.workerPids) pin(pid, cpus.gateway);
      targets[g.route] = { url: `${g.url}${BENCH_URI}`, headers: {}, workerPids: g.workerPids, errorLogPath: g.errorLogPath };
    }
    return { dir, healthy, throttled, targets, gateways, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * What each row must look like in its answers after warm-up (the skip row's primary is cooling by then), and how
 * often the throttled simulator may be called during the warm-up: never, once (the request that starts the skip
 * row's cooldown) or on every request (the hop rows). Stock ai-proxy-multi's answers may not carry the simulator's
 * headers, so for its rows the throttled simulator's count is the proof.
 */
const EXPECTED: Record<WrkTarget, { instance: "healthy" | "if-present"; backend?: string; attempts?: string; throttled: "never" | "once" | "every" }> = {
  direct: { instance: "healthy", throttled: "never" },
  nginx: { instance: "healthy", throttled: "never" },
  stock: { instance: "if-present", throttled: "never" },
  "stock-prom": { instance: "if-present", throttled: "never" },
  gateway: { instance: "healthy", backend: "healthy", attempts: "1", throttled: "never" },
  "gateway-noprom": { instance: "healthy", backend: "healthy", attempts: "1", throttled: "never" },
  skip: { instance: "healthy", backend: "healthy", attempts: "1", throttled: "once" },
  hop: { instance: "healthy", backend: "healthy", attempts: "2", throttled: "every" },
  "stock-hop": { instance: "if-present", throttled: "every" },
};

/** Pure: what is wrong with a warm-up's count of calls to the throttled backend (undefined: nothing). */
export function throttledProblem(want: "never" | "once" | "every", calls: number, requests: number): string | undefined {
  if (want === "never" && calls !== 0) return `the throttled backend was called ${calls}× in ${requests} requests; this row must never call it`;
  if (want === "once" && calls !== 1) return `the throttled backend was called ${calls}× in ${requests} requests; expected once (then cooling)`;
  if (want === "every" && calls < requests) return `the throttled backend was called ${calls}× in ${requests} requests; expected on every request`;
  return undefined;
}

/** The target of a row the plan includes. */
export function targetOf(fleet: Fleet, name: WrkTarget): Target {
  const t = fleet.targets[name];
  if (t === undefined) throw new InternalError(`bench: no target "${name}" was started`);
  return t;
}

/** The gateway's last warn-or-worse lines, for a failed check (its folder is removed when the run stops). */
function logTail(target: Target): string {
  if (target.errorLogPath === undefined || !existsSync(target.errorLogPath)) return "";
  const lines = warnLines(readFileSync(target.errorLogPath, "utf8")).slice(-5);
  return lines.length > 0 ? `\ngateway error log (last warn-or-worse lines):\n${lines.join("\n")}` : "";
}

/** Bounds each warm-up request on its own; the run's abort signal is checked between requests. */
const WARMUP_REQUEST_TIMEOUT_MS = 10_000;

async function post(target: Target, body: string): Promise<Response> {
  return fetch(target.url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...target.headers },
    signal: AbortSignal.timeout(WARMUP_REQUEST_TIMEOUT_MS),
  });
}

/**
 * Warm-up (JIT, keep-alive pools, the skip row's cooldown) and proof that each target behaves as labelled:
 * every answer 200 from the healthy simulator, with the expected x-gw-attempts once warm.
 */
export async function warmUpAndCheck(fleet: Fleet, plan: BenchPlan, signal: AbortSignal): Promise<void> {
  const body = chatBody(false, 5);
  for (const name of plan.wrkTargets) {
    const target = targetOf(fleet, name);
    const problems: string[] = [];
    const want = EXPECTED[name];
    const one = async (i: number): Promise<void> => {
      if (signal.aborted) throw signal.reason;
      const res = await post(target, body);
      await res.arrayBuffer();
      const got = { status: res.status, instance: res.headers.get("x-sim-instance"), backend: res.headers.get("x-gw-backend"), attempts: res.headers.get("x-gw-attempts") };
      const instanceOk = got.instance === "healthy" || (want.instance === "if-present" && got.instance === null);
      if (got.status !== 200 || !instanceOk) problems.push(`answer ${i}: ${JSON.stringify(got)}`);
      else if (want.backend !== undefined && got.backend !== want.backend) problems.push(`answer ${i}: x-gw-backend ${got.backend}, expected ${want.backend}`);
      // Answer 0 of the skip row is the one that meets the 429 and starts the cooldown.
      else if (i > 0 && want.attempts !== undefined && got.attempts !== want.attempts) problems.push(`answer ${i}: x-gw-attempts ${got.attempts}, expected ${want.attempts}`);
    };
    const throttledBefore = await fleet.throttled.total();
    await one(0);
    let next = 1;
    const worker = async (): Promise<void> => {
      while (next < plan.warmupRequests && problems.length === 0) await one(next++);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const calls = (await fleet.throttled.total()) - throttledBefore;
    const callProblem = problems.length === 0 ? throttledProblem(want.throttled, calls, next) : undefined;
    if (callProblem !== undefined) problems.push(callProblem);
    if (problems.length > 0) {
      throw new InternalError(`the "${name}" target does not behave as its row claims, so its figures would be wrong: ${problems.slice(0, 3).join("; ")}${logTail(target)}`);
    }
  }
  for (const name of plan.streamTargets) {
    const t = targetOf(fleet, name);
    const r = await runStreams({ url: t.url, body: chatBody(true, plan.streamChunks), headers: t.headers, concurrency: 1, windowMs: 0, signal });
    const s = r.samples[0];
    if (s === undefined || s.contentEvents !== plan.streamChunks) {
      throw new InternalError(`the "${name}" stream check failed: ${r.failures[0] ?? `${s?.contentEvents} content events, expected ${plan.streamChunks}`}${logTail(t)}`);
    }
  }
}
