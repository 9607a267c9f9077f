/**
 * config.yaml for APISIX 3.18 in standalone (data-plane, yaml provider) mode. Keys follow conf/config.yaml.example
 * and apisix/cli/schema.lua at 3.18.0 (apisix-runtime-notes.md §8-§9).
 */
import { PLUGIN_NAME as AUTH } from "../plugins/azure-openai-auth/schema.ts";
import { PLUGIN_NAME as FAILOVER } from "../plugins/spillway-failover/schema.ts";
import type { Settings } from "./settings.ts";
import { errorPagesSnippet } from "./error-pages.ts";

/** Our lua_module_hook: registers the azure-openai-dynamic provider name and our wrappers. */
export const LUA_MODULE_HOOK = "spillway.hook";

/**
 * Shared dicts our plugins use; the failover plugin keeps per-backend cooldowns in `spillway-cooldown`, the provider
 * the Entra ID tokens of the gateway's managed identity in `spillway-identity` (a few tokens of ~2 KB each).
 */
export function sharedDicts(settings: Settings): Record<string, string> {
  const dicts: Record<string, string> = { "spillway-cooldown": settings.runtime.cooldownDictSize };
  if (usesEntra(settings)) dicts["spillway-identity"] = IDENTITY_DICT_SIZE;
  return dicts;
}

const IDENTITY_DICT_SIZE = "1m";

/**
 * The platform's managed-identity endpoint, which nginx workers see only through `env` directives. Read there at
 * run time rather than rendered into a file: IDENTITY_HEADER is a secret the platform sets per container. Like the
 * dict, only with an Entra ID backend: a first one that `--watch` brings in works fully after the next restart
 * (config.yaml is read only then; until it, that backend fails over).
 */
export const IDENTITY_ENV = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"] as const;

function usesEntra(settings: Settings): boolean {
  return settings.backends.some((b) => b.auth === "entra");
}

/**
 * The enabled plugin list REPLACES APISIX's default list: only what our routes use. mocking answers /healthz;
 * proxy-rewrite serves the E2E prefixes; opentelemetry only when telemetry is on.
 */
export function pluginList(settings: Settings): string[] {
  const list = [AUTH, "mocking", "ai-rate-limiting", FAILOVER, "ai-proxy-multi", "proxy-rewrite", "prometheus"];
  if (settings.telemetry) list.push("opentelemetry");
  return list;
}

/**
 * Spillway's own access-log fields, set by spillway-failover in the log phase (plugins/spillway-failover/access-log.ts):
 * declared in the location so that nginx knows them, empty on requests the plugin does not see (404s, health).
 */
export const SPILLWAY_LOG_VARIABLES = [
  "spillway_client", "spillway_lane", "spillway_operation", "spillway_deployment", "spillway_backend",
  "spillway_attempts", "spillway_total_ms", "spillway_stream_cut",
] as const;

/**
 * One JSON object per request; $uri rather than $request_uri so query strings (possible keys) stay out of logs.
 * `attempts` is a JSON array in a string: [{"backend","status","ms","reason"}, ...] (docs/observability.md).
 */
const ACCESS_LOG_FORMAT = [
  '"time":"$time_iso8601"', '"request_id":"$request_id"', '"remote_addr":"$remote_addr"', '"client":"$spillway_client"',
  '"lane":"$spillway_lane"', '"method":"$request_method"', '"uri":"$uri"', '"operation":"$spillway_operation"',
  '"deployment":"$spillway_deployment"', '"status":"$status"', '"backend":"$spillway_backend"',
  '"attempts":"$spillway_attempts"', '"bytes":"$body_bytes_sent"', '"duration_s":"$request_time"',
  '"total_ms":"$spillway_total_ms"', '"request_type":"$request_type"', '"model":"$llm_model"',
  '"prompt_tokens":"$llm_prompt_tokens"', '"completion_tokens":"$llm_completion_tokens"',
  '"ttft_ms":"$llm_time_to_first_token"', '"stream":"$llm_stream"', '"stream_cut":"$spillway_stream_cut"',
].join(",");

/** 3.18's ai-proxy modules load the prometheus exporter and fail without it; our metrics are exported by it. */
export const REQUIRED_PLUGINS = ["prometheus"] as const;

/** A plugin list the gateway cannot run with: the missing plugin, named. */
export function pluginListProblem(list: readonly string[]): string | undefined {
  for (const name of REQUIRED_PLUGINS) {
    if (!list.includes(name)) {
      return `the plugin list lacks "${name}": APISIX 3.18's ai-proxy modules load its exporter and fail without it, and Spillway's metrics are exported through it (docs/configuration.md)`;
    }
  }
  return undefined;
}

function checkedPluginList(settings: Settings): string[] {
  const list = pluginList(settings);
  const problem = pluginListProblem(list);
  if (problem !== undefined) throw new Error(`internal: ${problem}`);
  return list;
}

export function buildConfig(settings: Settings): Record<string, unknown> {
  const rt = settings.runtime;
  const pluginAttr: Record<string, unknown> = {
    prometheus: {
      export_uri: "/apisix/prometheus/metrics",
      enable_export_server: true,
      export_addr: { ip: rt.metricsHost, port: rt.metricsPort },
    },
  };
  // Only when asked: the default FFI client needs apisix-runtime, lua-resty-http runs on any OpenResty.
  if (rt.aiHttpClient !== undefined) pluginAttr["ai-proxy"] = { http_client: rt.aiHttpClient };
  return {
    apisix: {
      node_listen: [{ ip: rt.listenHost, port: rt.listenPort }],
      enable_admin: false,
      enable_server_tokens: false,
      extra_lua_path: `${rt.luaPath}/?.lua`,
      lua_module_hook: LUA_MODULE_HOOK,
      router: { http: "radixtree_uri_with_parameter" },
      status: { ip: rt.statusHost, port: rt.statusPort },
      ssl: { enable: false },
      // Nothing here is stored by APISIX (no Admin API, no etcd): field encryption would only try to decrypt our
      // plaintext keys on every load.
      data_encryption: { enable_encrypt_fields: false },
      // APISIX's request-lifecycle tracer, with telemetry only: spillway-failover opens a span per attempt on it,
      // which the opentelemetry plugin exports under the request's span.
      ...(settings.telemetry ? { tracing: true } : {}),
    },
    deployment: {
      role: "data_plane",
      role_data_plane: { config_provider: "yaml" },
    },
    nginx_config: {
      error_log: "/dev/stderr",
      error_log_level: settings.logLevel,
      worker_processes: rt.workerProcesses,
      http: {
        access_log: "/dev/stdout",
        access_log_format: `{${ACCESS_LOG_FORMAT}}`,
        access_log_format_escape: "json",
        custom_lua_shared_dict: sharedDicts(settings),
      },
      ...(usesEntra(settings) ? { envs: [...IDENTITY_ENV] } : {}),
      // nginx's own HTML error pages (a header too large, a malformed request, a Lua failure) as OpenAI JSON.
      http_server_configuration_snippet: errorPagesSnippet(),
      http_server_location_configuration_snippet: SPILLWAY_LOG_VARIABLES.map((v) => `set $${v} '';`).join("\n"),
    },
    plugins: checkedPluginList(settings),
    plugin_attr: pluginAttr,
  };
}
