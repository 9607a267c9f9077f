import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "@cdktf/hcl2json";
import { beforeAll, describe, expect, it } from "vitest";
import { expressions, listFiles, listTfDirs, loadDir, terraformRoot, type Block, type TfDir } from "./hcl.ts";

let dirs: TfDir[] = [];
const dir = (name: string) => dirs.find((d) => d.name === name)!;

beforeAll(async () => {
  dirs = await Promise.all(listTfDirs().map(loadDir));
});

/** Literal-looking credentials in raw text: account keys, SAS, instrumentation keys, PEM, API-key shapes. */
const SECRET_TEXT = [
  /AccountKey=[A-Za-z0-9+/=]{20,}/,
  /SharedAccessSignature|[?&]sig=[A-Za-z0-9%]{20,}/,
  /InstrumentationKey=[0-9a-f]{8}-/i,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b[0-9a-f]{32}\b/, // Azure OpenAI / Cognitive Services keys
  /\bsk-[A-Za-z0-9_-]{20,}/,
  /\b[A-Za-z0-9+/]{60,}={0,2}/, // storage account keys and other long base64
];
const SECRET_ATTR = /(^|_)(password|client_secret|access_key|connection_string|api_key|secret_value)$/;
const isExpr = (v: unknown) => typeof v === "string" && v.includes("${");

/** Problems in one parsed HCL document: secret-named attributes or secret block values holding literals. */
function literalSecrets(node: unknown, where: string, out: string[] = [], inSecret = false): string[] {
  if (Array.isArray(node)) for (const n of node) literalSecrets(n, where, out, inSecret);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node as Block)) {
      const secretContext = inSecret || k === "secret" || k === "azurerm_key_vault_secret";
      if (typeof v === "string" && v !== "" && !isExpr(v) && (SECRET_ATTR.test(k) || (secretContext && k === "value"))) out.push(`${where}: ${k} = "${v}"`);
      else literalSecrets(v, where, out, secretContext);
    }
  }
  return out;
}

function textSecrets(text: string, where: string): string[] {
  return SECRET_TEXT.filter((re) => re.test(text)).map((re) => `${where}: matches ${re}`);
}

describe("no secret literals", () => {
  it("the scanners catch planted secrets (so a pass means something)", async () => {
    const planted = `resource "azurerm_container_app" "x" {
  secret {
    name  = "k"
    value = "hunter2-literal"
  }
}
variable "v" {
  default = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
}
locals {
  admin_password = "P@ssw0rd!"
}`;
    const json = await parse("planted.tf", planted);
    expect(literalSecrets(json, "planted.tf").sort()).toEqual(['planted.tf: admin_password = "P@ssw0rd!"', 'planted.tf: value = "hunter2-literal"']);
    expect(textSecrets(planted, "planted.tf")).toHaveLength(1);
    expect(textSecrets('api_key = "0123456789abcdef0123456789abcdef"', "x")).toHaveLength(1);
  });

  it("no .tf, .tfvars or template holds a key, password or connection string", async () => {
    const problems: string[] = [];
    for (const file of listFiles([".tf", ".tfvars", ".tftpl"])) {
      const rel = path.relative(terraformRoot, file);
      const text = readFileSync(file, "utf8");
      problems.push(...textSecrets(text, rel));
      if (!file.endsWith(".tftpl")) problems.push(...literalSecrets(await parse(path.basename(file), text), rel));
    }
    expect(problems).toEqual([]);
  });

  it("secret-valued variables are sensitive, and so are outputs built from secret attributes", () => {
    for (const d of dirs) {
      for (const [name, v] of d.variables) {
        if (/(connection_string|password|secret|_key)$/.test(name)) expect(v.sensitive, `${d.name} var.${name}`).toBe(true);
      }
      for (const [name, o] of d.outputs) {
        if (expressions(o.value ?? null).some((e) => /connection_string|primary_access_key|secondary_access_key|instrumentation_key|primary_shared_key/.test(e))) {
          expect(o.sensitive, `${d.name} output ${name}`).toBe(true);
        }
      }
    }
  });
});

const ALLOWED_ROLES = new Set([
  "Key Vault Secrets User", "Key Vault Secrets Officer", "AcrPull", "AcrPush", "Storage Blob Data Contributor",
  "Monitoring Metrics Publisher", "Cognitive Services OpenAI User",
]);
/** One resource: created here, or one existing account looked up by name (15-foundry existing_openai_accounts). */
const RESOURCE_SCOPE =
  /^\$\{(azurerm_(key_vault|container_registry|cognitive_account|storage_account)\.[a-z_]+\.id|data\.azurerm_monitor_workspace\.[a-z_]+\.default_data_collection_rule_id|data\.azurerm_cognitive_account\.[a-z_]+\[each\.key\]\.id)\}$/;

describe("least privilege", () => {
  it("every role assignment is scoped to one resource, never a subscription or resource group, with a data-plane role", () => {
    let count = 0;
    for (const d of dirs) {
      for (const [id, r] of d.resources) {
        if (!id.startsWith("azurerm_role_assignment.")) continue;
        count++;
        expect(String(r.scope), `${d.name} ${id} scope`).toMatch(RESOURCE_SCOPE);
        expect(ALLOWED_ROLES.has(String(r.role_definition_name)), `${d.name} ${id} role ${String(r.role_definition_name)}`).toBe(true);
      }
      const all = d.files.map((f) => f.text).join("\n");
      expect(all, d.name).not.toMatch(/azurerm_subscription|"\/subscriptions\/|role_definition_name\s*=\s*"(Owner|Contributor|Reader)"/);
    }
    // bootstrap state, telemetry publisher, vault user/officer, registry pull/push, OpenAI user (new and existing accounts).
    expect(count).toBe(8);
  });

  it("the gateway identity gets Key Vault Secrets User on its vault and AcrPull on its registry, nothing else", () => {
    const platform = dir("10-platform");
    const uses: string[] = [];
    for (const [call, block] of platform.modules) {
      for (const [arg, value] of Object.entries(block)) {
        if (expressions(value).some((e) => e.includes("azurerm_user_assigned_identity.gateway.principal_id"))) uses.push(`${call}.${arg}`);
      }
    }
    const elsewhere = [...platform.resources.values()].filter((r) => expressions(r).some((e) => e.includes("azurerm_user_assigned_identity.gateway.principal_id")));
    expect(uses.sort()).toEqual(["container_registry.acr_pull_principal_ids", "key_vault.secrets_user_principal_ids"]);
    expect(elsewhere).toEqual([]);

    const kvRole = dir("key-vault").resources.get("azurerm_role_assignment.secrets_user")!;
    expect([kvRole.for_each, kvRole.role_definition_name, kvRole.scope]).toEqual(["${var.secrets_user_principal_ids}", "Key Vault Secrets User", "${azurerm_key_vault.this.id}"]);
    const acrRole = dir("container-registry").resources.get("azurerm_role_assignment.acr_pull")!;
    expect([acrRole.for_each, acrRole.role_definition_name, acrRole.scope]).toEqual(["${var.acr_pull_principal_ids}", "AcrPull", "${azurerm_container_registry.this.id}"]);
  });
});

describe("Key Vault and registry", () => {
  it("Key Vault uses RBAC and purge protection, and turns public access off with private networking", () => {
    const kv = dir("key-vault").resources.get("azurerm_key_vault.this")!;
    expect(kv.rbac_authorization_enabled).toBe(true);
    expect(kv.purge_protection_enabled).toBe(true);
    expect(kv.public_network_access_enabled).toBe("${!var.private_networking_enabled}");
    expect(kv.access_policy).toBeUndefined();
    const acls = (kv.network_acls as Block[])[0]!;
    expect(acls.default_action).toBe('${local.restrict_public ? "Deny" : "Allow"}');
    expect(dir("key-vault").files.map((f) => f.text).join("\n")).toMatch(/restrict_public = var\.private_networking_enabled \|\|/);
    expect(dir("10-platform").modules.get("key_vault")!.private_networking_enabled).toBe("${var.private_networking_enabled}");
  });

  it("creates private endpoints for Key Vault, registry and Azure OpenAI when private networking is on", () => {
    for (const [name, sub] of [["key-vault", "vault"], ["container-registry", "registry"], ["openai-account", "account"]]) {
      const pe = dir(name!).modules.get("private_endpoint")!;
      expect([pe.count, pe.subresource_names], name).toEqual(["${var.private_networking_enabled ? 1 : 0}", [sub]]);
    }
    expect(dir("openai-account").resources.get("azurerm_cognitive_account.this")!.public_network_access_enabled).toBe("${!var.private_networking_enabled}");
  });

  it("the registry has no admin user and apps pull with the gateway identity", () => {
    expect(dir("container-registry").resources.get("azurerm_container_registry.this")!.admin_enabled).toBe(false);
    for (const name of ["gateway-app", "simulator-app"]) {
      const app = [...dir(name).resources.values()][0]!;
      const registry = (app.registry as Block[])[0]!;
      expect(registry.password_secret_name, name).toBeUndefined();
      expect(String(registry.identity), name).toMatch(/identit/);
    }
  });
});
