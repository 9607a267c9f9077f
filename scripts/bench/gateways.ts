/**
 * --standin only. The routes under test, each on its own stand-in gateway (its own workers and cooldown dict):
 *   gateway  one azure-openai-dynamic backend, no failover possible
 *   skip     a primary that always answers 429 with a 10-minute retry-after, then the healthy backend: after the
 *            first request the primary is cooling and is skipped without a network call
 *   hop      the same pair with max_cooldown_ms 0, which caps every cooldown at zero: each request calls the
 *            primary, gets the 429 and hops to the healthy backend
 *   stock, stock-hop   the same two shapes with the stand-in's stock ai-proxy-multi + openai-compatible and no
 *            Spillway plugin (stock has no cooldown: with a throttled primary every request hops)
 * The gateway is the nginx stand-in of APISIX from tests/rig (test code), never the official APISIX runtime. The
 * default engine is real APISIX (apisix-gateways.ts); this module also holds what both engines share.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { EnvironmentError } from "../../lib/errors.ts";
import type { GatewayTarget } from "./options.ts";
import { readPidFile, workerPids } from "./proc.ts";

export const STANDIN_LABEL = "nginx stand-in of APISIX (test code), not the official APISIX runtime";
export const BENCH_URI = "/openai/v1/chat/completions";

/** Every gateway target (real APISIX has all of them; the stand-in has gateway, skip, hop, stock, stock-hop). */
export type GatewayRoute = GatewayTarget;

export interface Backends {
  apiKey: string;
  okUrl: string;
  throttledUrl: string;
}

/** One running gateway target, whichever the engine. */
export interface GatewayProcess {
  route: GatewayRoute;
  url: string;
  /** Its nginx workers: CPU and RSS are summed over them. */
  workerPids: number[];
  errorLogPath: string;
  stop(): Promise<void>;
}

const CONFIG_YAML = {
  apisix: { lua_module_hook: "spillway.hook" },
  nginx_config: { http: { custom_lua_shared_dict: { "spillway-cooldown": "1m" } } },
};

function instance(name: string, priority: number, url: string, apiKey: string, stock: boolean): Record<string, unknown> {
  return {
    name,
    provider: stock ? "openai-compatible" : "azure-openai-dynamic",
    priority,
    weight: 1,
    auth: { header: { "api-key": apiKey } },
    // openai-compatible sends to the endpoint's own path; ours keeps the client's Azure path on the base URL.
    override: { endpoint: stock ? `${url}${BENCH_URI}` : url },
  };
}

export type StandinRoute = Extract<GatewayRoute, "gateway" | "skip" | "hop" | "stock" | "stock-hop">;

/** The apisix.yaml route of one stand-in bench target (the shape of tests/scenarios/provider.ts). */
export function benchRoute(route: StandinRoute, b: Backends): Record<string, unknown> {
  const stock = route === "stock" || route === "stock-hop";
  const ok = instance("healthy", 0, b.okUrl, b.apiKey, stock);
  const pair = [instance("throttled", 10, b.throttledUrl, b.apiKey, stock), ok];
  const failover: Record<StandinRoute, Record<string, unknown> | undefined> = {
    gateway: {},
    // The simulator asks for 600 s; the default 120 s cap could end the cooldown inside a long run.
    skip: { max_cooldown_ms: 900_000 },
    hop: { max_cooldown_ms: 0 },
    stock: undefined,
    "stock-hop": undefined,
  };
  const aiProxyMulti = {
    fallback_strategy: ["http_429", "http_5xx"],
    timeout: 10_000,
    streaming_flush_interval_ms: 0,
    instances: route === "gateway" || route === "stock" ? [ok] : pair,
  };
  const spillway = failover[route];
  return {
    id: `bench-${route}`,
    uris: [BENCH_URI],
    plugins: spillway === undefined ? { "ai-proxy-multi": aiProxyMulti } : { "spillway-failover": spillway, "ai-proxy-multi": aiProxyMulti },
  };
}

function writeYaml(dir: string, route: StandinRoute, b: Backends): { apisixYaml: string; configYaml: string } {
  const sub = path.join(dir, `gw-${route}`);
  mkdirSync(sub, { recursive: true, mode: 0o700 });
  const apisixYaml = path.join(sub, "apisix.yaml");
  const configYaml = path.join(sub, "config.yaml");
  writeFileSync(apisixYaml, `${stringify({ routes: [benchRoute(route, b)] })}#END\n`, { mode: 0o600 });
  writeFileSync(configYaml, stringify(CONFIG_YAML), { mode: 0o600 });
  return { apisixYaml, configYaml };
}

type Rig = typeof import("../../tests/rig/nginx.ts");

/** The stand-in is test code (tests/rig), loaded only by `spillway bench --standin` and the demo. */
async function loadRig(): Promise<Rig> {
  try {
    return await import("../../tests/rig/nginx.ts");
  } catch (err) {
    throw new EnvironmentError(`the APISIX stand-in (tests/rig/nginx.ts) cannot be loaded: ${(err as Error).message}`);
  }
}

export function isStandinRoute(route: GatewayRoute): route is StandinRoute {
  return route === "gateway" || route === "skip" || route === "hop" || route === "stock" || route === "stock-hop";
}

export async function startStandinGateway(route: GatewayRoute, b: Backends, dir: string, workers: number): Promise<GatewayProcess> {
  if (!isStandinRoute(route)) throw new EnvironmentError(`the stand-in has no "${route}" row; it runs on real APISIX only`);
  const rig = await loadRig();
  const gw = await rig.startGateway({ ...writeYaml(dir, route, b), workers }).catch((err: unknown) => {
    throw new EnvironmentError(`the stand-in gateway for "${route}" did not start (npm run build done?): ${(err as Error).message}`);
  });
  const master = readPidFile(path.join(path.dirname(gw.errorLogPath), "nginx.pid"));
  const pids = master === undefined ? [] : workerPids(master);
  if (pids.length !== workers) {
    await gw.stop();
    throw new EnvironmentError(`the stand-in gateway for "${route}" should run ${workers} worker(s); found ${pids.length}`);
  }
  return { route, url: gw.url, workerPids: pids, errorLogPath: gw.errorLogPath, stop: () => gw.stop() };
}
