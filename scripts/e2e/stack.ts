/**
 * Where the scenarios run. Both stacks give the same things: the gateway's URL, the clients' keys, the three
 * simulators' control APIs, the metrics URL when there is one, and `configure(spec)` for a scenario's settings.
 *
 * Local (the default): the chaos run's stack, reused — three simulators in child processes, `spillway render --watch`
 * over an env file, real APISIX 3.18 with 2 workers serving what it renders (scripts/chaos/gateway.ts). `configure`
 * rewrites the env file and waits until every worker has reloaded apisix.yaml: one gateway for the whole run, each
 * scenario on its own settings. Backend names carry the scenario's number (`ptu1-3`), so no state the gateway keeps
 * per backend (cooldowns, headroom, the preferred order) leaks from one scenario into the next.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseDocument } from "yaml";
import { ConfigError, EnvironmentError, InternalError } from "../../lib/errors.ts";
import { processEnv } from "../../renderer/settings.ts";
import { apisixSource, describeApisix, locateApisix } from "../bench/apisix-home.ts";
import { checkErrorLog, readAccessLog } from "../chaos/checks.ts";
import { WORKERS, gatewayEnv, loopbackListenEnv, renderedConfigYaml, startGateway, startWatcher, writeEnvFile, type Gateway, type Watcher } from "../chaos/gateway.ts";
import { repoRoot } from "../lib/pins.ts";
import { defaultMetricsUrl } from "../status/options.ts";
import { scenarioEnv, type ClientKey, type GatewaySpec } from "./gateway-spec.ts";
import { ROLES, type GatewayLogs, type Role } from "./model.ts";
import { startLocalSimulator, type LocalSimulator, type SimulatorControl } from "./simulators.ts";

export interface Stack {
  mode: "local" | "remote";
  gatewayUrl: string;
  /** The gateway's Prometheus endpoint, when this run can scrape it. */
  metricsUrl?: string;
  /** The three clients (GATEWAY_CLIENT_*_0..2); a scenario uses the first `spec.clients`. */
  clients: readonly ClientKey[];
  simulators: Readonly<Record<Role, SimulatorControl>>;
  /** nginx workers behind the URL (all replicas): APISIX round-robins per worker. */
  workers: number;
  /** How old the exposition may be: APISIX rebuilds it every refresh_interval seconds (15 by default). */
  metricsRefreshS: number;
  /** Lines for the report's header. */
  describe(): string[];
  /** Puts a scenario's settings in force; returns the name the gateway reports for each role. */
  configure(scenario: string, spec: GatewaySpec): Promise<(role: Role) => string>;
  /** Stops what the run started (once; later calls get the same answer); a local gateway's logs, read after its graceful stop. */
  stop(): Promise<GatewayLogs | undefined>;
}

/**
 * Cooldowns up to the plugin's own cap (the chaos run caps them at 30 s for its short phases): the breaker scenario
 * checks that a backend rests for the whole Retry-After the simulator names (up to 60 s). Per-attempt timeouts long
 * enough for the toolkit's 1 s generations on a busy 2-core machine.
 */
const E2E_OVERRIDES = {
  SPILLWAY_COOLDOWN_MAX_MS: "120000",
  SPILLWAY_FIRST_BYTE_TIMEOUT_MS: "15000",
  SPILLWAY_READ_TIMEOUT_MS: "15000",
} as const;
const RELOAD_TIMEOUT_MS = 15_000;
/**
 * After a worker logs the reload, its routes and consumers pick the new file up on their next sync, within 0.1 s
 * (apisix/core/config_yaml.lua `_automatic_fetch`); requests sent before that still see the old settings.
 */
const RELOAD_SETTLE_MS = 300;
/** The exposition rebuilt every second instead of 15 (docs/observability.md), so a scenario reads its own counts. */
export const LOCAL_METRICS_REFRESH_S = 1;
const RELOADED = /config file \S+ reloaded\./g;
const CLIENT_NAMES = ["subscription-one", "subscription-two", "subscription-three"] as const;
/** Every simulator as a backend: what the gateway starts with, before the first scenario configures it. */
const NEUTRAL: GatewaySpec = { backends: ROLES.map((role) => ({ role })), clients: CLIENT_NAMES.length };

function fakeKey(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString("hex")}`;
}

async function apisixHome(say: (line: string) => void): Promise<string> {
  const env = processEnv();
  const source = apisixSource(env, (kit) => existsSync(path.join(kit, "build.sh")));
  if (source.kind === "none") {
    throw new EnvironmentError(
      `spillway e2e runs locally on real Apache APISIX 3.18, and none is here: APISIX_HOME is not set and there is no apisix-lab kit at ${source.kit}. ` +
        "Set APISIX_HOME to an APISIX 3.18 install (with the kit: `export APISIX_HOME=$(bash scripts/apisix-lab.sh)`), or pass --gateway-url for a deployed gateway.",
    );
  }
  return locateApisix(env, say);
}

function reloads(errorLogPath: string): number {
  return existsSync(errorLogPath) ? (readFileSync(errorLogPath, "utf8").match(RELOADED) ?? []).length : 0;
}

/** The env the watcher renders for one scenario (pure but for the keys and ports the stack chose). */
export function localEnv(base: Record<string, string>, spec: GatewaySpec, sims: Record<Role, SimulatorControl>, clients: readonly ClientKey[], suffix: string): Record<string, string> {
  const address = (role: Role) => ({ url: sims[role].url, key: sims[role].key, name: `${role}${suffix}` });
  // Every client in every scenario: the consumers never change between scenarios, only backends and settings do.
  return { ...base, ...scenarioEnv({ ...spec, clients: clients.length }, address, clients) };
}

/**
 * The chaos run's config.yaml (control API off, pid and x-chaos-id in the access log) with one more change for
 * measuring: the Prometheus exposition refreshed every LOCAL_METRICS_REFRESH_S.
 */
export function e2eConfigYaml(env: Record<string, string>): string {
  const doc = parseDocument(renderedConfigYaml(env));
  doc.setIn(["plugin_attr", "prometheus", "refresh_interval"], LOCAL_METRICS_REFRESH_S);
  return doc.toString();
}

export interface LocalStackOptions {
  build: boolean;
  keepLogs: boolean;
}

export async function startLocalStack(opts: LocalStackOptions, say: (line: string) => void): Promise<Stack> {
  const home = await apisixHome(say);
  if (opts.build) await (await import("../start/gateway.ts")).buildLua();
  if (!existsSync(path.join(repoRoot, "build/lua/spillway/hook.lua"))) throw new EnvironmentError("build/lua is missing: run `npm run build` (or pass --build) first");
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-e2e-"));
  chmodSync(dir, 0o755); // the watcher runs as the workers' user (chaos/gateway.ts)
  const started: { sims: LocalSimulator[]; watcher?: Watcher; gateway?: Gateway } = { sims: [] };
  const cleanup = async (): Promise<void> => {
    await started.gateway?.stop().catch(() => undefined);
    await Promise.allSettled([started.watcher?.stop(), ...started.sims.map((s) => s.stop())]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const simKey = fakeKey("sim");
    // One at a time: each loads the tokenizer (~0.6 s of CPU) and the machine may have two cores.
    for (const role of ROLES) started.sims.push(await startLocalSimulator(role, simKey, dir));
    const sims = Object.fromEntries(started.sims.map((s) => [s.control.role, s.control])) as Record<Role, SimulatorControl>;
    const clients = CLIENT_NAMES.map((name) => ({ name, key: fakeKey(`client-${name}`) }));
    const listen = await loopbackListenEnv();
    const base = { ...gatewayEnv({ backends: [], clients: [], redisPort: undefined }, listen), ...E2E_OVERRIDES };
    const envFile = path.join(dir, "e2e.env");
    const renderedDir = path.join(dir, "rendered");
    mkdirSync(renderedDir);
    const first = localEnv(base, NEUTRAL, sims, clients, "");
    writeEnvFile(envFile, first);
    const watcher = (started.watcher = await startWatcher(envFile, renderedDir));
    const gateway = (started.gateway = await startGateway(home, e2eConfigYaml(first), renderedDir, listen.SPILLWAY_LISTEN_PORT!));
    say(`e2e: APISIX serving on ${gateway.url} with ${WORKERS} workers; instance ${gateway.dir}`);
    let rewrites = 0;
    let configured = 0;
    let stopped: Promise<GatewayLogs> | undefined;
    const stop = async (): Promise<GatewayLogs> => {
      await gateway.stop(); // a graceful quit flushes the buffered access log
      const access = existsSync(gateway.accessLogPath) ? readFileSync(gateway.accessLogPath, "utf8") : "";
      const errors = existsSync(gateway.errorLogPath) ? readFileSync(gateway.errorLogPath, "utf8") : "";
      const found = checkErrorLog(errors);
      started.gateway = undefined;
      await cleanup();
      if (!opts.keepLogs) rmSync(gateway.dir, { recursive: true, force: true });
      else say(`e2e: logs kept in ${gateway.dir}/logs`);
      return { linesById: readAccessLog(access).byId, luaErrors: found.luaErrors, errorKinds: found.errorKinds };
    };
    return {
      mode: "local",
      gatewayUrl: gateway.url,
      metricsUrl: defaultMetricsUrl(listen),
      clients,
      simulators: sims,
      workers: WORKERS,
      metricsRefreshS: LOCAL_METRICS_REFRESH_S,
      describe: () => [
        `gateway: ${describeApisix(home)}; ${WORKERS} workers; apisix.yaml rendered by \`spillway render --watch\` per scenario (auth on), metrics refreshed every ${LOCAL_METRICS_REFRESH_S} s; simulators ptu1, payg1, payg2 on loopback (the toolkit's deployments)`,
      ],
      async configure(scenario, spec) {
        const suffix = `-${++configured}`;
        const env = localEnv(base, spec, sims, clients, suffix);
        try {
          renderedConfigYaml(env); // the same check the watcher makes, with the problems named here
        } catch (err) {
          const detail = err instanceof ConfigError ? err.problems.join("; ") : err instanceof Error ? err.message : String(err);
          throw new InternalError(`scenario ${scenario} asks for settings the renderer refuses: ${detail}`);
        }
        const before = reloads(gateway.errorLogPath);
        writeEnvFile(envFile, env);
        await watcher.rewrites(++rewrites);
        const deadline = Date.now() + RELOAD_TIMEOUT_MS;
        while (reloads(gateway.errorLogPath) < before + WORKERS) {
          if (Date.now() > deadline) throw new EnvironmentError(`APISIX did not reload apisix.yaml for ${scenario} within ${RELOAD_TIMEOUT_MS / 1000} s`);
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, RELOAD_SETTLE_MS));
        return (role) => `${role}${suffix}`;
      },
      stop: () => (stopped ??= stop()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
