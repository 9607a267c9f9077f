// The renderer for Entra ID backends (AZURE_OPENAI_AUTH_MODE_N=entra, or no key): instance and body-less backend
// shapes that pass ai-proxy-multi 3.18's instance schema and ours, the `env` directives and shared dict in
// config.yaml, health probes that accept the unauthenticated 401, and no key anywhere.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { checkAiProxyMulti } from "../../renderer/apisix-shapes.ts";
import { buildApisixDoc, renderConfig } from "../../renderer/render.ts";
import { loadSettings } from "../../renderer/settings.ts";
import { validateRendered } from "../../renderer/validate.ts";
import { formatDryRun, redactedSecrets } from "../../renderer/redact.ts";
import { ConfigError } from "../../lib/errors.ts";
import { MINIMAL_ENV } from "./fixtures.ts";

type Obj = Record<string, any>;
const here = path.dirname(fileURLToPath(import.meta.url));
const CLIENT_ID = "11111111-2222-3333-4444-555555555555";
const OTHER_ID = "66666666-7777-8888-9999-000000000000";

/** Backend 0 keeps its key; backend 1 has none (entra by default); backend 2 is entra explicitly, with its own identity. */
const ENV: Record<string, string> = {
  ...MINIMAL_ENV,
  AZURE_OPENAI_NAME_0: "keyed",
  AZURE_OPENAI_ENDPOINT_1: "https://contoso-westus.openai.azure.com",
  AZURE_OPENAI_NAME_1: "entra-westus",
  AZURE_OPENAI_PRIORITY_1: "5",
  AZURE_OPENAI_DEPLOYMENTS_1: "gpt-4o=gpt-4o-westus",
  AZURE_OPENAI_ENDPOINT_2: "https://contoso-sweden.openai.azure.com",
  AZURE_OPENAI_NAME_2: "entra-sweden",
  AZURE_OPENAI_AUTH_MODE_2: "entra",
  AZURE_OPENAI_MSI_CLIENT_ID_2: OTHER_ID,
  AZURE_OPENAI_MSI_CLIENT_ID: CLIENT_ID,
  APISIX_ACTIVE_HEALTH_CHECKS: "true",
};

function rendered(env: Record<string, string>) {
  const { settings, secrets } = loadSettings(env);
  return { settings, secrets, files: renderConfig(settings, secrets), doc: buildApisixDoc(settings, secrets) as Obj };
}

const chatRoute = (d: Obj) => d.routes.find((r: Obj) => r.id === "spillway-chat");
const modelsRoute = (d: Obj) => d.routes.find((r: Obj) => r.id === "spillway-models");

describe("Entra ID backends in apisix.yaml", () => {
  it("renders an Entra ID instance with an empty auth (3.18 requires the key) and its identity in provider_conf.entra", () => {
    const instances = chatRoute(rendered(ENV).doc).plugins["ai-proxy-multi"].instances as Obj[];
    expect(instances.map((i) => [i.name, i.auth, i.provider_conf])).toEqual([
      ["keyed", { header: { "api-key": MINIMAL_ENV.AZURE_OPENAI_KEY_0 } }, undefined],
      ["entra-westus", {}, { deployments: { "gpt-4o": "gpt-4o-westus" }, entra: { client_id: CLIENT_ID } }],
      ["entra-sweden", {}, { entra: { client_id: OTHER_ID } }],
    ]);
  });

  it("uses the system-assigned identity when no client id is set anywhere", () => {
    const env = { ...MINIMAL_ENV, AZURE_OPENAI_AUTH_MODE_0: "entra" };
    delete (env as Record<string, string>).AZURE_OPENAI_KEY_0;
    const [instance] = chatRoute(rendered(env).doc).plugins["ai-proxy-multi"].instances as Obj[];
    expect(instance).toMatchObject({ auth: {}, provider_conf: { entra: {} } });
  });

  it("gives the body-less routes' backends the same identity (auth.entra, no header)", () => {
    const backends = modelsRoute(rendered(ENV).doc).plugins["spillway-failover"].backends as Obj[];
    expect(backends.map((b) => [b.name, b.auth])).toEqual([
      ["entra-westus", { header: {}, entra: { client_id: CLIENT_ID } }],
      ["keyed", { header: { "api-key": MINIMAL_ENV.AZURE_OPENAI_KEY_0 } }],
      ["entra-sweden", { header: {}, entra: { client_id: OTHER_ID } }],
    ]);
  });

  it("probes an Entra ID backend without a credential and counts its 401 as healthy (it answered)", () => {
    const instances = chatRoute(rendered(ENV).doc).plugins["ai-proxy-multi"].instances as Obj[];
    const healthy = instances.map((i) => i.checks.active.healthy.http_statuses);
    expect(healthy).toEqual([[200], [200, 401], [200, 401]]);
    expect(instances.every((i) => i.checks.active.req_headers === undefined)).toBe(true);
  });

  it("passes ai-proxy-multi 3.18's instance shape and our provider_conf and plugin schemas", () => {
    const { doc } = rendered(ENV);
    expect(checkAiProxyMulti(chatRoute(doc).plugins["ai-proxy-multi"], "chat", "azure-openai-dynamic")).toEqual([]);
    expect(() => validateRendered(doc)).not.toThrow();
  });

  it("refuses an entra object our schema does not allow", () => {
    const { doc } = rendered(ENV);
    chatRoute(doc).plugins["ai-proxy-multi"].instances[1].provider_conf.entra = { client_id: "nope", scope: "x" };
    modelsRoute(doc).plugins["spillway-failover"].backends[0].auth.entra = { timeout_ms: 0 };
    let caught: unknown;
    try {
      validateRendered(doc);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const text = (caught as ConfigError).problems.join("\n");
    expect(text).toContain("ai-proxy-multi/instances/1/provider_conf/entra: must NOT have additional properties");
    expect(text).toContain('ai-proxy-multi/instances/1/provider_conf/entra/client_id: must match pattern');
    expect(text).toContain("spillway-failover/backends/0/auth/entra/timeout_ms: must be >= 1");
  });

  it("holds no key for an Entra ID backend: not in the secrets, not in the files, none redacted in --dry-run", () => {
    const env = { ...ENV, AZURE_OPENAI_KEY_2: "stale-key-0000000000000000" };
    const { secrets, settings, files } = rendered(env);
    expect(Object.keys(secrets).filter((k) => k.startsWith("AZURE_OPENAI_KEY_"))).toEqual(["AZURE_OPENAI_KEY_0"]);
    expect(files.apisixYaml).not.toContain("stale-key");
    const dry = formatDryRun(renderConfig(settings, redactedSecrets(secrets)), secrets);
    expect(dry.match(/<redacted:AZURE_OPENAI_KEY_\d+>/g)?.every((m) => m === "<redacted:AZURE_OPENAI_KEY_0>")).toBe(true);
  });
});

describe("Entra ID backends in config.yaml", () => {
  it("declares the identity endpoint variables for the workers and the token dict, only when a backend uses Entra ID", () => {
    const config = parse(rendered(ENV).files.configYaml) as Obj;
    expect(config.nginx_config.envs).toEqual(["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]);
    expect(config.nginx_config.http.custom_lua_shared_dict).toEqual({ "spillway-cooldown": "10m", "spillway-identity": "1m" });
    const keyed = parse(rendered(MINIMAL_ENV).files.configYaml) as Obj;
    expect(keyed.nginx_config.envs).toBeUndefined();
    expect(keyed.nginx_config.http.custom_lua_shared_dict).toEqual({ "spillway-cooldown": "10m" });
  });

  it("renders config.yaml exactly as recorded (UPDATE_GOLDEN=1 to accept a deliberate change)", () => {
    const golden = path.join(here, "golden/entra/config.yaml");
    const actual = rendered(ENV).files.configYaml;
    if (process.env.UPDATE_GOLDEN === "1" || !existsSync(golden)) {
      mkdirSync(path.dirname(golden), { recursive: true });
      writeFileSync(golden, actual);
    }
    expect(actual).toBe(readFileSync(golden, "utf8"));
  });

  it("never writes the identity endpoint's values: the workers read them from their environment", () => {
    const env = { ...ENV, IDENTITY_ENDPOINT: "http://localhost:42356/msi/token", IDENTITY_HEADER: "platform-secret-header" };
    const { files } = rendered(env);
    for (const text of [files.apisixYaml, files.configYaml]) {
      expect(text).not.toContain("platform-secret-header");
      expect(text).not.toContain("42356");
    }
  });
});
