/** Registers `spillway deploy <stage> <env>`; the work is in run.ts. */
import type { Command } from "commander";
import { run } from "./run.ts";
import { STAGES } from "./stages.ts";

const EXAMPLES = `
Stages, in order (foundry is optional):
  bootstrap      Terraform state storage (local state, terraform/state/<env>/)
  observability  Log Analytics, Application Insights, Azure Monitor workspace
  platform       Container registry, Key Vault (RBAC), identities, optional VNet + private endpoints
  foundry        Azure OpenAI / AI Foundry accounts and model deployments (terraform/env/<env>/15-foundry.tfvars)
  workload       secrets -> Key Vault, image build, Container Apps environment and gateway

Settings come from config/appsettings.<env>.env (DEPLOY_* keys) and secrets from config/secrets.<env>.env.

Examples:
  $ spillway deploy bootstrap dev
  $ spillway deploy workload dev --dry-run
  $ spillway deploy workload dev --deploy-e2e
  $ spillway deploy workload prod --local-docker --plan-only
`;

export function register(program: Command): void {
  program
    .command("deploy")
    .description("Deploy Spillway to Azure Container Apps with Terraform, one stage at a time")
    .argument("<stage>", STAGES.join(" | "))
    .argument("<env>", "environment code, e.g. dev (reads config/appsettings.<env>.env, config/secrets.<env>.env)")
    .option("--dry-run", "print the exact az/terraform/docker commands, secrets redacted, and change nothing")
    .option("--deploy-e2e", "workload: add the Azure OpenAI simulators and the E2E routes")
    .option("--local-docker", "workload: build with local Docker and push, instead of an ACR remote build")
    .option("--skip-build", "workload: deploy an image already in the registry (needs --image-tag)")
    .option("--image-tag <tag>", "workload: image tag (default <apisix version>-<git commit>)")
    .option("--plan-only", "stop after `terraform plan`")
    .option("--config-dir <dir>", "directory of the env files", "config")
    .addHelpText("after", EXAMPLES)
    .action(async (stage: string, env: string, o: Record<string, unknown>) => {
      await run({
        stage,
        env,
        dryRun: o.dryRun === true,
        deployE2e: o.deployE2e === true,
        localDocker: o.localDocker === true,
        skipBuild: o.skipBuild === true,
        imageTag: typeof o.imageTag === "string" ? o.imageTag : undefined,
        planOnly: o.planOnly === true,
        configDir: typeof o.configDir === "string" ? o.configDir : undefined,
      });
    });
}
