/**
 * The deploy planner: env files + options -> the exact list of az/terraform/docker commands, with no I/O.
 * Arguments may hold `{{stage.output}}` placeholders (values of earlier `terraform output -json` captures) and
 * `{{secret-file:KEY}}` (a 0600 temp file holding that secret, created by the executor) and `{{context:NAME}}` (a
 * staged image build context). Secret values are never part of a plan, so printing a plan cannot leak them.
 */
import path from "node:path";
import { nextBackendIndex, secretName, type EnvConfig } from "./settings.ts";
import {
  DEPENDS_ON, GATEWAY_DOCKERFILE, GATEWAY_REPOSITORY, REDIS_PASSWORD_ENV, SIMULATOR_DOCKERFILE, SIMULATOR_KEY_ENV,
  SIMULATOR_REPOSITORY, STACK_DIR, SUMMARY_OUTPUTS, type Stage,
} from "./stages.ts";

export type Tool = "az" | "terraform" | "docker" | "npm";

/** A tfvars value; `$ref` objects are filled from captured outputs, `$template` strings get their placeholders filled. */
export type TfValue = string | number | boolean | null | TfValue[] | { [key: string]: TfValue } | TfRef | TfTemplate;
export interface TfRef { $ref: string; fallback: TfValue }
export interface TfTemplate { $template: string }

export type Action =
  | { kind: "run"; tool: Tool; args: string[]; captureAs?: string }
  | { kind: "write-tfvars"; file: string; values: Record<string, TfValue> }
  /** `az keyvault secret set` fed from a temp file; with generateIfMissing the value is random and only set when absent. */
  | { kind: "sync-secret"; envKey: string; name: string; generateIfMissing: boolean; showArgs: string[]; setArgs: string[] }
  | { kind: "summary"; from: string; outputs: string[] }
  /** Copy the files `<dockerfile>.dockerignore` lets through into a temp dir, named by `{{context:<name>}}`. */
  | { kind: "stage-context"; name: string; dockerfile: string };

export interface Step {
  title: string;
  actions: Action[];
}

export interface PlanInput {
  stage: Stage;
  config: EnvConfig;
  repoRoot: string;
  imageTag: string;
  apisix: { version: string; image: string };
  deployE2e: boolean;
  localDocker: boolean;
  skipBuild: boolean;
  planOnly: boolean;
  /** Optional user files terraform/env/<env>/<stack>.tfvars that exist, by stage (absolute paths). */
  userVarFiles: Partial<Record<Stage, string>>;
}

export interface Plan {
  stage: Stage;
  env: string;
  steps: Step[];
  warnings: string[];
}

const run = (tool: Tool, args: string[], captureAs?: string): Action => ({ kind: "run", tool, args, ...(captureAs ? { captureAs } : {}) });

function stackPath(p: PlanInput, stage: Stage): string {
  return path.posix.join(p.repoRoot, "terraform", "stacks", STACK_DIR[stage]);
}

function generated(p: PlanInput, file: string): string {
  return path.posix.join(p.repoRoot, "terraform", ".generated", p.config.env, file);
}

function initArgs(p: PlanInput, stage: Stage): string[] {
  const base = [`-chdir=${stackPath(p, stage)}`, "init", "-input=false", "-reconfigure"];
  if (stage === "bootstrap") {
    return [...base, `-backend-config=path=${path.posix.join(p.repoRoot, "terraform", "state", p.config.env, "00-bootstrap.tfstate")}`];
  }
  return [
    ...base,
    "-backend-config=resource_group_name={{bootstrap.state_resource_group_name}}",
    "-backend-config=storage_account_name={{bootstrap.state_storage_account_name}}",
    "-backend-config=container_name={{bootstrap.state_container_name}}",
    `-backend-config=key=${p.config.env}/${STACK_DIR[stage]}.tfstate`,
    "-backend-config=use_azuread_auth=true",
  ];
}

function readOutputs(p: PlanInput, stage: Stage): Step {
  return {
    title: `Read ${STACK_DIR[stage]} outputs`,
    actions: [run("terraform", initArgs(p, stage)), run("terraform", [`-chdir=${stackPath(p, stage)}`, "output", "-json"], stage)],
  };
}

function commonVars(c: EnvConfig): Record<string, TfValue> {
  return {
    environment: c.env,
    location: c.deploy.location,
    subscription_id: c.deploy.subscriptionId,
    tags: c.deploy.tags,
    workload_name: c.deploy.workloadName,
  };
}

/** The stage's own variables; tests/terraform checks that they match the stack's declarations. */
export function stageVars(p: PlanInput, secretNames: string[]): Record<string, TfValue> {
  const c = p.config;
  const d = c.deploy;
  switch (p.stage) {
    case "bootstrap":
      return { ...commonVars(c), state_allowed_ip_ranges: d.operatorIpRanges };
    case "observability":
      return commonVars(c);
    case "platform":
      return { ...commonVars(c), operator_ip_ranges: d.operatorIpRanges, private_networking_enabled: d.privateNetworking };
    case "foundry":
      return { ...commonVars(c), local_auth_enabled: d.foundryLocalAuth, private_networking_enabled: d.privateNetworking };
    case "workload":
      return {
        ...commonVars(c),
        app_settings: c.appSettings,
        backend_index_offset: nextBackendIndex([...Object.keys(c.appSettings), ...Object.keys(c.secrets)]),
        deploy_e2e: p.deployE2e,
        gateway_cpu: d.gatewayCpu,
        gateway_image: { $template: `{{platform.container_registry_login_server}}/${GATEWAY_REPOSITORY}:${p.imageTag}` },
        http_concurrent_requests: d.httpConcurrency,
        ingress_allowed_ip_ranges: d.ingressAllowedIps,
        ingress_external: d.ingressExternal,
        key_vault_watch_interval_seconds: d.keyVaultWatchSeconds,
        max_replicas: d.maxReplicas,
        min_replicas: d.minReplicas,
        private_networking_enabled: d.privateNetworking,
        provisioned_backends: { $ref: "foundry.backends", fallback: [] },
        redis_enabled: d.redis,
        secret_names: secretNames,
        ...(p.deployE2e ? { simulator_image: { $template: `{{platform.container_registry_login_server}}/${SIMULATOR_REPOSITORY}:${p.imageTag}` } } : {}),
        telemetry_enabled: d.telemetry,
      };
  }
}

function secretSteps(p: PlanInput): { steps: Step[]; names: string[] } {
  const vault = "{{platform.key_vault_name}}";
  const wanted = new Map<string, boolean>(Object.keys(p.config.secrets).map((k) => [k, false]));
  if (p.deployE2e && !wanted.has(SIMULATOR_KEY_ENV)) wanted.set(SIMULATOR_KEY_ENV, true);
  if (p.config.deploy.redis && !wanted.has(REDIS_PASSWORD_ENV)) wanted.set(REDIS_PASSWORD_ENV, true);
  const steps: Step[] = [];
  for (const [envKey, generateIfMissing] of wanted) {
    const name = secretName(envKey);
    const showArgs = ["keyvault", "secret", "show", "--vault-name", vault, "--name", name, "--query", "id", "--output", "tsv"];
    const setArgs = ["keyvault", "secret", "set", "--vault-name", vault, "--name", name, "--file", `{{secret-file:${envKey}}}`, "--encoding", "utf-8", "--output", "none"];
    steps.push({
      title: generateIfMissing ? `Ensure generated secret ${name} exists in Key Vault` : `Sync secret ${envKey} to Key Vault as ${name}`,
      actions: [{ kind: "sync-secret", envKey, name, generateIfMissing, showArgs, setArgs }],
    });
  }
  return { steps, names: [...wanted.keys()].map(secretName).sort() };
}

function imageSteps(p: PlanInput): Step[] {
  const buildArgs = ["--build-arg", `APISIX_VERSION=${p.apisix.version}`, "--build-arg", `APISIX_IMAGE=${p.apisix.image}`];
  const images = [{ repo: GATEWAY_REPOSITORY, dockerfile: GATEWAY_DOCKERFILE }];
  if (p.deployE2e) images.push({ repo: SIMULATOR_REPOSITORY, dockerfile: SIMULATOR_DOCKERFILE });
  const steps: Step[] = [{ title: "Build the Lua plugins (npm run build)", actions: [run("npm", ["run", "build"])] }];
  for (const img of images) {
    const ref = `{{platform.container_registry_login_server}}/${img.repo}:${p.imageTag}`;
    const context = `{{context:${img.repo}}}`;
    const stage: Action = { kind: "stage-context", name: img.repo, dockerfile: img.dockerfile };
    steps.push(
      p.localDocker
        ? {
            title: `Build ${img.repo}:${p.imageTag} with local Docker and push it`,
            actions: [
              stage,
              run("docker", ["build", "--file", `${context}/${img.dockerfile}`, ...buildArgs, "--tag", ref, context]),
              run("az", ["acr", "login", "--name", "{{platform.container_registry_name}}"]),
              run("docker", ["push", ref]),
            ],
          }
        : {
            title: `Build ${img.repo}:${p.imageTag} in ACR (remote build)`,
            actions: [
              stage,
              run("az", ["acr", "build", "--registry", "{{platform.container_registry_name}}", "--image", `${img.repo}:${p.imageTag}`, "--file", img.dockerfile, ...buildArgs, context]),
            ],
          },
    );
  }
  return steps;
}

function warnings(p: PlanInput): string[] {
  const out: string[] = [];
  const d = p.config.deploy;
  if (!d.privateNetworking && ["platform", "workload"].includes(p.stage)) {
    out.push(
      d.operatorIpRanges.length > 0
        ? "Key Vault accepts public connections only from DEPLOY_OPERATOR_IP_RANGES; set DEPLOY_PRIVATE_NETWORKING=true for production."
        : "Key Vault and the registry accept connections from any network (Entra ID RBAC still applies); set DEPLOY_OPERATOR_IP_RANGES or DEPLOY_PRIVATE_NETWORKING=true for production.",
    );
  }
  if (d.privateNetworking && (p.stage === "workload" || (p.stage === "foundry" && d.foundryLocalAuth))) {
    out.push("Key Vault has no public access: run this from a machine that reaches the virtual network (peering, VPN, or a runner inside it), or the Key Vault writes fail.");
  }
  if (p.stage === "workload" && d.ingressExternal && /^(false|0|no|off)$/i.test(p.config.appSettings.GATEWAY_REQUIRE_AUTH ?? "")) {
    out.push("GATEWAY_REQUIRE_AUTH=false with external ingress: anyone who finds the URL can spend your Azure OpenAI quota.");
  }
  if (p.stage === "workload" && d.minReplicas === 0) out.push("DEPLOY_MIN_REPLICAS=0: the first request after an idle period waits for a cold start.");
  return out;
}

export function planDeploy(p: PlanInput): Plan {
  const steps: Step[] = DEPENDS_ON[p.stage].map((dep) => readOutputs(p, dep));
  let secretNames: string[] = [];
  if (p.stage === "workload") {
    const secrets = secretSteps(p);
    secretNames = secrets.names;
    steps.push(...secrets.steps);
    if (!p.skipBuild) steps.push(...imageSteps(p));
  }
  const stack = STACK_DIR[p.stage];
  const varsFile = generated(p, `${stack}.tfvars.json`);
  const planFile = generated(p, `${stack}.tfplan`);
  const userFile = p.userVarFiles[p.stage];
  steps.push({ title: `Write Terraform variables for ${stack}`, actions: [{ kind: "write-tfvars", file: varsFile, values: stageVars(p, secretNames) }] });
  steps.push({
    title: `Plan ${stack}`,
    actions: [
      run("terraform", initArgs(p, p.stage)),
      run("terraform", [`-chdir=${stackPath(p, p.stage)}`, "plan", "-input=false", `-out=${planFile}`, `-var-file=${varsFile}`, ...(userFile ? [`-var-file=${userFile}`] : [])]),
    ],
  });
  if (!p.planOnly) {
    steps.push({ title: `Apply ${stack}`, actions: [run("terraform", [`-chdir=${stackPath(p, p.stage)}`, "apply", "-input=false", planFile])] });
    steps.push({
      title: `Summarize ${stack}`,
      actions: [run("terraform", [`-chdir=${stackPath(p, p.stage)}`, "output", "-json"], p.stage), { kind: "summary", from: p.stage, outputs: SUMMARY_OUTPUTS[p.stage] }],
    });
  }
  return { stage: p.stage, env: p.config.env, steps, warnings: warnings(p) };
}
