/**
 * `snapshot --traffic`: the demo's three simulators and gateway (scripts/start, real APISIX only: the nginx
 * stand-in has no metrics exporter), plus a second client with a small token budget and a low-priority reserve,
 * driven through phases so that every panel has something to show: steady load that throttles the preferred
 * backend, a backend answering 500, a cut stream, all backends throttled at once.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { renderOnce } from "../../renderer/cli.ts";
import { processEnv } from "../../renderer/settings.ts";
import type { FaultSpec, SimulatorHandle } from "../simulator/index.ts";
import { DEMO_BACKENDS, demoBackendEnv } from "../start/demo.ts";
import { buildLua, chooseGateway, launch, luaPathFor } from "../start/gateway.ts";
import { loopbackListenEnv } from "../start/ports.ts";

const DEPLOYMENT = "gpt-4o-mini";
/** The second client's budget: a few requests' worth per window, so its rejections show within a minute. */
const BATCH_TOKEN_LIMIT = 400;

export interface TrafficStack {
  metricsUrl: string;
  /** Sends traffic for `ms`, moving through the phases; resolves when done. */
  drive(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** What happens during one share of the run (start and end as fractions of it). */
export interface Phase {
  from: number;
  to: number;
  label: string;
  faults?: Partial<Record<(typeof DEMO_BACKENDS)[number]["name"], FaultSpec[]>>;
  /** Extra high-priority callers: the backends' remaining requests drop below the low-priority reserve. */
  burst?: number;
}

/**
 * Each at least one of APISIX's 15 s exposition refreshes long (a counter first seen in one refresh only shows in a
 * rate from the next), and the last ends early enough for the refresh and a 30 s rate window before the end.
 */
export const PHASES: Phase[] = [
  { from: 0.03, to: 0.2, label: "sim-swedencentral cuts streams", faults: { "sim-swedencentral": [{ kind: "stream-cut", afterChunks: 2 }] } },
  { from: 0.22, to: 0.35, label: "sim-westus answers 500", faults: { "sim-westus": [{ kind: "status", status: 500 }] } },
  { from: 0.37, to: 0.53, label: "high-priority burst (low priority refused)", burst: 8 },
  {
    from: 0.55,
    to: 0.7,
    label: "every backend throttled",
    faults: Object.fromEntries(DEMO_BACKENDS.map((b) => [b.name, [{ kind: "status", status: 429, retryAfterMs: 5000 } satisfies FaultSpec]])),
  },
];

/** The phase in force at a fraction of the run, if any. */
export function phaseAt(fraction: number, phases: Phase[] = PHASES): Phase | undefined {
  return phases.find((p) => fraction >= p.from && fraction < p.to);
}

interface Caller {
  key: string;
  lane: "high" | "low";
  concurrency: number;
}

async function oneRequest(url: string, c: Caller, i: number): Promise<void> {
  const stream = i % 2 === 1;
  const headers: Record<string, string> = { authorization: `Bearer ${c.key}`, "content-type": "application/json" };
  if (c.lane === "low") headers["x-priority"] = "low";
  const body = JSON.stringify({ model: DEPLOYMENT, stream, max_tokens: 20, messages: [{ role: "user", content: `Request ${i}: say hello in five words.` }] });
  try {
    const res = await fetch(`${url}/openai/v1/chat/completions`, { method: "POST", headers, body, signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    // A refused request comes back at once; pause like a client honouring Retry-After, or the loop spins.
    if (res.status >= 400) await new Promise((r) => setTimeout(r, 500));
  } catch {
    // Cut streams and timeouts are part of the show; the metrics count them.
  }
}

export async function startTrafficStack(opts: { build: boolean; say: (line: string) => void }): Promise<TrafficStack> {
  const { say } = opts;
  const choice = chooseGateway(processEnv(), false);
  say(`gateway: ${choice.why}`);
  if (opts.build) await buildLua();
  const sim = await import("../simulator/index.ts");
  const apiKey = randomBytes(12).toString("hex");
  const keys = { demo: randomBytes(24).toString("hex"), batch: randomBytes(24).toString("hex") };
  const sims: SimulatorHandle[] = await sim.startSimulators(
    DEMO_BACKENDS.map((b) => ({ name: b.name, apiKey, deployments: { [DEPLOYMENT]: { model: DEPLOYMENT, tpm: b.tpm } }, latency: { baseMs: b.baseMs, perTokenMs: 2, streamIntervalMs: 5 } })),
  );
  const workDir = mkdtempSync(path.join(tmpdir(), "spillway-snapshot-stack-"));
  const cleanup = async (): Promise<void> => {
    await sim.stopSimulators(sims);
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const listen = await loopbackListenEnv();
    const env: Record<string, string> = {
      GATEWAY_CLIENT_NAME_0: "demo",
      GATEWAY_CLIENT_KEY_0: keys.demo,
      GATEWAY_CLIENT_NAME_1: "batch",
      GATEWAY_CLIENT_KEY_1: keys.batch,
      ENABLE_AI_RATE_LIMIT: "true",
      AI_RATE_LIMIT_HIGH_LIMIT: "1000000",
      GATEWAY_CLIENT_TOKEN_LIMIT_1: String(BATCH_TOKEN_LIMIT),
      // The throttled backend drops below half its tokens within seconds: low-priority traffic then skips it. The
      // others report 1,000 requests per 10 s: steady load leaves them above 80 %, the burst phase does not.
      LOW_PRIORITY_RESERVE_TOKENS: "50%",
      LOW_PRIORITY_RESERVE_REQUESTS: "80%",
      GATEWAY_LOG_MODE: "test",
      ...listen,
      SPILLWAY_LUA_PATH: luaPathFor(choice.kind),
    };
    Object.assign(env, demoBackendEnv(sims, apiKey));
    // Only these settings: the operator's AZURE_OPENAI_* must not leak in (as in `spillway demo`).
    const { rendered, loaded } = await renderOnce({ processEnv: env });
    const gateway = await launch({ choice, rendered, settings: loaded.settings, workDir, hostNetwork: true, say });
    say(`gateway up: ${gateway.label} at ${gateway.url}`);
    const metricsUrl = `http://127.0.0.1:${listen.SPILLWAY_METRICS_PORT}/apisix/prometheus/metrics`;
    const callers: Caller[] = [
      { key: keys.demo, lane: "high", concurrency: 3 },
      { key: keys.demo, lane: "low", concurrency: 1 },
      { key: keys.batch, lane: "high", concurrency: 1 },
    ];
    return {
      metricsUrl,
      drive: async (ms) => {
        const start = Date.now();
        let current: Phase | undefined;
        say("traffic: steady load");
        const steer = setInterval(() => {
          const next = phaseAt((Date.now() - start) / ms);
          if (next === current) return;
          current = next;
          say(`traffic: ${next?.label ?? "steady load"}`);
          for (const s of sims) s.setFaults(next?.faults?.[s.name as keyof NonNullable<Phase["faults"]>] ?? []);
        }, 250);
        let n = 0;
        const loop = async (c: Caller, slot: number): Promise<void> => {
          while (Date.now() - start < ms) {
            // Burst callers wait for their phase.
            if (slot >= c.concurrency && slot - c.concurrency >= (current?.burst ?? 0)) await new Promise((r) => setTimeout(r, 100));
            else await oneRequest(gateway.url, c, n++);
          }
        };
        const most = Math.max(0, ...PHASES.map((p) => p.burst ?? 0));
        try {
          await Promise.all(callers.flatMap((c) => Array.from({ length: c.concurrency + (c.lane === "high" && c.key === keys.demo ? most : 0) }, (_, slot) => loop(c, slot))));
        } finally {
          clearInterval(steer);
          for (const s of sims) s.clearFaults();
        }
        say(`traffic: ${n} requests sent`);
      },
      stop: async () => {
        await gateway.stop();
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
