/**
 * Writes an apisix.yaml (+ #END) and the config.yaml our plugins need (the hook that registers the provider, the
 * cooldown shared dict), for tests that drive the gateway directly rather than through a scenario suite.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { toApisixYaml } from "../rig/apisix-yaml.ts";
import type { SimulatorHandle } from "../../scripts/simulator/index.ts";

export const PROVIDER_CONFIG_YAML = {
  apisix: { lua_module_hook: "spillway.hook" },
  nginx_config: { http: { custom_lua_shared_dict: { "spillway-cooldown": "1m" } } },
};

/** ai-proxy-multi instances for simulators, first one highest priority. */
export function simulatorInstances(sims: SimulatorHandle[], apiKey: string): Record<string, unknown>[] {
  return sims.map((s, i) => ({
    name: s.name,
    provider: "azure-openai-dynamic",
    priority: 10 - i * 10,
    weight: 1,
    auth: { header: { "api-key": apiKey } },
    override: { endpoint: s.url },
  }));
}

export interface ProviderConfig {
  apisixYaml: string;
  configYaml: string;
  /** Removes the temp directory holding both files; call it after the gateways reading them have stopped. */
  cleanup(): void;
}

/** `configExtra`: top-level config.yaml sections added to PROVIDER_CONFIG_YAML's (e.g. plugin_attr). */
export function writeProviderConfig(apisix: Record<string, unknown>, configExtra: Record<string, unknown> = {}): ProviderConfig {
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-config-"));
  const apisixYaml = path.join(dir, "apisix.yaml");
  const configYaml = path.join(dir, "config.yaml");
  writeFileSync(apisixYaml, toApisixYaml(apisix));
  writeFileSync(configYaml, toApisixYaml({ ...PROVIDER_CONFIG_YAML, ...configExtra }, false));
  return { apisixYaml, configYaml, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
