/**
 * The gateway targets on real APISIX 3.18: one APISIX instance per target (apisix-instance.ts: its own folder, conf
 * and logs; the install is never written to), so each row's worker CPU, RSS, error log and cooldown dict are its own.
 *
 * Spillway's targets are what users run: `spillway render` (loadSettings + renderConfig) for two backends, its
 * config.yaml and apisix.yaml loaded unchanged but for free loopback ports and the control API off (fixed port 9090;
 * several instances run side by side). The stock targets run in an APISIX made from the same config.yaml minus
 * everything Spillway (our plugins, lua_module_hook, extra_lua_path, our shared dict), with the rendered chat route's
 * ai-proxy-multi conf (same balancer, timeouts, keep-alive, flush) but stock `openai-compatible` instances: like for
 * like except for Spillway.
 */
import { existsSync, readFileSync } from "node:fs";
import { parse, parseDocument } from "yaml";
import { EnvironmentError } from "../../lib/errors.ts";
import { PLUGIN_NAME as AUTH } from "../../plugins/azure-openai-auth/schema.ts";
import { PLUGIN_NAME as FAILOVER } from "../../plugins/spillway-failover/schema.ts";
import { HEADER, renderConfig, toYaml } from "../../renderer/render.ts";
import { API_ROUTES } from "../../renderer/routes.ts";
import { loadSettings } from "../../renderer/settings.ts";
import { createInstanceDir, removeInstanceDir, startInstance, type ApisixInstance } from "../start/apisix-instance.ts";
import { freePort } from "../start/ports.ts";
import { BENCH_URI, type Backends, type GatewayProcess, type GatewayRoute } from "./gateways.ts";
import { warnLines, workerPids } from "./proc.ts";

/** The rendered chat route: POST /openai/v1/chat/completions (and the deployments path). */
export const CHAT_ROUTE_ID = API_ROUTES.find((r) => r.name === "chat")!.id;
/** The simulator asks for 600 s; the default 120 s cap could end a skip row's cooldown inside a long run. */
const SKIP_MAX_COOLDOWN_MS = 900_000;
const START_TIMEOUT_MS = 60_000;

export interface InstancePorts {
  listen: number;
  metrics: number;
  status: number;
}

/** Whether the first backend (highest priority) is the throttled simulator: the 429 rows. */
export function throttledFirst(route: GatewayRoute): boolean {
  return route === "skip" || route === "hop" || route === "stock-hop";
}

export function isStock(route: GatewayRoute): boolean {
  return route === "stock" || route === "stock-prom" || route === "stock-hop";
}

/**
 * The environment `spillway render` reads for one target: two backends (the first one is tried first), no client
 * auth (stock has none: like for like), loopback ports, our build/lua, warn-level error log.
 */
export function renderEnv(route: GatewayRoute, b: Backends, ports: InstancePorts, workers: number, luaPath: string): Record<string, string> {
  const healthy = { name: "healthy", url: b.okUrl };
  const throttled = { name: "throttled", url: b.throttledUrl };
  const [first, second] = throttledFirst(route) ? [throttled, healthy] : [healthy, throttled];
  const env: Record<string, string> = {
    GATEWAY_REQUIRE_AUTH: "false",
    SPILLWAY_ALLOW_HTTP_BACKENDS: "true",
    APISIX_LOG_LEVEL: "warn",
    SPILLWAY_LISTEN_HOST: "127.0.0.1",
    SPILLWAY_LISTEN_PORT: String(ports.listen),
    SPILLWAY_METRICS_HOST: "127.0.0.1",
    SPILLWAY_METRICS_PORT: String(ports.metrics),
    SPILLWAY_STATUS_HOST: "127.0.0.1",
    SPILLWAY_STATUS_PORT: String(ports.status),
    SPILLWAY_LUA_PATH: luaPath,
    SPILLWAY_WORKER_PROCESSES: String(workers),
  };
  [first, second].forEach((backend, i) => {
    env[`AZURE_OPENAI_ENDPOINT_${i}`] = backend.url;
    env[`AZURE_OPENAI_KEY_${i}`] = b.apiKey;
    env[`AZURE_OPENAI_NAME_${i}`] = backend.name;
    env[`AZURE_OPENAI_PRIORITY_${i}`] = String(i === 0 ? 10 : 0);
  });
  if (route === "skip") env.SPILLWAY_COOLDOWN_MAX_MS = String(SKIP_MAX_COOLDOWN_MS);
  // Caps every cooldown at zero: each request calls the throttled backend and hops (config only, no code change).
  if (route === "hop") env.SPILLWAY_COOLDOWN_MAX_MS = "0";
  return env;
}

type Json = Record<string, unknown>;

function chatRoute(doc: Json): Json {
  const routes = (doc.routes ?? []) as Json[];
  const chat = routes.find((r) => r.id === CHAT_ROUTE_ID);
  if (chat === undefined) throw new EnvironmentError(`the rendered apisix.yaml has no route "${CHAT_ROUTE_ID}"`);
  return chat;
}

/** The rendered config.yaml with the control API off (its fixed 127.0.0.1:9090 would clash between instances). */
export function benchConfigYaml(rendered: string): string {
  const doc = parseDocument(rendered);
  doc.setIn(["apisix", "enable_control"], false);
  return doc.toString();
}

/** The same config.yaml without anything of Spillway's: what a stock APISIX with the same settings runs. */
export function stockConfigYaml(rendered: string): string {
  const doc = parseDocument(benchConfigYaml(rendered));
  doc.deleteIn(["apisix", "lua_module_hook"]);
  doc.deleteIn(["apisix", "extra_lua_path"]);
  doc.deleteIn(["nginx_config", "http", "custom_lua_shared_dict"]);
  const plugins = (doc.getIn(["plugins"]) as { toJSON(): string[] }).toJSON();
  doc.setIn(["plugins"], plugins.filter((p) => p !== AUTH && p !== FAILOVER));
  return `# generated by scripts/bench: the rendered config.yaml without Spillway (plugins, hook, Lua path, shared dict)\n${doc.toString()}`;
}

/** The rendered apisix.yaml with prometheus taken off the chat route (it stays in config.yaml's plugin list). */
export function withoutRoutePrometheus(renderedApisixYaml: string): string {
  const doc = parse(renderedApisixYaml) as Json;
  delete (chatRoute(doc).plugins as Json).prometheus;
  return `${HEADER}${toYaml(doc)}#END\n`;
}

/**
 * Rendered azure-openai-dynamic instances as stock openai-compatible ones: same name, priority, weight and key; the
 * endpoint is the full URL of `uri` on the instance's host, as openai-compatible expects.
 */
export function stockInstances(instances: Json[], uri: string): Json[] {
  return instances.map((i) => ({
    name: i.name,
    provider: "openai-compatible",
    priority: i.priority,
    weight: i.weight,
    auth: i.auth,
    override: { endpoint: `${(i.override as { endpoint: string }).endpoint.replace(/\/$/, "")}${uri}` },
  }));
}

/**
 * The stock route: the rendered chat route's ai-proxy-multi conf with each instance made a stock openai-compatible
 * one (same name, priority, weight and key; the endpoint is the full chat URL, as openai-compatible expects), and
 * prometheus on the route like the rendered one when `prometheus` is set.
 */
export function stockApisixYaml(renderedApisixYaml: string, prometheus: boolean): string {
  const chat = chatRoute(parse(renderedApisixYaml) as Json);
  const plugins = chat.plugins as Json;
  const multi = { ...(plugins["ai-proxy-multi"] as Json) };
  multi.instances = stockInstances(multi.instances as Json[], BENCH_URI);
  const route: Json = { id: "stock-chat", name: chat.name, methods: chat.methods, uris: [BENCH_URI], plugins: { "ai-proxy-multi": multi } };
  if (prometheus) (route.plugins as Json).prometheus = plugins.prometheus;
  return `# generated by scripts/bench: stock ai-proxy-multi, no Spillway plugin\n${toYaml({ routes: [route] })}#END\n`;
}

/** config.yaml and apisix.yaml of one target (pure: the same inputs give the same text). */
export function apisixTargetFiles(route: GatewayRoute, b: Backends, ports: InstancePorts, workers: number, luaPath: string): { configYaml: string; apisixYaml: string } {
  const { settings, secrets } = loadSettings(renderEnv(route, b, ports, workers, luaPath));
  const rendered = renderConfig(settings, secrets);
  if (isStock(route)) {
    return { configYaml: stockConfigYaml(rendered.configYaml), apisixYaml: stockApisixYaml(rendered.apisixYaml, route !== "stock") };
  }
  return {
    configYaml: benchConfigYaml(rendered.configYaml),
    apisixYaml: route === "gateway-noprom" ? withoutRoutePrometheus(rendered.apisixYaml) : rendered.apisixYaml,
  };
}

function readIfThere(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/** Until the listener answers (any status) and all `workers` serve, or the master is gone, or the timeout. */
async function waitServing(url: string, instance: ApisixInstance, workers: number): Promise<number[]> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const master = instance.masterPid()!;
  while (Date.now() < deadline) {
    const pids = workerPids(master);
    if (pids.length === workers) {
      try {
        await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
        return pids;
      } catch {
        // not listening yet
      }
    }
    if (!existsSync(`/proc/${master}`)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = warnLines(readIfThere(instance.errorLogPath)).slice(-8).join("\n");
  throw new EnvironmentError(`APISIX for this target did not serve with ${workers} worker(s) within ${START_TIMEOUT_MS / 1000} s${tail ? `; error log:\n${tail}` : ""}`);
}

export async function startApisixGateway(home: string, route: GatewayRoute, b: Backends, workers: number, luaPath: string): Promise<GatewayProcess> {
  const ports = { listen: await freePort(), metrics: await freePort(), status: await freePort() };
  const dir = createInstanceDir(home, apisixTargetFiles(route, b, ports, workers, luaPath));
  let instance: ApisixInstance | undefined;
  try {
    instance = await startInstance(home, dir);
    const url = `http://127.0.0.1:${ports.listen}`;
    const pids = await waitServing(url, instance, workers);
    const started = instance;
    return {
      route,
      url,
      workerPids: pids,
      errorLogPath: started.errorLogPath,
      async stop() {
        try {
          await started.stop();
        } finally {
          removeInstanceDir(dir);
        }
      },
    };
  } catch (err) {
    await instance?.stop().catch(() => undefined);
    removeInstanceDir(dir);
    throw new EnvironmentError(`APISIX for the "${route}" target did not start: ${(err as Error).message}`);
  }
}
