/**
 * `spillway e2e` arguments, flags and (against a deployed gateway) environment → the plan of one run. Pure: the
 * environment is passed in. Every problem with the environment is reported at once, each naming the variable.
 *
 * A deployed gateway (--gateway-url) is reached with the clients' keys GATEWAY_CLIENT_KEY_0..2 (names
 * GATEWAY_CLIENT_NAME_0..2, which its metrics label), and its simulators' control APIs with
 * SIMULATOR_URL_<ROLE> and SIMULATOR_KEY_<ROLE> (ROLE: PTU1, PAYG1, PAYG2; SIMULATOR_API_KEY for all three when
 * they share one key). SPILLWAY_E2E_WORKERS: the nginx workers behind the URL, all replicas together (default 2).
 */
import { ConfigError, UsageError } from "../../lib/errors.ts";
import { METRICS_PATH, defaultMetricsUrl } from "../status/options.ts";
import type { ClientKey } from "./gateway-spec.ts";
import { ROLES, type LoadKind, type Role, type Scenario } from "./model.ts";
import { SCENARIOS } from "./scenarios/index.ts";

export interface E2eFlags {
  short?: boolean;
  long?: boolean;
  report?: string;
  gatewayUrl?: string;
  metricsUrl?: string;
  printEnv?: boolean;
  list?: boolean;
  build?: boolean;
  keepLogs?: boolean;
}

export interface RemotePlan {
  gatewayUrl: string;
  metricsUrl?: string;
  clients: ClientKey[];
  simulators: Record<Role, { url: string; key: string }>;
  workers: number;
}

export interface E2ePlan {
  scenarios: Scenario[];
  load: LoadKind;
  reportFile: string;
  build: boolean;
  keepLogs: boolean;
  /** Print each scenario's gateway settings (for a deployed gateway) and stop. */
  printEnv: boolean;
  /** List the scenarios and stop. */
  list: boolean;
  /** Absent: the local stack. */
  remote?: RemotePlan;
}

export const DEFAULT_REPORT = "e2e-report.html";
const MAX_CLIENTS = 3;
const DEFAULT_REMOTE_WORKERS = 2;

type Env = Readonly<Record<string, string | undefined>>;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function httpUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} must be an http:// or https:// URL (got "${text}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`${flag} must be an http:// or https:// URL (got "${text}")`);
  return url.href.replace(/\/+$/, "");
}

/** Scenario names → scenarios in the run's order; none named: all of them. Unknown names are a usage error. */
export function selectScenarios(names: readonly string[]): Scenario[] {
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) throw new UsageError(`unknown scenario${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")}; the scenarios are: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  return names.length === 0 ? [...SCENARIOS] : SCENARIOS.filter((s) => names.includes(s.name));
}

/** Roles and clients the chosen scenarios need (either load: both use the same backends). */
export function needs(scenarios: readonly Scenario[], load: LoadKind): { roles: Set<Role>; clients: number } {
  const roles = new Set<Role>();
  let clients = 0;
  for (const s of scenarios) {
    const spec = s.gateway(load);
    for (const b of spec.backends) roles.add(b.role);
    clients = Math.max(clients, spec.clients);
  }
  return { roles, clients };
}

/** The deployed gateway's side of the plan from the environment: every missing or bad variable at once. */
export function remoteFromEnv(gatewayUrl: string, metricsFlag: string | undefined, env: Env, scenarios: readonly Scenario[], load: LoadKind): RemotePlan {
  const problems: string[] = [];
  const { roles, clients: clientCount } = needs(scenarios, load);
  const clients: ClientKey[] = [];
  const namesNeeded = scenarios.some((s) => s.name === "usage-tracking");
  for (let i = 0; i < MAX_CLIENTS; i++) {
    const key = value(env, `GATEWAY_CLIENT_KEY_${i}`);
    const name = value(env, `GATEWAY_CLIENT_NAME_${i}`);
    if (key === undefined) {
      if (i < clientCount) problems.push(`GATEWAY_CLIENT_KEY_${i}: required (the chosen scenarios send as ${clientCount} client${clientCount > 1 ? "s" : ""}); the key of the gateway's client ${i}`);
      continue;
    }
    if (name === undefined && namesNeeded && i < clientCount) problems.push(`GATEWAY_CLIENT_NAME_${i}: required by usage-tracking (the gateway's metrics name clients); the name the gateway has for client ${i}`);
    clients.push({ name: name ?? `client-${i}`, key });
  }
  const simulators = {} as Record<Role, { url: string; key: string }>;
  for (const role of ROLES) {
    const upper = role.toUpperCase();
    const url = value(env, `SIMULATOR_URL_${upper}`);
    const key = value(env, `SIMULATOR_KEY_${upper}`) ?? value(env, "SIMULATOR_API_KEY");
    if (!roles.has(role)) {
      if (url !== undefined && key !== undefined) simulators[role] = { url: url.replace(/\/+$/, ""), key };
      continue;
    }
    if (url === undefined) problems.push(`SIMULATOR_URL_${upper}: required; the ${role} simulator's base URL (its control API /++/ is used)`);
    else if (!/^https?:\/\/[^/\s]+/.test(url)) problems.push(`SIMULATOR_URL_${upper}: must be an http:// or https:// URL`);
    if (key === undefined) problems.push(`SIMULATOR_KEY_${upper}: required (or SIMULATOR_API_KEY for all simulators); the ${role} simulator's api-key`);
    if (url !== undefined && key !== undefined) simulators[role] = { url: url.replace(/\/+$/, ""), key };
  }
  const workersText = value(env, "SPILLWAY_E2E_WORKERS");
  const workers = workersText === undefined ? DEFAULT_REMOTE_WORKERS : /^\d+$/.test(workersText) ? Number(workersText) : Number.NaN;
  if (!(workers >= 1 && workers <= 1024)) problems.push("SPILLWAY_E2E_WORKERS: must be a whole number from 1 to 1024 (nginx workers behind the URL, all replicas)");
  let metricsUrl: string | undefined;
  if (metricsFlag !== undefined) metricsUrl = httpUrl("--metrics-url", metricsFlag);
  else if (value(env, "SPILLWAY_METRICS_HOST") !== undefined) {
    try {
      metricsUrl = defaultMetricsUrl(env);
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) {
    const err = new ConfigError(problems);
    err.message = `spillway e2e --gateway-url needs ${problems.length} more setting${problems.length > 1 ? "s" : ""} (docs/e2e.md):\n${problems.map((p) => `  - ${p}`).join("\n")}`;
    throw err;
  }
  return { gatewayUrl, ...(metricsUrl !== undefined ? { metricsUrl } : {}), clients, simulators, workers };
}

export function planFromArgs(names: readonly string[], flags: E2eFlags, env: Env): E2ePlan {
  if (flags.short === true && flags.long === true) throw new UsageError("--short and --long exclude each other");
  const load: LoadKind = flags.long === true ? "long" : "short";
  const scenarios = selectScenarios(names);
  if (flags.metricsUrl !== undefined && flags.gatewayUrl === undefined) throw new UsageError(`--metrics-url is for --gateway-url (a local run scrapes its own gateway at ${METRICS_PATH})`);
  if (flags.report !== undefined && flags.report.trim() === "") throw new UsageError("--report needs a file name");
  const plan: E2ePlan = {
    scenarios,
    load,
    reportFile: flags.report ?? DEFAULT_REPORT,
    build: flags.build === true,
    keepLogs: flags.keepLogs === true,
    printEnv: flags.printEnv === true,
    list: flags.list === true,
  };
  if (flags.gatewayUrl !== undefined && !plan.printEnv && !plan.list) {
    if (flags.build === true || flags.keepLogs === true) throw new UsageError("--build and --keep-logs are for the local gateway, not --gateway-url");
    plan.remote = remoteFromEnv(httpUrl("--gateway-url", flags.gatewayUrl), flags.metricsUrl, env, scenarios, load);
  }
  return plan;
}
