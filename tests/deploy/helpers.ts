/** Shared fixtures for the deploy CLI tests: the env files in tests/deploy/fixtures and a fixed repo root. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { planDeploy, type Plan, type PlanInput } from "../../scripts/deploy/plan.ts";
import { loadEnvConfig } from "../../scripts/deploy/run.ts";
import type { Stage } from "../../scripts/deploy/stages.ts";

export const fixturesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
export const goldenDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden");

export function fixtureConfig(env: "dev" | "prod", stage: Stage = "workload") {
  return loadEnvConfig(fixturesDir, env, stage);
}

export function fixturePlan(stage: Stage, env: "dev" | "prod", over: Partial<PlanInput> = {}): Plan {
  return planDeploy({
    stage,
    config: fixtureConfig(env, stage),
    repoRoot: "/repo",
    imageTag: "3.18.0-abc123def456",
    apisix: { version: "3.18.0", image: "apache/apisix:3.18.0-debian" },
    deployE2e: false,
    localDocker: false,
    skipBuild: false,
    planOnly: false,
    userVarFiles: {},
    ...over,
  });
}

/** Every secret value in the fixtures. */
export function fixtureSecretValues(): string[] {
  return [...Object.values(fixtureConfig("dev").secrets), ...Object.values(fixtureConfig("prod").secrets)];
}
