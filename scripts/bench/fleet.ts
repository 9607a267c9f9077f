/**
 * Everything one bench run starts, on 127.0.0.1: two simulators (healthy; throttled = always 429 with a 10-minute
 * retry-after), the raw nginx reference and three stand-in gateways. Started together, stopped together (also
 * when start-up fails half-way), and checked before any figure is taken: each target must answer the way its row
 * claims (who answered, how many attempts), or the run stops.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { InternalError } from "../../lib/errors.ts";
import { BENCH_URI, startBenchGateway, type GatewayProcess, type GatewayRoute } from "./gateways.ts";
import type { BenchPlan, WrkTarget } from "./options.ts";
import { startRawNginx, startSimulatorProcess, type NginxProcess, type SimulatorProcess } from "./processes.ts";
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
  /** The nginx worker to meter (none for direct). */
  workerPid?: number;
}

export interface Fleet {
  dir: string;
  healthy: SimulatorProcess;
  throttled: SimulatorProcess;
  targets: Partial<Record<WrkTarget, Target>>;
  gateways: GatewayProcess[];
  stop(): Promise<void>;
}

export async function startFleet(plan: BenchPlan): Promise<Fleet> {
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
    const [healthy, throttled] = await Promise.all([
      track(startSimulatorProcess({ name: "healthy", apiKey: BENCH_KEY, deployments: DEPLOYMENTS, latency }, dir)),
      track(
        startSimulatorProcess(
          { name: "throttled", apiKey: BENCH_KEY, deployments: DEPLOYMENTS, latency, faults: [{ kind: "status", status: 429, retryAfterMs: THROTTLE_RETRY_AFTER_MS }] },
          dir,
        ),
      ),
    ]);
    const backends = { apiKey: BENCH_KEY, okUrl: healthy.url, throttledUrl: throttled.url };
    const routes = plan.wrkTargets.filter((t): t is GatewayRoute => t !== "direct" && t !== "nginx");
    const [nginx, ...gateways] = (await Promise.all([
      track(startRawNginx(healthy.url, BENCH_KEY)),
      ...routes.map((r) => track(startBenchGateway(r, backends, dir))),
    ])) as [NginxProcess, ...GatewayProcess[]];
    const targets: Partial<Record<WrkTarget, Target>> = {
      direct: { url: `${healthy.url}${BENCH_URI}`, headers: { "api-key": BENCH_KEY } },
      nginx: { url: `${nginx.url}${BENCH_URI}`, headers: {}, workerPid: nginx.workerPid },
    };
    for (const g of gateways) targets[g.route] = { url: `${g.url}${BENCH_URI}`, headers: {}, workerPid: g.workerPid };
    return { dir, healthy, throttled, targets, gateways, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * What each row must look like in its answers (after warm-up: the skip row's primary is cooling by then).
 * Stock ai-proxy-multi passes no upstream headers, so for its rows only the status is checked here; the
 * throttled simulator's call count in the report shows the stock-hop row hops.
 */
const EXPECTED: Record<WrkTarget, { instance: boolean; backend?: string; attempts?: string }> = {
  direct: { instance: true },
  nginx: { instance: true },
  gateway: { instance: true, backend: "healthy", attempts: "1" },
  skip: { instance: true, backend: "healthy", attempts: "1" },
  hop: { instance: true, backend: "healthy", attempts: "2" },
  stock: { instance: false },
  "stock-hop": { instance: false },
};

/** The target of a row the plan includes. */
export function targetOf(fleet: Fleet, name: WrkTarget): Target {
  const t = fleet.targets[name];
  if (t === undefined) throw new InternalError(`bench: no target "${name}" was started`);
  return t;
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
      if (got.status !== 200 || (want.instance && got.instance !== "healthy")) problems.push(`answer ${i}: ${JSON.stringify(got)}`);
      else if (want.backend !== undefined && got.backend !== want.backend) problems.push(`answer ${i}: x-gw-backend ${got.backend}, expected ${want.backend}`);
      // Answer 0 of the skip row is the one that meets the 429 and starts the cooldown.
      else if (i > 0 && want.attempts !== undefined && got.attempts !== want.attempts) problems.push(`answer ${i}: x-gw-attempts ${got.attempts}, expected ${want.attempts}`);
    };
    await one(0);
    let next = 1;
    const worker = async (): Promise<void> => {
      while (next < plan.warmupRequests && problems.length === 0) await one(next++);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    if (problems.length > 0) {
      throw new InternalError(`the "${name}" target does not behave as its row claims, so its figures would be wrong: ${problems.slice(0, 3).join("; ")}`);
    }
  }
  for (const name of plan.streamTargets) {
    const t = targetOf(fleet, name);
    const r = await runStreams({ url: t.url, body: chatBody(true, plan.streamChunks), headers: t.headers, concurrency: 1, windowMs: 0, signal });
    const s = r.samples[0];
    if (s === undefined || s.contentEvents !== plan.streamChunks) {
      throw new InternalError(`the "${name}" stream check failed: ${r.failures[0] ?? `${s?.contentEvents} content events, expected ${plan.streamChunks}`}`);
    }
  }
}
