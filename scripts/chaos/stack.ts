/**
 * Everything a chaos run starts, on 127.0.0.1, and stops again: Redis (when installed), three simulators, the
 * `spillway render --watch` process and real APISIX with 2 workers. Keys are fake and new every run; the run knows
 * them all, so it can look for them anywhere they must not be.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EnvironmentError, InternalError } from "../../lib/errors.ts";
import { processEnv } from "../../renderer/settings.ts";
import { apisixSource, locateApisix } from "../bench/apisix-home.ts";
import { repoRoot } from "../lib/pins.ts";
import { DEPLOYMENT, startBackends, type Backend } from "./backends.ts";
import { WRONG_KEY } from "./bad-input.ts";
import { WARMUP_ID } from "./checks.ts";
import { WORKERS, gatewayEnv, loopbackListenEnv, renderedConfigYaml, startGateway, startWatcher, writeEnvFile, type Client, type Gateway, type Watcher } from "./gateway.ts";
import type { ChaosPlan } from "./options.ts";
import { rawRequest } from "./raw-client.ts";
import { hasRedisServer, startRedis, type Redis } from "./redis.ts";
import { judgeChat } from "./verdict.ts";

const BACKEND_NAMES = ["east", "west", "north"] as const;
const WARMUP_REQUESTS = 12;

export interface Stack {
  home: string;
  dir: string;
  redis?: Redis;
  backends: Backend[];
  clients: Client[];
  watcher: Watcher;
  gateway: Gateway;
  /** label → value of every key of the run. */
  secrets: ReadonlyMap<string, string>;
  clientSecrets: ReadonlyMap<string, string>;
  /** Rewrites the env file the watcher reads with backend `index` renamed; returns the new name. */
  renameBackend: (index: number) => string;
  /** A backend name the gateway reports (as first configured, or renamed) → its simulator's name. */
  simulatorOf: (backend: string) => string | undefined;
  notes: string[];
}

function fakeKey(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString("hex")}`;
}

export async function stopStack(s: Partial<Stack> & { dir: string }, keepLogs: boolean): Promise<void> {
  await s.gateway?.stop().catch(() => undefined);
  await Promise.allSettled([s.watcher?.stop(), s.redis?.stop(), ...(s.backends ?? []).map((b) => b.shutdown())]);
  rmSync(s.dir, { recursive: true, force: true });
  if (!keepLogs && s.gateway !== undefined) rmSync(s.gateway.dir, { recursive: true, force: true });
}

/** The bench's choice of APISIX (APISIX_HOME, else the apisix-lab), with the chaos run's own message when there is none. */
async function apisixHome(say: (line: string) => void): Promise<string> {
  const env = processEnv();
  const source = apisixSource(env, (kit) => existsSync(path.join(kit, "build.sh")));
  if (source.kind === "none") {
    throw new EnvironmentError(
      `spillway chaos runs on real Apache APISIX 3.18, and none is here: APISIX_HOME is not set and there is no apisix-lab kit at ${source.kit}. ` +
        "Set APISIX_HOME to an APISIX 3.18 install (with the kit: `export APISIX_HOME=$(bash scripts/apisix-lab.sh)`).",
    );
  }
  return locateApisix(env, say);
}

export async function startStack(plan: ChaosPlan, say: (line: string) => void): Promise<Stack> {
  const home = await apisixHome(say);
  if (plan.build) await (await import("../start/gateway.ts")).buildLua();
  if (!existsSync(path.join(repoRoot, "build/lua/spillway/hook.lua"))) throw new EnvironmentError("build/lua is missing: run `npm run build` (or pass --build) first");
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-chaos-"));
  chmodSync(dir, 0o755); // the watcher runs as the workers' user (gateway.ts)
  const partial: Partial<Stack> & { dir: string } = { dir, notes: [] };
  try {
    if (plan.redis && hasRedisServer()) partial.redis = await startRedis();
    else if (plan.redis) partial.notes!.push("Redis phase not run: redis-server is not installed (scripts/setup.sh installs it)");
    const specs = BACKEND_NAMES.map((name) => ({ name, apiKey: fakeKey(`sim-${name}`), streamIntervalMs: 10, baseMs: 5 }));
    partial.backends = await startBackends(specs, dir);
    const clients: Client[] = [{ name: "alice", key: fakeKey("client-alice") }, { name: "bob", key: fakeKey("client-bob") }];
    const listen = await loopbackListenEnv();
    const envInput = { backends: partial.backends, clients, redisPort: partial.redis?.port };
    const env = gatewayEnv(envInput, listen);
    const envFile = path.join(dir, "chaos.env");
    const renderedDir = path.join(dir, "rendered");
    mkdirSync(renderedDir);
    writeEnvFile(envFile, env);
    partial.watcher = await startWatcher(envFile, renderedDir);
    partial.gateway = await startGateway(home, renderedConfigYaml(env), renderedDir, listen.SPILLWAY_LISTEN_PORT!);
    say(`chaos: APISIX serving on ${partial.gateway.url} with ${WORKERS} workers (${partial.gateway.workerPids().join(", ")}); instance ${partial.gateway.dir}`);
    const clientSecrets = new Map(clients.map((c) => [`client key ${c.name}`, c.key] as [string, string]));
    const names: string[] = [...BACKEND_NAMES];
    const simulators = new Map<string, string>(BACKEND_NAMES.map((n) => [n, n]));
    return {
      ...partial,
      home,
      backends: partial.backends,
      clients,
      watcher: partial.watcher,
      gateway: partial.gateway,
      secrets: new Map([...specs.map((s) => [`backend key ${s.name}`, s.apiKey] as [string, string]), ...clientSecrets, ["the wrong key a client presented", WRONG_KEY]]),
      clientSecrets,
      renameBackend: (index) => {
        names[index] = `${BACKEND_NAMES[index]}-renamed`;
        simulators.set(names[index]!, BACKEND_NAMES[index]!);
        writeEnvFile(envFile, gatewayEnv({ ...envInput, names }, listen));
        return names[index]!;
      },
      simulatorOf: (backend) => simulators.get(backend),
      notes: partial.notes!,
    };
  } catch (err) {
    await stopStack(partial, false);
    throw err;
  }
}

/** A few plain requests must each get a complete answer before any fault; otherwise the setup is wrong. */
export async function warmUp(stack: Stack, maxTokens: number): Promise<void> {
  for (let i = 0; i < WARMUP_REQUESTS; i++) {
    const stream = i % 2 === 1;
    const body = JSON.stringify({ model: DEPLOYMENT, messages: [{ role: "user", content: "warm-up" }], max_tokens: maxTokens, ...(stream ? { stream: true } : {}) });
    const headers = { "x-chaos-id": `${WARMUP_ID}${i}`, "api-key": stack.clients[0]!.key, "content-type": "application/json", connection: "close" };
    const r = await rawRequest({ url: `${stack.gateway.url}/openai/v1/chat/completions`, headers, body, deadlineMs: 15_000 });
    const v = judgeChat(r, stream, maxTokens);
    if (v.kind !== "answer") throw new InternalError(`the gateway does not answer a plain ${stream ? "streamed " : ""}chat before any fault: ${JSON.stringify(v)}`);
  }
}
