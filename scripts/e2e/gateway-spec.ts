/**
 * What a scenario needs of the gateway, as the renderer's environment (docs/configuration.md): which simulators are
 * backends, with which priority, weight and deployment aliases, how many clients, and any other setting. Pure: the
 * local stack renders it for its own simulators; `--print-env` prints it for an operator deploying a gateway.
 */
import type { Role } from "./model.ts";

export interface BackendUse {
  role: Role;
  /** AZURE_OPENAI_PRIORITY_N: higher is tried first. */
  priority?: number;
  /** AZURE_OPENAI_WEIGHT_N within the priority tier. */
  weight?: number;
  /** AZURE_OPENAI_DEPLOYMENTS_N: client deployment → this backend's deployment. */
  aliases?: Record<string, string>;
}

export interface GatewaySpec {
  backends: BackendUse[];
  /** How many of the run's clients (GATEWAY_CLIENT_*_0, _1, _2) the scenario sends as. */
  clients: number;
  /** Other renderer settings: LOW_PRIORITY_RESERVE_TOKENS, ENABLE_AI_RATE_LIMIT, … */
  settings?: Record<string, string>;
}

export interface BackendAddress {
  url: string;
  key: string;
  /** AZURE_OPENAI_NAME_N: what x-gw-backend and the metrics call it. */
  name: string;
}

export interface ClientKey {
  name: string;
  key: string;
}

/** The renderer variables of one scenario's backends, clients and settings. */
export function scenarioEnv(spec: GatewaySpec, address: (role: Role) => BackendAddress, clients: readonly ClientKey[]): Record<string, string> {
  const env: Record<string, string> = {};
  spec.backends.forEach((b, i) => {
    const a = address(b.role);
    env[`AZURE_OPENAI_ENDPOINT_${i}`] = a.url;
    env[`AZURE_OPENAI_KEY_${i}`] = a.key;
    env[`AZURE_OPENAI_NAME_${i}`] = a.name;
    if (b.priority !== undefined) env[`AZURE_OPENAI_PRIORITY_${i}`] = String(b.priority);
    if (b.weight !== undefined) env[`AZURE_OPENAI_WEIGHT_${i}`] = String(b.weight);
    const aliases = Object.entries(b.aliases ?? {});
    if (aliases.length > 0) env[`AZURE_OPENAI_DEPLOYMENTS_${i}`] = aliases.map(([from, to]) => `${from}=${to}`).join(",");
  });
  clients.slice(0, spec.clients).forEach((c, i) => {
    env[`GATEWAY_CLIENT_NAME_${i}`] = c.name;
    env[`GATEWAY_CLIENT_KEY_${i}`] = c.key;
  });
  return { ...env, ...spec.settings };
}

/**
 * The same variables for a deployed gateway, as an env file: simulator addresses and keys as ${SIMULATOR_URL_<ROLE>}
 * and ${SIMULATOR_KEY_<ROLE>} references, client keys as ${GATEWAY_CLIENT_KEY_N}, backend names as the roles (the
 * scenarios expect x-gw-backend to name the role against a deployed gateway).
 */
export function printableEnv(spec: GatewaySpec): string {
  const role = (r: Role): BackendAddress => ({ url: `\${SIMULATOR_URL_${r.toUpperCase()}}`, key: `\${SIMULATOR_KEY_${r.toUpperCase()}}`, name: r });
  const clients = Array.from({ length: spec.clients }, (_, i) => ({ name: `\${GATEWAY_CLIENT_NAME_${i}}`, key: `\${GATEWAY_CLIENT_KEY_${i}}` }));
  const env = scenarioEnv(spec, role, clients);
  return `${Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n")}\n`;
}
