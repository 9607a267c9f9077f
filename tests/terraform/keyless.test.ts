// `spillway deploy` without Azure OpenAI keys (DEPLOY_FOUNDRY_LOCAL_AUTH=false), end to end on paper: the foundry
// plan turns local auth off, the accounts write no key and report none, the backend identity gets the OpenAI role,
// the workload renders such a backend as Entra ID with that identity, attaches the identity to the gateway, and the
// renderer accepts exactly what the workload generates.
import { beforeAll, describe, expect, it } from "vitest";
import { loadSettings } from "../../renderer/settings.ts";
import { renderConfig } from "../../renderer/render.ts";
import { fixtureConfig, fixturePlan } from "../deploy/helpers.ts";
import { listTfDirs, loadDir, type Block, type TfDir } from "./hcl.ts";

let dirs = new Map<string, TfDir>();
beforeAll(async () => {
  dirs = new Map((await Promise.all(listTfDirs().map(loadDir))).map((d) => [d.name, d]));
});
const text = (name: string): string => dirs.get(name)!.files.map((f) => f.text).join("\n").replace(/\s+/g, " ");

/** What `terraform output backends` of 15-foundry gives for one keyless account (key_secret_name null). */
const KEYLESS = { name: "weu1", endpoint: "https://spill-oai-weu1-1a2b3c.openai.azure.com/", priority: 10, weight: 1, key_secret_name: null };
/** A client id like the one the backend identity gets. */
const BACKEND_CLIENT_ID = "0f0e0d0c-0b0a-4909-8807-060504030201";

describe("keyless deploy (DEPLOY_FOUNDRY_LOCAL_AUTH=false)", () => {
  it("the foundry plan turns local auth off on the accounts", () => {
    const write = fixturePlan("foundry", "prod").steps.flatMap((s) => s.actions).find((a) => a.kind === "write-tfvars");
    expect(write?.kind === "write-tfvars" && write.values.local_auth_enabled).toBe(false);
  });

  it("an account without local auth writes no key and reports key_secret_name null; the backend identity gets the OpenAI role", () => {
    const account = dirs.get("openai-account")!;
    expect(account.resources.get("azurerm_key_vault_secret.key")!.count).toBe("${var.local_auth_enabled ? 1 : 0}");
    expect(String(account.outputs.get("key_secret_name")!.value)).toMatch(/var\.local_auth_enabled \? .* : null/);
    const role = account.resources.get("azurerm_role_assignment.openai_user")!;
    expect([role.role_definition_name, role.scope]).toEqual(["Cognitive Services OpenAI User", "${azurerm_cognitive_account.this.id}"]);
    const foundry = text("15-foundry");
    expect(foundry).toContain("key_secret_name = var.local_auth_enabled ? \"azure-openai-key-${each.key}\" : null");
    expect(foundry).toContain("openai_user_principal_ids = { backend = data.azurerm_user_assigned_identity.backend.principal_id }");
  });

  it("accounts created elsewhere get the same role for the backend identity, one assignment each", () => {
    const existing = dirs.get("15-foundry")!.resources.get("azurerm_role_assignment.existing_openai_user") as Block;
    expect([existing.for_each, existing.principal_id, existing.role_definition_name]).toEqual([
      "${local.existing_accounts}", "${data.azurerm_user_assigned_identity.backend.principal_id}", "Cognitive Services OpenAI User",
    ]);
  });

  it("the workload renders a keyless backend as Entra ID with the backend identity, and no longer refuses it", () => {
    const workload = text("20-workload");
    expect(workload).toContain('"AZURE_OPENAI_AUTH_MODE_${b.index}" = b.key_secret_name == null ? "entra" : "api-key"');
    expect(workload).toContain("AZURE_OPENAI_MSI_CLIENT_ID = data.azurerm_user_assigned_identity.backend.client_id");
    expect(workload).toContain('provisioned_secret_env = { for b in local.provisioned : "AZURE_OPENAI_KEY_${b.index}" => b.key_secret_name if b.key_secret_name != null }');
    // The precondition that refused provisioned backends without keys is gone.
    expect(workload).not.toContain("for b in var.provisioned_backends : b.key_secret_name != null");
    expect(text("gateway-app")).toContain("identity_ids = [var.identities.gateway.id, var.identities.telemetry.id, var.identities.backend.id]");
  });

  it("the renderer accepts what the workload generates for it: an Entra ID backend with that client id and no key", () => {
    const config = fixtureConfig("prod");
    const write = fixturePlan("workload", "prod").steps.flatMap((s) => s.actions).find((a) => a.kind === "write-tfvars");
    const index = write?.kind === "write-tfvars" ? (write.values.backend_index_offset as number) : -1;
    expect(index).toBeGreaterThanOrEqual(0);
    // 20-workload locals.tf for this backend (provisioned_settings), plus the identities of platform_settings.
    const generated: Record<string, string> = {
      [`AZURE_OPENAI_AUTH_MODE_${index}`]: KEYLESS.key_secret_name === null ? "entra" : "api-key",
      [`AZURE_OPENAI_ENDPOINT_${index}`]: KEYLESS.endpoint,
      [`AZURE_OPENAI_NAME_${index}`]: KEYLESS.name,
      [`AZURE_OPENAI_PRIORITY_${index}`]: String(KEYLESS.priority),
      [`AZURE_OPENAI_WEIGHT_${index}`]: String(KEYLESS.weight),
      AZURE_CLIENT_ID: "a1a1a1a1-b2b2-4c3c-8d4d-e5e5e5e5e5e5",
      AZURE_OPENAI_MSI_CLIENT_ID: BACKEND_CLIENT_ID,
    };
    const env = { ...config.appSettings, ...generated, ...config.secrets };
    const { settings, secrets } = loadSettings(env);
    const backend = settings.backends.find((b) => b.name === KEYLESS.name)!;
    expect(backend).toMatchObject({ auth: "entra", clientId: BACKEND_CLIENT_ID, endpoint: { host: "spill-oai-weu1-1a2b3c.openai.azure.com" } });
    expect(Object.keys(secrets).some((k) => k.startsWith("AZURE_OPENAI_KEY_"))).toBe(false);
    const rendered = renderConfig(settings, secrets);
    expect(rendered.apisixYaml).toContain(`client_id: ${BACKEND_CLIENT_ID}`);
    expect(rendered.apisixYaml).not.toContain("api-key:");
    expect(rendered.configYaml).toContain("spillway-identity");
  });
});
