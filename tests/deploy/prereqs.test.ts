import { describe, expect, it } from "vitest";
import { EnvironmentError } from "../../scripts/lib/errors.ts";
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
    ["no .dockerignore when building", { dockerignore: null }, { buildsImages: true }, /\.dockerignore is missing: image builds would upload config\/secrets\.dev\.env/],
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

  it("names each file a .dockerignore lets through", () => {
    expect(contextProblems("node_modules\nconfig/secrets.*.env\n", "dev")).toEqual([
      ".dockerignore does not exclude terraform/state/dev/00-bootstrap.tfstate; image builds would upload it. Add a line such as terraform/state/",
    ]);
    expect(contextProblems("config/secrets.*.env\nterraform/state/\n", "dev")).toEqual([]);
  });
});
