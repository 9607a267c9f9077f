/**
 * The indexed variable families: backends (AZURE_OPENAI_<FIELD>_N) and gateway clients (GATEWAY_CLIENT_<FIELD>_N).
 * Both run from 0 without gaps; every problem (gap, duplicate spelling, missing field, unknown field, bad value,
 * duplicate name or key) is reported at once.
 */
import { consumerSchema } from "../plugins/azure-openai-auth/schema.ts";
import { entraSchema } from "../plugins/azure-openai-dynamic/entra-schema.ts";
import { EnvReader, parseEndpoint, type ParsedEndpoint } from "./env-values.ts";

export interface Backend {
  index: number;
  name: string;
  endpoint: ParsedEndpoint;
  weight: number;
  priority: number;
  /** Client deployment/model name → this backend's deployment name. */
  deployments?: Record<string, string>;
  /** api-key: the key in an `api-key` header; entra: a Bearer token of the gateway's managed identity. */
  auth: AuthMode;
  /** api-key only: name of the variable holding the backend's api-key (the value lives in Secrets). */
  keyRef?: string;
  /** entra only: client id of the user-assigned identity to get tokens for; absent: the system-assigned one. */
  clientId?: string;
  /** The priority lanes whose API routes list this backend (AZURE_OPENAI_LANES_N; both by default). */
  lanes: Lane[];
}

export interface Client {
  index: number;
  name: string;
  keyRef: string;
  /** Overrides AI_RATE_LIMIT_HIGH_LIMIT for this client (GATEWAY_CLIENT_TOKEN_LIMIT_N). */
  tokenLimit?: number;
  /** Overrides AI_RATE_LIMIT_LOW_LIMIT for this client (GATEWAY_CLIENT_LOW_TOKEN_LIMIT_N). */
  lowTokenLimit?: number;
}

export const BACKEND_PREFIX = "AZURE_OPENAI_";
export const BACKEND_FIELDS = ["ENDPOINT", "KEY", "NAME", "WEIGHT", "PRIORITY", "DEPLOYMENTS", "AUTH_MODE", "MSI_CLIENT_ID", "LANES"] as const;
export const LANES = ["high", "low"] as const;
export type Lane = (typeof LANES)[number];
export const AUTH_MODES = ["api-key", "entra"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
/** Client ids for Entra ID backends without their own AZURE_OPENAI_MSI_CLIENT_ID_N, first set wins. */
export const ENTRA_CLIENT_ID_VARIABLES = ["AZURE_OPENAI_MSI_CLIENT_ID", "AZURE_CLIENT_ID"] as const;
export const CLIENT_PREFIX = "GATEWAY_CLIENT_";
export const CLIENT_FIELDS = ["NAME", "KEY", "TOKEN_LIMIT", "LOW_TOKEN_LIMIT"] as const;

/** Indexed settings of the original accelerator that Spillway does not implement, with what to do instead. */
const UNSUPPORTED_FIELDS: Record<string, string> = {
  TOKEN_RESOURCE: "Entra ID backends always get tokens for https://cognitiveservices.azure.com (Azure OpenAI and AI Foundry); remove it",
};
const GUID = new RegExp(entraSchema.properties.client_id.pattern);

const BACKEND_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** APISIX's consumer username rule (schema_def.lua `consumer.username`). */
const CLIENT_NAME = /^[A-Za-z0-9_-]{1,100}$/;
const ALIAS_PART = /^[A-Za-z0-9._:-]+$/;
const CLIENT_KEY_MIN = consumerSchema.properties.key.minLength;

type Group<F extends string> = Map<number, Partial<Record<F, { variable: string; value: string }>>>;

function collect<F extends string>(r: EnvReader, prefix: string, fields: readonly F[], label: string): Group<F> {
  const pattern = new RegExp(`^${prefix}(.+)_(\\d+)$`);
  const groups: Group<F> = new Map();
  for (const variable of Object.keys(r.env).sort()) {
    const m = pattern.exec(variable);
    if (!m) continue;
    const value = r.raw(variable);
    if (value === undefined) continue;
    const field = m[1]!;
    const index = Number(m[2]);
    if (!(fields as readonly string[]).includes(field)) {
      const hint = UNSUPPORTED_FIELDS[field] ?? `the ${label} settings are ${fields.map((f) => `${prefix}${f}_N`).join(", ")}`;
      r.problems.add(variable, `is not a Spillway setting; ${hint}`);
      continue;
    }
    const canonical = `${prefix}${field}_${index}`;
    if (m[2] !== String(index)) {
      r.problems.add(variable, `write the index without leading zeros, as ${canonical}`);
    }
    const group: Partial<Record<F, { variable: string; value: string }>> = groups.get(index) ?? {};
    const seen = group[field as F];
    if (seen) {
      r.problems.add(variable, `duplicates ${seen.variable} (both set ${field} of ${label} ${index}); keep only ${canonical}`);
      continue;
    }
    group[field as F] = { variable, value };
    groups.set(index, group);
  }
  const indexes = [...groups.keys()].sort((a, b) => a - b);
  const last = indexes.at(-1);
  if (last !== undefined) {
    for (let i = 0; i < last; i++) {
      if (!groups.has(i)) {
        r.problems.add(
          `${prefix}*_${i}`,
          `missing, but ${label} ${last} is set; ${label} indexes run 0, 1, 2, … without gaps — add ${label} ${i} or renumber the ones after it`,
        );
      }
    }
  }
  return groups;
}

function required<F extends string>(r: EnvReader, group: Partial<Record<F, { value: string }>>, prefix: string, field: F, index: number, what: string): string | undefined {
  const entry = group[field];
  if (entry) return entry.value;
  r.problems.add(`${prefix}${field}_${index}`, `missing; ${what}`);
  return undefined;
}

function parseAliases(r: EnvReader, variable: string, value: string): Record<string, string> | undefined {
  const map: Record<string, string> = {};
  let ok = true;
  for (const pair of value.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const [from, to, extra] = pair.split("=").map((s) => s.trim());
    if (!from || !to || extra !== undefined || !ALIAS_PART.test(from) || !ALIAS_PART.test(to)) {
      r.problems.add(variable, `"${pair}" is not client-name=deployment; write e.g. gpt-4o=gpt-4o-eu,text-embedding-3-small=emb`);
      ok = false;
      continue;
    }
    if (from in map) {
      r.problems.add(variable, `maps "${from}" twice; keep one entry`);
      ok = false;
      continue;
    }
    map[from] = to;
  }
  return ok && Object.keys(map).length > 0 ? map : undefined;
}

/** AZURE_OPENAI_LANES_N: a comma list of high and low, any order and case, spaces ignored. */
function parseLanes(r: EnvReader, variable: string, value: string): Lane[] | undefined {
  const parts = value.split(",").map((p) => p.trim().toLowerCase());
  if (!parts.every((p) => (LANES as readonly string[]).includes(p)) || new Set(parts).size !== parts.length) {
    r.problems.add(variable, "must be high,low (both lanes, the default), high or low");
    return undefined;
  }
  return LANES.filter((lane) => parts.includes(lane));
}

/** Each lane needs a backend, else every request of that lane would fail; checked over all configured indexes. */
function checkLanesServed(r: EnvReader, lanesByIndex: Map<number, Lane[]>): void {
  for (const lane of LANES) {
    if ([...lanesByIndex.values()].some((lanes) => lanes.includes(lane))) continue;
    const first = Math.min(...lanesByIndex.keys());
    r.problems.add(
      `${BACKEND_PREFIX}LANES_${first}`,
      `no backend serves the ${lane} lane (every ${BACKEND_PREFIX}LANES_N leaves it out); let at least one serve it, e.g. ${BACKEND_PREFIX}LANES_${first}=high,low`,
    );
  }
}

function checkSecretShape(r: EnvReader, variable: string, value: string): void {
  if (/\s/.test(value)) r.problems.add(variable, "contains whitespace; keys travel in HTTP headers — copy the key again without spaces");
  if (value.includes("${{")) r.problems.add(variable, "contains ${{, which APISIX would treat as an environment reference; use another key");
}

type BackendGroup = Partial<Record<(typeof BACKEND_FIELDS)[number], { variable: string; value: string }>>;

/** AZURE_OPENAI_AUTH_MODE_N, or the default: api-key when the backend has a key, else entra. */
function authMode(r: EnvReader, g: BackendGroup, index: number): AuthMode {
  const modeVar = `${BACKEND_PREFIX}AUTH_MODE_${index}`;
  const keyVar = `${BACKEND_PREFIX}KEY_${index}`;
  const explicit = g.AUTH_MODE ? r.oneOf(modeVar, AUTH_MODES) : undefined;
  const mode = explicit ?? (g.KEY ? "api-key" : "entra");
  if (mode === "entra" && g.KEY) {
    r.problems.warn(keyVar, `is ignored: ${modeVar}=entra, so the gateway sends its managed identity's token; remove the key (a keyless gateway holds none)`);
  }
  if (mode === "api-key" && g.MSI_CLIENT_ID) {
    r.problems.warn(g.MSI_CLIENT_ID.variable, `is ignored: backend ${index} authenticates with its api-key (${keyVar}); remove it, or set ${modeVar}=entra`);
  }
  return mode;
}

/**
 * The identity an Entra ID backend gets tokens for: AZURE_OPENAI_MSI_CLIENT_ID_N, else AZURE_OPENAI_MSI_CLIENT_ID,
 * else AZURE_CLIENT_ID (the one the renderer's own Azure calls use), else none (the system-assigned identity).
 * A shared variable's problem is reported once.
 */
function entraClientId(r: EnvReader, g: BackendGroup, index: number, reported: Set<string>): string | undefined {
  let variable = `${BACKEND_PREFIX}MSI_CLIENT_ID_${index}`;
  let value = g.MSI_CLIENT_ID?.value;
  for (const shared of ENTRA_CLIENT_ID_VARIABLES) {
    if (value !== undefined) break;
    variable = shared;
    value = r.string(shared);
  }
  if (value === undefined) return undefined;
  if (!GUID.test(value)) {
    if (!reported.has(variable)) {
      r.problems.add(variable, `is not a client id; backend ${index} uses Entra ID and needs the client id (a GUID, e.g. from \`az identity show --query clientId\`) of a user-assigned managed identity, or nothing for the system-assigned one`);
    }
    reported.add(variable);
    return undefined;
  }
  return value;
}

export function readBackends(r: EnvReader, allowHttp: boolean, secrets: Record<string, string>): Backend[] {
  const groups = collect(r, BACKEND_PREFIX, BACKEND_FIELDS, "backend");
  if (groups.size === 0) {
    r.problems.add(`${BACKEND_PREFIX}ENDPOINT_0`, "no backend configured; set AZURE_OPENAI_ENDPOINT_0 and AZURE_OPENAI_KEY_0, or AZURE_OPENAI_AUTH_MODE_0=entra (more with _1, _2, …)");
    return [];
  }
  const backends: Backend[] = [];
  const names = new Map<string, string>();
  const clientIdProblems = new Set<string>();
  const lanesByIndex = new Map<number, Lane[]>();
  for (const [index, g] of [...groups].sort((a, b) => a[0] - b[0])) {
    const endpointValue = required(r, g, BACKEND_PREFIX, "ENDPOINT", index, "set the backend's URL, e.g. https://<resource>.openai.azure.com");
    const mode = authMode(r, g, index);
    const key = mode === "api-key"
      ? required(r, g, BACKEND_PREFIX, "KEY", index, `${BACKEND_PREFIX}AUTH_MODE_${index}=api-key needs the backend's api-key (Azure portal → Keys and Endpoint)`)
      : undefined;
    const endpoint = endpointValue === undefined ? undefined : parseEndpoint(`${BACKEND_PREFIX}ENDPOINT_${index}`, endpointValue, allowHttp, r.problems);
    const nameVar = `${BACKEND_PREFIX}NAME_${index}`;
    const name = r.string(nameVar, `backend-${index}`);
    if (!BACKEND_NAME.test(name)) {
      r.problems.add(nameVar, "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
    } else if (names.has(name)) {
      r.problems.add(nameVar, `repeats the backend name "${name}" of ${names.get(name)}; backend names must be unique`);
    } else {
      names.set(name, nameVar);
    }
    const weight = r.int(`${BACKEND_PREFIX}WEIGHT_${index}`, { fallback: 1, min: 0 });
    const priority = r.int(`${BACKEND_PREFIX}PRIORITY_${index}`, { fallback: 0 });
    const aliasVar = `${BACKEND_PREFIX}DEPLOYMENTS_${index}`;
    const aliases = g.DEPLOYMENTS ? parseAliases(r, aliasVar, g.DEPLOYMENTS.value) : undefined;
    const keyRef = `${BACKEND_PREFIX}KEY_${index}`;
    if (key !== undefined) {
      checkSecretShape(r, keyRef, key);
      secrets[keyRef] = key;
    }
    const extra = aliases ? { deployments: aliases } : {};
    const clientId = mode === "entra" ? entraClientId(r, g, index, clientIdProblems) : undefined;
    const lanes = (g.LANES ? parseLanes(r, `${BACKEND_PREFIX}LANES_${index}`, g.LANES.value) : undefined) ?? [...LANES];
    lanesByIndex.set(index, lanes);
    if (mode === "api-key" && endpoint && key !== undefined) {
      backends.push({ index, name, endpoint, weight, priority, auth: mode, keyRef, ...extra, lanes });
    }
    if (mode === "entra" && endpoint) {
      backends.push({ index, name, endpoint, weight, priority, auth: mode, ...(clientId !== undefined ? { clientId } : {}), ...extra, lanes });
    }
  }
  checkLanesServed(r, lanesByIndex);
  return backends;
}

export function readClients(r: EnvReader, secrets: Record<string, string>): Client[] {
  const groups = collect(r, CLIENT_PREFIX, CLIENT_FIELDS, "client");
  const clients: Client[] = [];
  const names = new Map<string, string>();
  const keys = new Map<string, string>();
  for (const [index, g] of [...groups].sort((a, b) => a[0] - b[0])) {
    const name = required(r, g, CLIENT_PREFIX, "NAME", index, "set the client's name (letters, digits, '_' or '-'), used in logs and limits");
    const key = required(r, g, CLIENT_PREFIX, "KEY", index, "set the key this client sends, e.g. from `openssl rand -hex 24`");
    const nameVar = `${CLIENT_PREFIX}NAME_${index}`;
    const keyRef = `${CLIENT_PREFIX}KEY_${index}`;
    if (name !== undefined) {
      if (!CLIENT_NAME.test(name)) r.problems.add(nameVar, "must be 1-100 letters, digits, '_' or '-' (APISIX consumer name rule)");
      else if (names.has(name)) r.problems.add(nameVar, `repeats the client name "${name}" of ${names.get(name)}; client names must be unique`);
      else names.set(name, nameVar);
    }
    if (key !== undefined) {
      if (key.length < CLIENT_KEY_MIN) {
        r.problems.add(keyRef, `is shorter than ${CLIENT_KEY_MIN} characters; generate a longer key, e.g. \`openssl rand -hex 24\``);
      }
      checkSecretShape(r, keyRef, key);
      if (keys.has(key)) r.problems.add(keyRef, `has the same key as ${keys.get(key)}; every client needs its own key`);
      else keys.set(key, keyRef);
      secrets[keyRef] = key;
    }
    // Whether rate limiting lets an override apply is checked in ./settings.ts, once the rate-limit settings are read.
    const tokenLimit = r.int(`${CLIENT_PREFIX}TOKEN_LIMIT_${index}`, { min: 1 });
    const lowTokenLimit = r.int(`${CLIENT_PREFIX}LOW_TOKEN_LIMIT_${index}`, { min: 1 });
    const limits = { ...(tokenLimit !== undefined ? { tokenLimit } : {}), ...(lowTokenLimit !== undefined ? { lowTokenLimit } : {}) };
    if (name !== undefined && key !== undefined) clients.push({ index, name, keyRef, ...limits });
  }
  return clients;
}
