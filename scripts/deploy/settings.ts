/**
 * The config/appsettings.<env>.env + config/secrets.<env>.env convention, seen from the deploy CLI.
 * DEPLOY_* keys of the appsettings file steer the deployment; every other key goes to the gateway as a plain
 * setting. Every key of the secrets file becomes a Key Vault secret (GATEWAY_CLIENT_KEY_0 -> gateway-client-key-0).
 * Pure: parsed entries in, typed settings or a ConfigError listing every problem out.
 */
import { ConfigError } from "../../lib/errors.ts";

export interface DeploySettings {
  subscriptionId: string;
  location: string;
  workloadName: string;
  tags: Record<string, string>;
  privateNetworking: boolean;
  operatorIpRanges: string[];
  ingressExternal: boolean;
  ingressAllowedIps: string[];
  minReplicas: number;
  maxReplicas: number;
  httpConcurrency: number;
  gatewayCpu: number;
  redis: boolean;
  telemetry: boolean;
  foundryLocalAuth: boolean;
  keyVaultWatchSeconds: number;
}

export interface EnvConfig {
  env: string;
  deploy: DeploySettings;
  /** Gateway settings (appsettings without DEPLOY_*), sorted by key. */
  appSettings: Record<string, string>;
  /** Secrets by env var name. Values are never printed. */
  secrets: Record<string, string>;
}

type Parser = (raw: string, key: string, problems: string[]) => unknown;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IPV4 = String.raw`(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}`;
const IP_OR_CIDR = new RegExp(`^${IPV4}(?:/(?:3[0-2]|[12]?\\d))?$`);

const bool: Parser = (raw, key, problems) => {
  const v = raw.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  problems.push(`${key}=${raw}: expected true or false`);
  return undefined;
};

const int = (min: number, max: number): Parser => (raw, key, problems) => {
  const v = raw.trim();
  if (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max) return Number(v);
  problems.push(`${key}=${raw}: expected a whole number from ${min} to ${max}`);
  return undefined;
};

const list = (item: RegExp, what: string): Parser => (raw, key, problems) => {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const bad = items.filter((s) => !item.test(s));
  if (bad.length > 0) problems.push(`${key}: ${bad.join(", ")} is not ${what}`);
  return items;
};

const KNOWN: Record<string, { parse: Parser; help: string }> = {
  DEPLOY_SUBSCRIPTION_ID: {
    parse: (raw, key, problems) => (GUID.test(raw.trim()) ? raw.trim().toLowerCase() : void problems.push(`${key}=${raw}: expected a subscription GUID (az account show --query id -o tsv)`)),
    help: "subscription GUID (required)",
  },
  DEPLOY_LOCATION: {
    parse: (raw, key, problems) => (/^[a-z][a-z0-9]+$/.test(raw.trim()) ? raw.trim() : void problems.push(`${key}=${raw}: expected a region name such as swedencentral (az account list-locations -o table)`)),
    help: "Azure region (required)",
  },
  DEPLOY_WORKLOAD_NAME: {
    parse: (raw, key, problems) => (/^[a-z][a-z0-9]{1,9}$/.test(raw.trim()) ? raw.trim() : void problems.push(`${key}=${raw}: expected 2-10 lowercase letters or digits, starting with a letter`)),
    help: "name prefix, default spillway",
  },
  DEPLOY_TAGS: {
    parse: (raw, key, problems) => {
      const tags: Record<string, string> = {};
      for (const pair of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
        const eq = pair.indexOf("=");
        if (eq <= 0) problems.push(`${key}: "${pair}" is not key=value`);
        else tags[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
      }
      return tags;
    },
    help: "extra tags, key=value,key=value",
  },
  DEPLOY_PRIVATE_NETWORKING: { parse: bool, help: "true: VNet, private endpoints, Key Vault public access off" },
  DEPLOY_OPERATOR_IP_RANGES: { parse: list(IP_OR_CIDR, "an IPv4 address or CIDR"), help: "IPs allowed through the vault/state firewalls" },
  DEPLOY_INGRESS: {
    parse: (raw, key, problems) => {
      const v = raw.trim().toLowerCase();
      if (v === "external" || v === "internal") return v === "external";
      problems.push(`${key}=${raw}: expected external or internal`);
      return undefined;
    },
    help: "external (default) or internal",
  },
  DEPLOY_INGRESS_ALLOWED_IPS: { parse: list(new RegExp(`^${IPV4}/(?:3[0-2]|[12]?\\d)$`), "a CIDR such as 203.0.113.0/24"), help: "CIDRs allowed to call the gateway" },
  DEPLOY_MIN_REPLICAS: { parse: int(0, 300), help: "0 scales to zero" },
  DEPLOY_MAX_REPLICAS: { parse: int(1, 300), help: "upper bound of replicas" },
  DEPLOY_HTTP_CONCURRENCY: { parse: int(1, 1000), help: "concurrent requests per replica before scale-out" },
  DEPLOY_GATEWAY_CPU: {
    parse: (raw, key, problems) => {
      const v = Number(raw.trim());
      if ([0.5, 0.75, 1, 1.25, 1.5, 1.75].includes(v)) return v;
      problems.push(`${key}=${raw}: expected one of 0.5, 0.75, 1, 1.25, 1.5, 1.75`);
      return undefined;
    },
    help: "vCPU of the gateway container",
  },
  DEPLOY_REDIS: { parse: bool, help: "true: Redis app for multi-replica state" },
  DEPLOY_TELEMETRY: { parse: bool, help: "false: no OTel collector sidecar" },
  DEPLOY_KEY_VAULT_WATCH_SECONDS: {
    parse: (raw, key, problems) => {
      const v = raw.trim();
      if (/^\d+$/.test(v) && (Number(v) === 0 || (Number(v) >= 10 && Number(v) <= 3600))) return Number(v);
      problems.push(`${key}=${raw}: expected 0 (off) or seconds from 10 to 3600`);
      return undefined;
    },
    help: "re-read Key Vault every N seconds in the gateway (key rotation without a new revision)",
  },
  DEPLOY_FOUNDRY_LOCAL_AUTH: { parse: bool, help: "false: provisioned accounts take Entra ID only; no key is written, the gateway uses its backend identity's token" },
};

export const DEPLOY_KEYS = Object.keys(KNOWN);

/** Setting names that end like a secret but are not one. */
const NOT_SECRET = new Set(["LB_HASH_KEY"]);
const SECRET_LIKE = /(^|_)(PASSWORD|SECRET)$|_KEY(_\d+)?$|CONNECTION_STRING$/;

export function looksSecret(key: string): boolean {
  return !NOT_SECRET.has(key) && SECRET_LIKE.test(key);
}

/** GATEWAY_CLIENT_KEY_0 -> gateway-client-key-0 (Key Vault and Container Apps secret name). */
export function secretName(envKey: string): string {
  return envKey.toLowerCase().replace(/_/g, "-");
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function parseEnvConfig(
  env: string,
  appsettings: Record<string, string>,
  secrets: Record<string, string>,
  files = { appsettings: `config/appsettings.${env}.env`, secrets: `config/secrets.${env}.env` },
): EnvConfig {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9]{1,7}$/.test(env)) problems.push(`environment "${env}": expected 2-8 lowercase letters or digits starting with a letter (e.g. dev, prod)`);

  const parsed: Record<string, unknown> = {};
  const appSettings: Record<string, string> = {};
  for (const [key, raw] of Object.entries(appsettings)) {
    if (key.startsWith("DEPLOY_")) {
      const known = KNOWN[key];
      if (!known) problems.push(`${files.appsettings}: unknown setting ${key}; known: ${DEPLOY_KEYS.join(", ")}`);
      else if (raw.trim() !== "") parsed[key] = known.parse(raw, `${files.appsettings}: ${key}`, problems);
      continue;
    }
    if (raw === "") continue; // "" is unset
    if (looksSecret(key)) {
      problems.push(`${files.appsettings}: ${key} looks like a secret; move it to ${files.secrets} so it goes to Key Vault`);
      continue;
    }
    if (key in secrets) problems.push(`${key} is in both ${files.appsettings} and ${files.secrets}; keep it only in ${files.secrets}`);
    appSettings[key] = raw;
  }
  const required: Record<string, string> = {
    DEPLOY_SUBSCRIPTION_ID: "add DEPLOY_SUBSCRIPTION_ID=<id from `az account show --query id -o tsv`> (see docs/deploy.md)",
    DEPLOY_LOCATION: "add DEPLOY_LOCATION=<region>, e.g. swedencentral (see docs/deploy.md)",
  };
  for (const [key, fix] of Object.entries(required)) {
    if (!(key in parsed)) problems.push(`${files.appsettings}: ${key} is required; ${fix}`);
  }

  const secretValues: Record<string, string> = {};
  for (const [key, value] of Object.entries(secrets)) {
    if (key.startsWith("DEPLOY_")) problems.push(`${files.secrets}: ${key} is a deployment setting; put it in ${files.appsettings}`);
    else if (value !== "") secretValues[key] = value;
  }

  const min = (parsed.DEPLOY_MIN_REPLICAS as number | undefined) ?? 1;
  const max = (parsed.DEPLOY_MAX_REPLICAS as number | undefined) ?? 10;
  if (max < min) problems.push(`${files.appsettings}: DEPLOY_MAX_REPLICAS (${max}) must be >= DEPLOY_MIN_REPLICAS (${min})`);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env,
    deploy: {
      subscriptionId: parsed.DEPLOY_SUBSCRIPTION_ID as string,
      location: parsed.DEPLOY_LOCATION as string,
      workloadName: (parsed.DEPLOY_WORKLOAD_NAME as string | undefined) ?? "spillway",
      tags: (parsed.DEPLOY_TAGS as Record<string, string> | undefined) ?? {},
      privateNetworking: (parsed.DEPLOY_PRIVATE_NETWORKING as boolean | undefined) ?? false,
      operatorIpRanges: (parsed.DEPLOY_OPERATOR_IP_RANGES as string[] | undefined) ?? [],
      ingressExternal: (parsed.DEPLOY_INGRESS as boolean | undefined) ?? true,
      ingressAllowedIps: (parsed.DEPLOY_INGRESS_ALLOWED_IPS as string[] | undefined) ?? [],
      minReplicas: min,
      maxReplicas: max,
      httpConcurrency: (parsed.DEPLOY_HTTP_CONCURRENCY as number | undefined) ?? 50,
      gatewayCpu: (parsed.DEPLOY_GATEWAY_CPU as number | undefined) ?? 1,
      redis: (parsed.DEPLOY_REDIS as boolean | undefined) ?? false,
      telemetry: (parsed.DEPLOY_TELEMETRY as boolean | undefined) ?? true,
      foundryLocalAuth: (parsed.DEPLOY_FOUNDRY_LOCAL_AUTH as boolean | undefined) ?? true,
      keyVaultWatchSeconds: (parsed.DEPLOY_KEY_VAULT_WATCH_SECONDS as number | undefined) ?? 0,
    },
    appSettings: sortKeys(appSettings),
    secrets: sortKeys(secretValues),
  };
}

/** First AZURE_OPENAI_*_<n> index free for provisioned/simulator backends. */
export function nextBackendIndex(keys: string[]): number {
  let next = 0;
  for (const key of keys) {
    const m = /^AZURE_OPENAI_[A-Z_]+?_(\d+)$/.exec(key);
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return next;
}
