/**
 * TEST CODE. The config.yaml real APISIX 3.18.0 runs with in the rig: the caller's config.yaml (if any) with the
 * rig's requirements laid over it: standalone data plane on one loopback port, no admin/control/SSL listeners (the
 * container shares the host network), our Lua on extra_lua_path, the rig's access-log format, and a plugin list
 * that includes every plugin apisix.yaml uses (config.yaml `plugins:` replaces APISIX's default list).
 * plugin_attr.ai-proxy.http_client is left alone: the image carries apisix-runtime's FFI client.
 */
import { stringify } from "yaml";
import { readPath } from "./apisix-yaml.ts";
import { ACCESS_LOG_FORMAT } from "./gateway.ts";
import { SPILLWAY_LOG_VARIABLES } from "../../renderer/config-yaml.ts";

export interface ApisixConfigInput {
  base: Record<string, unknown>;
  apisix: Record<string, unknown>;
  port: number;
  /** Lua search patterns as the gateway process sees them ("/opt/spillway/lua/?.lua"). */
  luaPatterns: string[];
  luaModuleHook: string | undefined;
  workers: number;
  sharedDicts: Record<string, string>;
}

/** Plugin names used by routes, consumers and plugin_metadata of an apisix.yaml document. */
export function referencedPlugins(apisix: Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const kind of ["routes", "consumers", "services", "plugin_configs", "global_rules"]) {
    const items = apisix[kind];
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      const plugins = readPath(item, "plugins");
      if (plugins && typeof plugins === "object") for (const name of Object.keys(plugins)) names.add(name);
    }
  }
  const meta = apisix.plugin_metadata;
  if (Array.isArray(meta)) for (const m of meta) if (typeof readPath(m, "id") === "string") names.add(readPath(m, "id") as string);
  return [...names].sort();
}

function obj(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
}

export function renderApisixConfig(c: ApisixConfigInput): string {
  const base = c.base;
  const apisix = obj(base.apisix);
  apisix.node_listen = [{ ip: "127.0.0.1", port: c.port }];
  apisix.enable_admin = false;
  apisix.enable_control = false;
  apisix.enable_ipv6 = false;
  apisix.ssl = { ...obj(apisix.ssl), enable: false };
  const extra = typeof apisix.extra_lua_path === "string" && apisix.extra_lua_path !== "" ? [apisix.extra_lua_path] : [];
  apisix.extra_lua_path = [...c.luaPatterns, ...extra].join(";");
  if (c.luaModuleHook !== undefined) apisix.lua_module_hook = c.luaModuleHook;

  const nginxConfig = obj(base.nginx_config);
  nginxConfig.worker_processes = c.workers;
  // Spillway's access-log fields, named by ACCESS_LOG_FORMAT (a rendered config declares them too; twice is fine).
  const declared = SPILLWAY_LOG_VARIABLES.map((v) => `set $${v} '';`).join("\n");
  const snippet = nginxConfig.http_server_location_configuration_snippet;
  nginxConfig.http_server_location_configuration_snippet = typeof snippet === "string" && snippet !== "" ? `${snippet}\n${declared}` : declared;
  nginxConfig.error_log_level = nginxConfig.error_log_level ?? "info";
  const http = obj(nginxConfig.http);
  http.access_log_format = ACCESS_LOG_FORMAT;
  http.access_log_format_escape = "json";
  // APISIX's template always buffers the access log (16 KiB, flush=3 s); a line longer than the buffer is written
  // at once, so the suites see each request's entry when it ends instead of up to 3 s later.
  http.access_log_buffer = 1;
  http.custom_lua_shared_dict = { ...obj(http.custom_lua_shared_dict), ...c.sharedDicts };
  nginxConfig.http = http;

  const listed = Array.isArray(base.plugins) ? (base.plugins as string[]) : [];
  // prometheus always: 3.18's ai-proxy modules (which ours load) require its exporter, whose shared dict APISIX
  // declares only when prometheus is enabled (docs/configuration.md).
  const plugins = [...new Set([...listed, ...referencedPlugins(c.apisix), "prometheus"])];

  const pluginAttr = obj(base.plugin_attr);
  // The prometheus export server would bind 127.0.0.1:9091 on the shared host network.
  pluginAttr.prometheus = { ...obj(pluginAttr.prometheus), enable_export_server: false };

  const doc = {
    ...base,
    apisix,
    deployment: { role: "data_plane", role_data_plane: { config_provider: "yaml" } },
    nginx_config: nginxConfig,
    plugins,
    plugin_attr: pluginAttr,
  };
  return `# TEST CODE: rendered by tests/rig/apisix-config.ts for the real-APISIX rig.\n${stringify(doc, { version: "1.1" })}`;
}
