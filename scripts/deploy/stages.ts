/** The five stages of `spillway deploy`, their Terraform stacks, and the stack outputs the CLI reads. */

export const STAGES = ["bootstrap", "observability", "platform", "foundry", "workload"] as const;
export type Stage = (typeof STAGES)[number];

export const STACK_DIR: Record<Stage, string> = {
  bootstrap: "00-bootstrap",
  observability: "05-observability",
  platform: "10-platform",
  foundry: "15-foundry",
  workload: "20-workload",
};

/** Stacks whose outputs a stage needs before its own plan (bootstrap: the state backend). */
export const DEPENDS_ON: Record<Stage, Stage[]> = {
  bootstrap: [],
  observability: ["bootstrap"],
  platform: ["bootstrap"],
  foundry: ["bootstrap"],
  workload: ["bootstrap", "platform", "foundry"],
};

/**
 * Every `terraform output` the CLI reads, by stage. tests/terraform checks that each exists in the stack and is
 * not sensitive, so a renamed output breaks a test instead of a deployment.
 */
export const OUTPUTS_READ: Record<Stage, string[]> = {
  bootstrap: ["state_container_name", "state_resource_group_name", "state_storage_account_name"],
  observability: ["application_insights_name", "resource_group_name"],
  platform: ["container_registry_login_server", "container_registry_name", "key_vault_name"],
  foundry: ["backends"],
  workload: ["gateway_app_name", "gateway_url", "resource_group_name"],
};

/** Outputs printed after a stage finishes (non-sensitive by construction). */
export const SUMMARY_OUTPUTS: Record<Stage, string[]> = {
  bootstrap: ["state_resource_group_name", "state_storage_account_name"],
  observability: ["resource_group_name", "application_insights_name"],
  platform: ["key_vault_name", "container_registry_login_server"],
  foundry: ["backends"],
  workload: ["gateway_url", "gateway_app_name", "resource_group_name"],
};

export const GATEWAY_REPOSITORY = "spillway-gateway";
export const SIMULATOR_REPOSITORY = "spillway-simulator";
export const GATEWAY_DOCKERFILE = "apisix/Dockerfile";
export const SIMULATOR_DOCKERFILE = "scripts/deploy/simulator.Dockerfile";
/** Secrets the CLI creates in Key Vault when the secrets file does not set them. */
export const SIMULATOR_KEY_ENV = "SIMULATOR_API_KEY";
export const REDIS_PASSWORD_ENV = "SPILLWAY_REDIS_PASSWORD";

export function isStage(s: string): s is Stage {
  return (STAGES as readonly string[]).includes(s);
}
