import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { STACK_DIR, STAGES } from "../../scripts/deploy/stages.ts";
import { terraformRoot } from "./hcl.ts";

const probe = spawnSync("terraform", ["version"], { encoding: "utf8" });
const hasTerraform = probe.error === undefined && probe.status === 0;
const version = hasTerraform ? (/Terraform (v[\d.]+)/.exec(probe.stdout)?.[1] ?? "?") : "";

/** `terraform validate` needs the azurerm provider; find out once whether `init` can install it here. */
function providerInstallable(): boolean {
  if (!hasTerraform) return false;
  const dir = mkdtempSync(path.join(os.tmpdir(), "spillway-tf-probe-"));
  try {
    writeFileSync(path.join(dir, "main.tf"), 'terraform {\n  required_providers {\n    azurerm = {\n      source  = "hashicorp/azurerm"\n      version = "~> 4.42"\n    }\n  }\n}\n');
    const init = spawnSync("terraform", [`-chdir=${dir}`, "init", "-backend=false", "-input=false"], { encoding: "utf8", timeout: 120_000, env: { ...process.env, TF_DATA_DIR: path.join(dir, ".terraform") } });
    return init.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const canInit = providerInstallable();

describe.skipIf(!hasTerraform)("terraform fmt (skipped: no `terraform` binary on PATH)", () => {
  it("terraform/ is formatted (terraform fmt -check -recursive)", () => {
    const fmt = spawnSync("terraform", ["fmt", "-check", "-recursive", "-diff", terraformRoot], { encoding: "utf8" });
    expect(fmt.status, fmt.stdout).toBe(0);
  });
});

describe.skipIf(!canInit)(
  hasTerraform
    ? `terraform validate (skipped: terraform ${version} is on PATH but cannot install hashicorp/azurerm: no access to registry.terraform.io or a provider mirror)`
    : "terraform validate (skipped: no `terraform` binary on PATH)",
  () => {
    for (const stage of STAGES) {
      it(`validates ${STACK_DIR[stage]}`, { timeout: 300_000 }, () => {
        // A copy, so init's .terraform/ and lock file never land in the work tree.
        const work = mkdtempSync(path.join(os.tmpdir(), "spillway-tf-"));
        try {
          // The repository's layout: the observability stack reads apisix/observability/alerts.yaml.
          cpSync(path.join(terraformRoot, "modules"), path.join(work, "terraform", "modules"), { recursive: true });
          cpSync(path.join(terraformRoot, "stacks"), path.join(work, "terraform", "stacks"), { recursive: true });
          cpSync(path.join(terraformRoot, "..", "apisix", "observability"), path.join(work, "apisix", "observability"), { recursive: true });
          const dir = path.join(work, "terraform", "stacks", STACK_DIR[stage]);
          const env = { ...process.env, TF_IN_AUTOMATION: "1" };
          const init = spawnSync("terraform", [`-chdir=${dir}`, "init", "-backend=false", "-input=false"], { encoding: "utf8", env });
          expect(init.status, init.stderr).toBe(0);
          const validate = spawnSync("terraform", [`-chdir=${dir}`, "validate", "-no-color"], { encoding: "utf8", env });
          expect(validate.status, validate.stdout + validate.stderr).toBe(0);
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      });
    }
  },
);
