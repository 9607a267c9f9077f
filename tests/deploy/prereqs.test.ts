import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { EnvironmentError } from "../../lib/errors.ts";
import { isIgnored, contextProblems } from "../../scripts/deploy/dockerignore.ts";
import { assertPrerequisites, prerequisiteProblems, type Needs, type Probes } from "../../scripts/deploy/prereqs.ts";

const SUB = "00000000-1111-2222-3333-444444444444";
const NEEDS: Needs = { env: "dev", subscriptionId: SUB, appsettingsFile: "config/appsettings.dev.env", localDocker: false, buildsImages: false };
const ok = (stdout = "") => ({ found: true, code: 0, stdout });
const GOOD: Probes = {
  az: ok("{}"),
  account: ok(JSON.stringify({ id: SUB, name: "Contoso Dev" })),
  terraform: ok(JSON.stringify({ terraform_version: "1.9.5" })),
};

describe("prerequisite checks", () => {
  it("passes when az, terraform and the subscription are right", () => {
    expect(prerequisiteProblems(NEEDS, GOOD)).toEqual([]);
  });

  it.each<[string, Partial<Probes>, Partial<Needs>, RegExp]>([
    ["az missing", { az: { found: false, code: 127, stdout: "" }, account: undefined }, {}, /Azure CLI `az` is not on PATH\. Install it .*then run `az login`/],
    ["not logged in", { account: { found: true, code: 1, stdout: "" } }, {}, /not logged in\. Run `az login`, then `az account set --subscription 00000000-/],
    ["wrong subscription", { account: ok(JSON.stringify({ id: "99999999-1111-2222-3333-444444444444", name: "Prod" })) }, {}, /on subscription 99999999-1111-2222-3333-444444444444 \(Prod\), but DEPLOY_SUBSCRIPTION_ID in config\/appsettings\.dev\.env is 00000000-.*az account set --subscription 00000000-/],
    ["terraform missing", { terraform: { found: false, code: 127, stdout: "" } }, {}, /Terraform is not on PATH\. Install Terraform >= 1\.6\.0/],
    ["terraform too old", { terraform: ok(JSON.stringify({ terraform_version: "1.5.7" })) }, {}, /Terraform 1\.5\.7 is too old; Spillway needs >= 1\.6\.0/],
    ["docker missing with --local-docker", {}, { localDocker: true }, /--local-docker needs Docker on PATH/],
    ["docker daemon down", { docker: { found: true, code: 1, stdout: "" } }, { localDocker: true }, /daemon does not answer/],
    ["image ignore file missing", { dockerignores: { "apisix/Dockerfile.dockerignore": null } }, { buildsImages: true }, /apisix\/Dockerfile\.dockerignore is missing: it lists the files the image build needs/],
    ["image ignore file lets secrets in", { dockerignores: { "apisix/Dockerfile.dockerignore": "node_modules\nterraform/state/\n" } }, { buildsImages: true }, /lets config\/secrets\.dev\.env into the build context/],
  ])("explains: %s", (_, probes, needs, message) => {
    const got = prerequisiteProblems({ ...NEEDS, ...needs }, { ...GOOD, ...probes });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(message);
  });

  it("accepts the old `terraform version` text output", () => {
    expect(prerequisiteProblems(NEEDS, { ...GOOD, terraform: ok("Terraform v1.6.0\non linux_amd64\n") })).toEqual([]);
  });

  it("lists every problem in one EnvironmentError", () => {
    const probes: Probes = { az: { found: false, code: 127, stdout: "" }, terraform: { found: false, code: 127, stdout: "" } };
    expect(() => assertPrerequisites(NEEDS, probes)).toThrow(EnvironmentError);
    expect(() => assertPrerequisites(NEEDS, probes)).toThrow(/cannot deploy yet:\n  - Azure CLI `az` is not on PATH.*\n  - Terraform is not on PATH/);
  });
});

describe("build context", () => {
  it.each([
    ["config/secrets.*.env", "config/secrets.dev.env", true],
    ["config/secrets.*.env", "config/appsettings.dev.env", false],
    ["config/", "config/secrets.dev.env", true],
    ["**/secrets.*.env", "config/secrets.dev.env", true],
    ["*.env", "config/secrets.dev.env", false],
    ["terraform/state", "terraform/state/dev/00-bootstrap.tfstate", true],
    ["config/*\n!config/secrets.dev.env", "config/secrets.dev.env", false],
    ["# comment\n/terraform/state/", "terraform/state/dev/00-bootstrap.tfstate", true],
  ])("%j ignores %s: %s", (rules, file, expected) => {
    expect(isIgnored(rules, file)).toBe(expected);
  });

  it("names each file an ignore file lets through", () => {
    expect(contextProblems("x.dockerignore", "node_modules\nconfig/secrets.*.env\n", "dev")).toEqual([
      'x.dockerignore lets terraform/state/dev/00-bootstrap.tfstate into the build context; exclude it (e.g. start the file with a line "*").',
    ]);
    expect(contextProblems("x.dockerignore", "*\n!renderer/**\n", "dev")).toEqual([]);
  });

  it("the image ignore files in the repo keep secrets and state out", () => {
    for (const file of ["apisix/Dockerfile.dockerignore", "scripts/deploy/simulator.Dockerfile.dockerignore"]) {
      expect(contextProblems(file, readFileSync(path.join(repoRoot, file), "utf8"), "dev"), file).toEqual([]);
    }
  });
});
