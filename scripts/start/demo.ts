/**
 * `spillway demo`: three Azure OpenAI simulators (the preferred one quickly throttled), a config rendered for
 * them, the gateway (Docker → APISIX_HOME → test stand-in), a burst of chat and streamed chat requests through the
 * official `openai` SDK, and a table of what happened. Every figure comes from response headers or simulator
 * counters; nothing is assumed.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { renderOnce } from "../../renderer/cli.ts";
import { processEnv } from "../../renderer/settings.ts";
import { UsageError } from "../../lib/errors.ts";
import type { SimulatorHandle } from "../simulator/index.ts";
import { loopbackListenEnv } from "./ports.ts";
import { buildLua, chooseGateway, launch, luaPathFor, STANDIN_BANNER, type Choice, type GatewayKind, type Launched } from "./gateway.ts";
import { printReport, type Outcome, type ReportInput } from "./demo-report.ts";

export interface DemoOptions {
  requests?: string;
  concurrency?: string;
  build?: boolean;
  /** Programmatic only (tests): where lines go, and the gateway to use instead of the launch order. */
  say?: (line: string) => void;
  gateway?: GatewayKind;
}

const DEPLOYMENT = "gpt-4o-mini";
/**
 * The preferred backend gets few requests per window (ceil(tpm/1000) per 10 s) so the burst throttles it. It also
 * answers its successes after `baseMs`: the gateway cools a backend as soon as a success reports
 * x-ratelimit-remaining-requests 0, so without that head start a loaded machine can send the first requests one
 * after another and the demo shows no 429 and no failover at all.
 */
export const DEMO_BACKENDS = [
  { name: "sim-eastus", priority: 10, tpm: 2_000, baseMs: 250, note: "preferred, quickly throttled" },
  { name: "sim-westus", priority: 5, tpm: 1_000_000, baseMs: 0, note: "spill-over" },
  { name: "sim-swedencentral", priority: 5, tpm: 1_000_000, baseMs: 0, note: "spill-over" },
] as const;

function positive(raw: string | undefined, fallback: number, flag: string, max: number): number {
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}`);
  return n;
}

async function one(client: OpenAI, i: number, stream: boolean): Promise<Outcome> {
  const started = Date.now();
  const messages = [{ role: "user" as const, content: `Request ${i}: say hello in five words.` }];
  try {
    if (stream) {
      const { data, response } = await client.chat.completions.create({ model: DEPLOYMENT, messages, max_tokens: 20, stream: true }).withResponse();
      let chunks = 0;
      for await (const _ of data) chunks++;
      return { stream, status: response.status, backend: response.headers.get("x-gw-backend"), attempts: response.headers.get("x-gw-attempts"), ms: Date.now() - started, chunks };
    }
    const { response } = await client.chat.completions.create({ model: DEPLOYMENT, messages, max_tokens: 20 }).withResponse();
    return { stream, status: response.status, backend: response.headers.get("x-gw-backend"), attempts: response.headers.get("x-gw-attempts"), ms: Date.now() - started };
  } catch (err) {
    const status = err instanceof OpenAI.APIError ? err.status ?? 0 : 0;
    const headers = err instanceof OpenAI.APIError ? err.headers : undefined;
    return {
      stream,
      status,
      backend: headers?.get("x-gw-backend") ?? null,
      attempts: headers?.get("x-gw-attempts") ?? null,
      ms: Date.now() - started,
      error: err instanceof Error ? err.message.split("\n")[0]! : String(err),
    };
  }
}

async function burst(client: OpenAI, total: number, concurrency: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(total);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      outcomes[i] = await one(client, i, i % 2 === 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return outcomes;
}

/** The renderer's backend variables for the demo's simulators (DEMO_BACKENDS, in order). */
export function demoBackendEnv(sims: readonly { url: string }[], apiKey: string): Record<string, string> {
  const env: Record<string, string> = {};
  DEMO_BACKENDS.forEach((b, i) => {
    env[`AZURE_OPENAI_ENDPOINT_${i}`] = sims[i]!.url;
    env[`AZURE_OPENAI_KEY_${i}`] = apiKey;
    env[`AZURE_OPENAI_NAME_${i}`] = b.name;
    env[`AZURE_OPENAI_PRIORITY_${i}`] = String(b.priority);
  });
  return env;
}

export async function runDemo(opts: DemoOptions): Promise<ReportInput> {
  const total = positive(opts.requests, 30, "--requests", 1000);
  const concurrency = positive(opts.concurrency, 3, "--concurrency", 64);
  const say = opts.say ?? ((line: string): void => void process.stdout.write(`${line}\n`));
  const choice: Choice = opts.gateway ? { kind: opts.gateway, apisixHome: processEnv().APISIX_HOME?.trim(), why: "chosen by the caller" } : chooseGateway(processEnv(), true);
  if (choice.kind === "apisix-home" && !choice.apisixHome) throw new UsageError("the local APISIX gateway needs APISIX_HOME");
  if (choice.kind === "standin") say(`\n${STANDIN_BANNER}\n(${choice.why})\n`);
  else say(`gateway: ${choice.why}`);
  if (opts.build !== false) await buildLua();

  const sim = await import("../simulator/index.ts");
  const apiKey = randomBytes(12).toString("hex");
  const clientKey = randomBytes(24).toString("hex");
  const sims: SimulatorHandle[] = await sim.startSimulators(
    DEMO_BACKENDS.map((b) => ({ name: b.name, apiKey, deployments: { [DEPLOYMENT]: { model: DEPLOYMENT, tpm: b.tpm } }, latency: { baseMs: b.baseMs, perTokenMs: 2, streamIntervalMs: 5 } })),
  );
  const workDir = mkdtempSync(path.join(tmpdir(), "spillway-demo-"));
  let gateway: Launched | undefined;
  try {
    const env: Record<string, string> = {
      GATEWAY_CLIENT_NAME_0: "demo",
      GATEWAY_CLIENT_KEY_0: clientKey,
      GATEWAY_LOG_MODE: "test",
      ...(await loopbackListenEnv()),
      SPILLWAY_LUA_PATH: luaPathFor(choice.kind),
    };
    Object.assign(env, demoBackendEnv(sims, apiKey));
    // Only the demo's own settings: the operator's AZURE_OPENAI_* must not leak into a demo.
    const { rendered, loaded } = await renderOnce({ processEnv: env });
    gateway = await launch({ choice, rendered, settings: loaded.settings, workDir, hostNetwork: true, say });
    say(`gateway up: ${gateway.label} at ${gateway.url}`);
    say(`sending ${total} requests (${concurrency} at a time): chat and streamed chat, openai SDK, retries off\n`);
    const client = new OpenAI({ baseURL: `${gateway.url}/openai/v1`, apiKey: clientKey, maxRetries: 0, timeout: 30_000 });
    const started = Date.now();
    const outcomes = await burst(client, total, concurrency);
    const report: ReportInput = {
      label: gateway.label,
      outcomes,
      elapsedMs: Date.now() - started,
      backends: DEMO_BACKENDS.map((b, i) => ({ ...b, stats: sims[i]!.stats() })),
    };
    printReport(say, report);
    const problems = outcomes.every((x) => x.status < 200 || x.status >= 300) ? gateway.problems?.() ?? [] : [];
    if (problems.length > 0) say(["", "gateway error log:", ...problems.map((l) => `  ${l}`)].join("\n"));
    if (choice.kind === "standin") say(`\n${STANDIN_BANNER}`);
    return report;
  } finally {
    await gateway?.stop();
    await sim.stopSimulators(sims);
    rmSync(workDir, { recursive: true, force: true });
  }
}
