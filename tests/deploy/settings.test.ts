import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/errors.ts";
import { looksSecret, nextBackendIndex, parseEnvConfig, secretName } from "../../scripts/deploy/settings.ts";

const BASE = { DEPLOY_SUBSCRIPTION_ID: "00000000-1111-2222-3333-444444444444", DEPLOY_LOCATION: "swedencentral" };

function problems(app: Record<string, string>, secrets: Record<string, string> = {}, env = "dev"): string[] {
  try {
    parseEnvConfig(env, app, secrets);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("env file convention", () => {
  it("maps secret env names to Key Vault names", () => {
    expect(secretName("GATEWAY_CLIENT_KEY_0")).toBe("gateway-client-key-0");
    expect(secretName("SPILLWAY_REDIS_PASSWORD")).toBe("spillway-redis-password");
  });

  it("splits DEPLOY_* settings from gateway settings and applies defaults", () => {
    const c = parseEnvConfig("dev", { ...BASE, GATEWAY_LOG_MODE: "prod", EMPTY: "" }, { GATEWAY_CLIENT_KEY_0: "k" });
    expect(c.appSettings).toEqual({ GATEWAY_LOG_MODE: "prod" });
    expect(c.deploy).toMatchObject({ workloadName: "spillway", privateNetworking: false, ingressExternal: true, minReplicas: 1, maxReplicas: 10, telemetry: true, foundryLocalAuth: true });
    expect(c.secrets).toEqual({ GATEWAY_CLIENT_KEY_0: "k" });
  });

  it("reports every problem at once, each naming the file and the fix", () => {
    const got = problems(
      { DEPLOY_LOCATION: "Sweden Central", DEPLOY_PRIVATE_NETWORKING: "maybe", DEPLOY_REPLICAS: "3", AZURE_OPENAI_KEY_0: "x", GATEWAY_CLIENT_NAME_0: "a", DEPLOY_MIN_REPLICAS: "5", DEPLOY_MAX_REPLICAS: "2" },
      { GATEWAY_CLIENT_NAME_0: "dup", DEPLOY_LOCATION: "x" },
    );
    expect(got).toEqual([
      'config/appsettings.dev.env: DEPLOY_LOCATION=Sweden Central: expected a region name such as swedencentral (az account list-locations -o table)',
      "config/appsettings.dev.env: DEPLOY_PRIVATE_NETWORKING=maybe: expected true or false",
      expect.stringMatching(/^config\/appsettings\.dev\.env: unknown setting DEPLOY_REPLICAS; known: DEPLOY_SUBSCRIPTION_ID, /),
      "config/appsettings.dev.env: AZURE_OPENAI_KEY_0 looks like a secret; move it to config/secrets.dev.env so it goes to Key Vault",
      "GATEWAY_CLIENT_NAME_0 is in both config/appsettings.dev.env and config/secrets.dev.env; keep it only in config/secrets.dev.env",
      "config/appsettings.dev.env: DEPLOY_SUBSCRIPTION_ID is required; add DEPLOY_SUBSCRIPTION_ID=<id from `az account show --query id -o tsv`> (see docs/deploy.md)",
      "config/secrets.dev.env: DEPLOY_LOCATION is a deployment setting; put it in config/appsettings.dev.env",
      "config/appsettings.dev.env: DEPLOY_MAX_REPLICAS (2) must be >= DEPLOY_MIN_REPLICAS (5)",
    ]);
  });

  it("rejects a bad environment code", () => {
    expect(problems(BASE, {}, "Prod_1")[0]).toMatch(/environment "Prod_1": expected 2-8 lowercase/);
  });

  it.each([
    ["DEPLOY_INGRESS", "public", "expected external or internal"],
    ["DEPLOY_OPERATOR_IP_RANGES", "203.0.113.7,10.0.0.0/33", "10.0.0.0/33 is not an IPv4 address or CIDR"],
    ["DEPLOY_INGRESS_ALLOWED_IPS", "203.0.113.7", "203.0.113.7 is not a CIDR"],
    ["DEPLOY_GATEWAY_CPU", "3", "expected one of 0.5"],
    ["DEPLOY_MIN_REPLICAS", "-1", "expected a whole number from 0 to 300"],
    ["DEPLOY_TAGS", "owner", '"owner" is not key=value'],
    ["DEPLOY_SUBSCRIPTION_ID", "my-sub", "expected a subscription GUID"],
    ["DEPLOY_WORKLOAD_NAME", "Spillway-Gateway", "expected 2-10 lowercase"],
  ])("validates %s=%s", (key, value, message) => {
    expect(problems({ ...BASE, [key]: value }).join("\n")).toContain(message);
  });

  it("treats secret-looking names as secrets, except known settings", () => {
    expect(["AZURE_OPENAI_KEY_3", "GATEWAY_CLIENT_KEY_0", "OIDC_CLIENT_SECRET", "SPILLWAY_REDIS_PASSWORD", "APPLICATIONINSIGHTS_CONNECTION_STRING"].filter(looksSecret)).toHaveLength(5);
    expect(["LB_HASH_KEY", "GATEWAY_CLIENT_NAME_0", "AZURE_OPENAI_ENDPOINT_0", "AI_RATE_LIMIT_WINDOW_SECONDS"].filter(looksSecret)).toEqual([]);
  });

  it("finds the first free backend index across both files", () => {
    expect(nextBackendIndex([])).toBe(0);
    expect(nextBackendIndex(["AZURE_OPENAI_ENDPOINT_0", "AZURE_OPENAI_KEY_3", "AZURE_OPENAI_AUTH_MODE_1", "GATEWAY_CLIENT_KEY_9"])).toBe(4);
  });
});
