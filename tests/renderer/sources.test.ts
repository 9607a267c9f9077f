// Inputs: env files, process env and Key Vault — the latter through the real Azure SDK against a local HTTPS
// emulator of the Key Vault secrets API (challenge auth, paging) — and their precedence.
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderOnce } from "../../renderer/cli.ts";
import { credentialFor, secretNameToVariable, variableToSecretName } from "../../renderer/key-vault.ts";
import { gatherEnv, type SourceOptions } from "../../renderer/sources.ts";
import { ConfigError, EnvironmentError } from "../../lib/errors.ts";
import { envFileText, MINIMAL_ENV, tempDir } from "./fixtures.ts";
import { EMULATOR_TOKEN, startKeyVaultEmulator, type KeyVaultEmulator } from "./key-vault-emulator.ts";

const scratch = tempDir();
afterAll(() => scratch.cleanup());

describe("env files and the process environment", () => {
  it("reads config/appsettings.<env>.env then config/secrets.<env>.env, then --env-file; later wins, process env wins over files", async () => {
    const dir = path.join(scratch.dir, "config");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "appsettings.dev.env"), "AZURE_OPENAI_ENDPOINT_0=https://from-appsettings.openai.azure.com\nAZURE_OPENAI_NAME_0=from-appsettings\nGATEWAY_CLIENT_NAME_0=alice\n");
    writeFileSync(path.join(dir, "secrets.dev.env"), "AZURE_OPENAI_KEY_0=from-secrets\nAZURE_OPENAI_NAME_0=from-secrets\nGATEWAY_CLIENT_KEY_0=alice-key-0123456789\n");
    const extra = path.join(scratch.dir, "extra.env");
    writeFileSync(extra, "AZURE_OPENAI_NAME_0=from-extra\nAZURE_OPENAI_WEIGHT_0=4\n");
    const g = await gatherEnv({ processEnv: { AZURE_OPENAI_WEIGHT_0: "7", AZURE_OPENAI_PRIORITY_0: "  " }, envName: "dev", configDir: dir, envFiles: [extra] });
    expect(g.env).toMatchObject({ AZURE_OPENAI_ENDPOINT_0: "https://from-appsettings.openai.azure.com", AZURE_OPENAI_KEY_0: "from-secrets", AZURE_OPENAI_NAME_0: "from-extra", AZURE_OPENAI_WEIGHT_0: "7" });
    expect(g.env.AZURE_OPENAI_PRIORITY_0).toBeUndefined(); // blank process values do not shadow anything
    expect(g.origin.AZURE_OPENAI_KEY_0).toBe(path.join(dir, "secrets.dev.env"));
    expect(g.origin.AZURE_OPENAI_WEIGHT_0).toBe("process");
  });

  it("explains what to create when neither convention file exists", async () => {
    await expect(gatherEnv({ processEnv: {}, envName: "qa", configDir: path.join(scratch.dir, "nowhere") })).rejects.toThrow(
      /--env qa: neither .*appsettings\.qa\.env nor .*secrets\.qa\.env exists; copy config\/appsettings\.env\.example/,
    );
  });

  it("reports every broken line of every env file, with file and line", async () => {
    const a = path.join(scratch.dir, "a.env");
    const b = path.join(scratch.dir, "b.env");
    writeFileSync(a, "OK=1\nthis is not an assignment\n");
    writeFileSync(b, 'X="unterminated\n');
    const err = await gatherEnv({ processEnv: {}, envFiles: [a, b] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([`${a}:2: expected KEY=value`, `${b}:1: unterminated double quote`]);
  });

  it("ships example env files that render", async () => {
    const repo = path.resolve(import.meta.dirname, "../..");
    const { loaded } = await renderOnce({
      envFile: [path.join(repo, "config/appsettings.env.example"), path.join(repo, "config/secrets.env.example")],
      processEnv: {},
    });
    expect(loaded.settings.backends.length).toBeGreaterThan(0);
    expect(loaded.settings.auth.required).toBe(true);
  });
});

describe("Key Vault through the real SDK (local HTTPS emulator)", () => {
  let kv: KeyVaultEmulator;
  const scopes: string[][] = [];
  const credential: TokenCredential = {
    getToken: async (s) => {
      scopes.push(Array.isArray(s) ? s : [s]);
      return { token: EMULATOR_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  let keyVault: SourceOptions["keyVault"];

  beforeAll(async () => {
    kv = await startKeyVaultEmulator(scratch.dir);
    // The emulator answers on 127.0.0.1, not *.vault.azure.net, so the SDK's resource-domain check is off here;
    // its TLS trusts the emulator's certificate only for this client.
    keyVault = { options: { credential, clientOptions: { tlsOptions: { ca: kv.ca }, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } } } };
  });
  afterAll(() => kv.stop());

  it("reads the vault's secrets (challenge auth, several pages) and renders with them", async () => {
    kv.setSecrets([
      { name: "azure-openai-key-0", value: "vault-backend-key-0" },
      { name: "gateway-client-key-0", value: "vault-client-key-0123456789" },
      { name: "some-other-app-secret", value: "not-ours" },
      { name: "azure-openai-key-1", value: "disabled-key", enabled: false },
      { name: "spillway-redis-password", value: "vault-redis-password" },
    ]);
    kv.requests.length = 0;
    const env = { AZURE_OPENAI_ENDPOINT_0: "https://a.openai.azure.com", GATEWAY_CLIENT_NAME_0: "alice", KEY_VAULT_URI: kv.url, SPILLWAY_REDIS_HOST: "cache" };
    const { rendered, gathered } = await renderOnce({ processEnv: env, keyVault });
    expect(gathered.env).toMatchObject({ AZURE_OPENAI_KEY_0: "vault-backend-key-0", GATEWAY_CLIENT_KEY_0: "vault-client-key-0123456789", SPILLWAY_REDIS_PASSWORD: "vault-redis-password" });
    expect(gathered.env.AZURE_OPENAI_KEY_1).toBeUndefined();
    expect(gathered.origin.AZURE_OPENAI_KEY_0).toBe("key-vault");
    expect(gathered.notes).toEqual([`Key Vault ${kv.url}: 3 secret(s) used, 1 not Spillway settings`]);
    expect(rendered.apisixYaml).toContain("api-key: vault-backend-key-0");
    expect(rendered.apisixYaml).toContain("key: vault-client-key-0123456789");
    // The SDK's challenge flow: first call without a token, then the token for the resource the challenge named.
    expect(kv.requests[0]).toMatchObject({ path: "/secrets", token: undefined });
    expect(kv.requests.slice(1).every((r) => r.token === EMULATOR_TOKEN)).toBe(true);
    expect(kv.requests.filter((r) => r.path === "/secrets").length).toBeGreaterThanOrEqual(3); // 5 secrets, 2 per page
    expect(scopes.at(-1)).toEqual(["https://vault.azure.net/.default"]);
    expect(kv.requests.some((r) => r.path.startsWith("/secrets/some-other-app-secret"))).toBe(false); // never fetched
  });

  it("lets Key Vault win over env files and the process env, except the vault locators and SPILLWAY_ENV_OVERRIDES", async () => {
    kv.setSecrets([
      { name: "azure-openai-key-0", value: "vault-wins" },
      { name: "azure-openai-name-0", value: "vault-name" },
      { name: "key-vault-uri", value: "https://evil.vault.azure.net" },
      { name: "azure-client-id", value: "vault-client-id" },
    ]);
    const file = path.join(scratch.dir, "kv.env");
    writeFileSync(file, envFileText({ ...MINIMAL_ENV, AZURE_OPENAI_NAME_0: "file-name", KEY_VAULT_URI: kv.url }));
    const g = await gatherEnv({ processEnv: { AZURE_OPENAI_KEY_0: "process-key", AZURE_CLIENT_ID: "process-client-id" }, envFiles: [file], keyVault });
    expect(g.env).toMatchObject({ AZURE_OPENAI_KEY_0: "vault-wins", AZURE_OPENAI_NAME_0: "vault-name", KEY_VAULT_URI: kv.url, AZURE_CLIENT_ID: "process-client-id" });
    const o = await gatherEnv({ processEnv: { AZURE_OPENAI_KEY_0: "process-key", SPILLWAY_ENV_OVERRIDES: "AZURE_OPENAI_KEY_0" }, envFiles: [file], keyVault });
    expect(o.env).toMatchObject({ AZURE_OPENAI_KEY_0: "process-key", AZURE_OPENAI_NAME_0: "vault-name" });
  });

  it("turns a refusal into an EnvironmentError that names the role to grant", async () => {
    kv.failWith(403);
    try {
      const err = await gatherEnv({ processEnv: { KEY_VAULT_URI: kv.url }, keyVault }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as EnvironmentError).exitCode).toBe(4);
      expect((err as Error).message).toBe(`Key Vault ${kv.url} refused access (HTTP 403): grant the identity the "Key Vault Secrets User" role (secrets get + list) on the vault`);
    } finally {
      kv.failWith(undefined);
    }
  });

  it("rejects a KEY_VAULT_URI that is not https", async () => {
    await expect(gatherEnv({ processEnv: { KEY_VAULT_URI: "http://vault.local" }, keyVault })).rejects.toThrow(
      "KEY_VAULT_URI: must be https://<vault-name>.vault.azure.net (https, no query, no credentials)",
    );
  });
});

describe("Key Vault names and credentials", () => {
  it("maps secret names to variables and back", () => {
    expect(secretNameToVariable("gateway-client-key-0")).toBe("GATEWAY_CLIENT_KEY_0");
    expect(variableToSecretName("AZURE_OPENAI_KEY_12")).toBe("azure-openai-key-12");
  });

  it("uses the user-assigned managed identity when AZURE_CLIENT_ID is set, else the default chain", () => {
    expect(credentialFor("00000000-0000-0000-0000-000000000001")).toBeInstanceOf(ManagedIdentityCredential);
    expect(credentialFor(undefined)).toBeInstanceOf(DefaultAzureCredential);
  });
});
