/**
 * Where the settings come from, merged into one env record for ./settings.ts. Precedence, lowest first:
 *   1. env files: config/appsettings.<env>.env, config/secrets.<env>.env (--env <name>), then each --env-file in order;
 *   2. the process environment;
 *   3. Key Vault (when KEY_VAULT_URI is set), so a rotated secret wins over a stale copy anywhere else.
 * Documented exceptions where the environment wins over Key Vault: the variables that locate the vault
 * (KEY_VAULT_URI, AZURE_CLIENT_ID, AZURE_TENANT_ID), and any variable listed in SPILLWAY_ENV_OVERRIDES.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../lib/errors.ts";
import { readEnvFile } from "./env-file.ts";
import type { EnvRecord } from "./env-values.ts";
import { readKeyVault, type KeyVaultOptions, type KeyVaultReader } from "./key-vault.ts";
import { isKnownVariable, KEY_VAULT_LOCATORS } from "./settings.ts";

export interface SourceOptions {
  processEnv: EnvRecord;
  envFiles?: string[];
  /** --env <name>: reads <configDir>/appsettings.<name>.env and <configDir>/secrets.<name>.env. */
  envName?: string;
  configDir?: string;
  /** Injected by tests (fake credential, emulator TLS); production uses the real SDK. */
  keyVault?: { reader?: KeyVaultReader; options?: Partial<KeyVaultOptions> };
}

export interface Gathered {
  env: Record<string, string | undefined>;
  /** Where each variable's value came from ("process", a file path, "key-vault"), for messages. */
  origin: Record<string, string>;
  notes: string[];
}

export function conventionFiles(envName: string, configDir = "config"): string[] {
  if (!/^[A-Za-z0-9_-]+$/.test(envName)) throw new ConfigError([`--env ${envName}: use letters, digits, '_' or '-' (e.g. dev, prod)`]);
  const candidates = [`appsettings.${envName}.env`, `secrets.${envName}.env`].map((f) => path.join(configDir, f));
  const found = candidates.filter((f) => existsSync(f));
  if (found.length === 0) {
    throw new ConfigError([
      `--env ${envName}: neither ${candidates.join(" nor ")} exists; copy config/appsettings.env.example and config/secrets.env.example to those names`,
    ]);
  }
  return found;
}

function blank(value: string | undefined): boolean {
  return value === undefined || value.trim() === "";
}

export async function gatherEnv(opts: SourceOptions): Promise<Gathered> {
  const env: Record<string, string | undefined> = {};
  const origin: Record<string, string> = {};
  const notes: string[] = [];
  const files = [...(opts.envName ? conventionFiles(opts.envName, opts.configDir) : []), ...(opts.envFiles ?? [])];
  const fileErrors: string[] = [];
  for (const file of files) {
    try {
      for (const [k, v] of Object.entries(readEnvFile(file))) {
        env[k] = v;
        origin[k] = file;
      }
    } catch (err) {
      if (err instanceof ConfigError) fileErrors.push(...err.problems);
      else throw err;
    }
  }
  if (fileErrors.length > 0) throw new ConfigError(fileErrors);
  for (const [k, v] of Object.entries(opts.processEnv)) {
    if (blank(v)) continue;
    env[k] = v;
    origin[k] = "process";
  }

  const vaultUrl = env.KEY_VAULT_URI?.trim();
  if (!vaultUrl) return { env, origin, notes };
  const overrides = new Set((env.SPILLWAY_ENV_OVERRIDES ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""));
  const reader = opts.keyVault?.reader ?? readKeyVault;
  const clientId = env.AZURE_CLIENT_ID?.trim();
  const result = await reader({
    vaultUrl,
    ...(clientId ? { clientId } : {}),
    ...opts.keyVault?.options,
    wanted: (v) => isKnownVariable(v) && !(KEY_VAULT_LOCATORS as readonly string[]).includes(v),
  });
  let used = 0;
  for (const [k, v] of Object.entries(result.values)) {
    if (overrides.has(k) && !blank(env[k])) continue;
    env[k] = v;
    origin[k] = "key-vault";
    used++;
  }
  notes.push(`Key Vault ${vaultUrl}: ${used} secret(s) used, ${result.skipped} not Spillway settings`);
  return { env, origin, notes };
}
