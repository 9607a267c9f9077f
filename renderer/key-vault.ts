/**
 * Key Vault adapter: lists the vault's enabled secrets and reads those whose names map to a Spillway variable
 * (`gateway-client-key-0` ↔ `GATEWAY_CLIENT_KEY_0`). Credential: ManagedIdentityCredential when AZURE_CLIENT_ID
 * is set (a user-assigned identity), else DefaultAzureCredential (az login, workload identity, system identity).
 */
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from "@azure/identity";
import { SecretClient, type SecretClientOptions } from "@azure/keyvault-secrets";
import { ConfigError, EnvironmentError } from "../lib/errors.ts";

export interface KeyVaultOptions {
  vaultUrl: string;
  clientId?: string;
  /** Tests pass a fake credential and TLS options for the local emulator. */
  credential?: TokenCredential;
  clientOptions?: SecretClientOptions;
  /** Which mapped variable names to fetch; others are counted as skipped. */
  wanted: (variable: string) => boolean;
}

export interface KeyVaultResult {
  values: Record<string, string>;
  /** Secret names in the vault that Spillway does not read (a shared vault is fine). */
  skipped: number;
}

export type KeyVaultReader = (opts: KeyVaultOptions) => Promise<KeyVaultResult>;

export function secretNameToVariable(name: string): string {
  return name.toUpperCase().replace(/-/g, "_");
}

export function variableToSecretName(variable: string): string {
  return variable.toLowerCase().replace(/_/g, "-");
}

export function checkVaultUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(["KEY_VAULT_URI: is not a URL; write it as https://<vault-name>.vault.azure.net"]);
  }
  if (parsed.protocol !== "https:" || parsed.search !== "" || parsed.username !== "") {
    throw new ConfigError(["KEY_VAULT_URI: must be https://<vault-name>.vault.azure.net (https, no query, no credentials)"]);
  }
}

function describe(err: unknown, vaultUrl: string): Error {
  const e = err as { name?: string; statusCode?: number; message?: string };
  if (e.name === "CredentialUnavailableError" || e.name === "AuthenticationError" || e.name === "AggregateAuthenticationError") {
    return new EnvironmentError(
      `cannot get an Azure token for Key Vault ${vaultUrl}: run \`az login\`, or set AZURE_CLIENT_ID to the client id of the managed identity (${e.message ?? e.name})`,
    );
  }
  if (e.statusCode === 401 || e.statusCode === 403) {
    return new EnvironmentError(
      `Key Vault ${vaultUrl} refused access (HTTP ${e.statusCode}): grant the identity the "Key Vault Secrets User" role (secrets get + list) on the vault`,
    );
  }
  return new EnvironmentError(`cannot read Key Vault ${vaultUrl}: ${e.message ?? String(err)}`);
}

/** A user-assigned managed identity when its client id is given, else the default chain. Constructing makes no call. */
export function credentialFor(clientId: string | undefined): TokenCredential {
  return clientId ? new ManagedIdentityCredential({ clientId }) : new DefaultAzureCredential();
}

export const readKeyVault: KeyVaultReader = async (opts) => {
  checkVaultUrl(opts.vaultUrl);
  const credential = opts.credential ?? credentialFor(opts.clientId);
  const client = new SecretClient(opts.vaultUrl, credential, opts.clientOptions);
  const values: Record<string, string> = {};
  let skipped = 0;
  try {
    for await (const props of client.listPropertiesOfSecrets()) {
      if (props.enabled === false) continue;
      const variable = secretNameToVariable(props.name);
      if (!opts.wanted(variable)) {
        skipped++;
        continue;
      }
      const secret = await client.getSecret(props.name);
      if (secret.value !== undefined) values[variable] = secret.value;
    }
  } catch (err) {
    throw describe(err, opts.vaultUrl);
  }
  return { values, skipped };
};
