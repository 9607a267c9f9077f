import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatPlan } from "../../scripts/deploy/render.ts";
import { STAGES } from "../../scripts/deploy/stages.ts";
import { fixturePlan, fixtureSecretValues, goldenDir } from "./helpers.ts";

// Update with `npx vitest run tests/deploy -u` after an intended change, then review the diff.
describe("deploy command plans match the golden files", () => {
  for (const stage of STAGES) {
    it(`plans ${stage} for dev`, async () => {
      await expect(formatPlan(fixturePlan(stage, "dev"))).toMatchFileSnapshot(path.join(goldenDir, `${stage}.txt`));
    });
  }

  it("plans workload for E2E with local Docker (simulator image, generated simulator key)", async () => {
    const plan = fixturePlan("workload", "dev", { deployE2e: true, localDocker: true });
    await expect(formatPlan(plan)).toMatchFileSnapshot(path.join(goldenDir, "workload-e2e-local-docker.txt"));
  });

  it("plans workload for prod: private networking, internal ingress, Redis, scale to zero, user tfvars", async () => {
    const plan = fixturePlan("workload", "prod", { userVarFiles: { workload: "/repo/terraform/env/prod/20-workload.tfvars" } });
    await expect(formatPlan(plan)).toMatchFileSnapshot(path.join(goldenDir, "workload-prod.txt"));
  });

  it("plans foundry for prod: keyless accounts (DEPLOY_FOUNDRY_LOCAL_AUTH=false), the gateway uses Entra ID", async () => {
    await expect(formatPlan(fixturePlan("foundry", "prod"))).toMatchFileSnapshot(path.join(goldenDir, "foundry-prod-keyless.txt"));
  });

  it("plans workload with --skip-build --plan-only: no build, no apply", async () => {
    const plan = fixturePlan("workload", "dev", { skipBuild: true, planOnly: true });
    await expect(formatPlan(plan)).toMatchFileSnapshot(path.join(goldenDir, "workload-skip-build-plan-only.txt"));
  });
});

describe("plan shape", () => {
  it("never carries a secret value, whatever the options", () => {
    const secrets = fixtureSecretValues();
    for (const stage of STAGES) {
      for (const env of ["dev", "prod"] as const) {
        for (const deployE2e of [false, true]) {
          const json = JSON.stringify(fixturePlan(stage, env, { deployE2e: deployE2e && stage === "workload" }));
          for (const s of secrets) expect(json).not.toContain(s);
        }
      }
    }
  });

  it("passes secret names, not values, to Terraform", () => {
    const plan = fixturePlan("workload", "dev");
    const write = plan.steps.flatMap((s) => s.actions).find((a) => a.kind === "write-tfvars");
    expect(write?.kind === "write-tfvars" && write.values.secret_names).toEqual(["azure-openai-key-0", "gateway-client-key-0", "gateway-client-key-1"]);
  });

  it("puts provisioned backends after the indexes used in the env files", () => {
    const plan = fixturePlan("workload", "dev");
    const write = plan.steps.flatMap((s) => s.actions).find((a) => a.kind === "write-tfvars");
    expect(write?.kind === "write-tfvars" && write.values.backend_index_offset).toBe(1);
  });

  it("generates the Redis password only when the secrets file lacks it", () => {
    const titles = fixturePlan("workload", "prod").steps.map((s) => s.title);
    expect(titles).toContain("Ensure generated secret spillway-redis-password exists in Key Vault");
    expect(fixturePlan("workload", "dev").steps.map((s) => s.title).join("\n")).not.toContain("redis");
  });

  it("warns about public Key Vault access without private networking, not with it", () => {
    expect(fixturePlan("platform", "dev").warnings.join("\n")).toMatch(/DEPLOY_PRIVATE_NETWORKING=true/);
    expect(fixturePlan("platform", "prod").warnings.join("\n")).not.toMatch(/Key Vault/);
  });
});
