/**
 * `spillway deploy <stage> <env>`: read the env files, plan, then print the plan (--dry-run) or check the
 * prerequisites and execute it. Adapters for processes, files and temp secrets live here.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readEnvFile } from "../../renderer/env-file.ts";
import { ConfigError, EnvironmentError, UsageError } from "../../lib/errors.ts";
import { pins, repoRoot } from "../lib/pins.ts";
import { ignoreFileOf, stageContext } from "./context.ts";
import { executePlan, type ExecDeps, type RunResult } from "./execute.ts";
import { planDeploy, type Plan, type Tool } from "./plan.ts";
import { assertPrerequisites, type ProbeResult } from "./prereqs.ts";
import { formatPlan } from "./render.ts";
import { parseEnvConfig, type EnvConfig } from "./settings.ts";
import { GATEWAY_DOCKERFILE, isStage, SIMULATOR_DOCKERFILE, STACK_DIR, STAGES, type Stage } from "./stages.ts";

export interface DeployOptions {
  stage: string;
  env: string;
  dryRun?: boolean;
  deployE2e?: boolean;
  localDocker?: boolean;
  skipBuild?: boolean;
  imageTag?: string;
  planOnly?: boolean;
  configDir?: string;
  /** Where output goes (stdout for the plan, stderr for progress); injectable for tests. */
  out?: (text: string) => void;
  err?: (text: string) => void;
}

export function loadEnvConfig(configDir: string, env: string, stage: Stage): EnvConfig {
  const appFile = path.join(configDir, `appsettings.${env}.env`);
  const secretsFile = path.join(configDir, `secrets.${env}.env`);
  if (!existsSync(appFile)) {
    throw new ConfigError([`${appFile} not found: copy config/appsettings.env.example to it and set DEPLOY_SUBSCRIPTION_ID and DEPLOY_LOCATION (see config/README.md)`]);
  }
  let secrets: Record<string, string> = {};
  if (existsSync(secretsFile)) secrets = readEnvFile(secretsFile);
  else if (stage === "workload") {
    throw new ConfigError([`${secretsFile} not found: copy config/secrets.env.example to it and set your gateway client keys (see config/README.md)`]);
  }
  return parseEnvConfig(env, readEnvFile(appFile), secrets, { appsettings: appFile, secrets: secretsFile });
}

/** <apisix version>-<commit>, plus a timestamp when the tree has uncommitted changes (a new tag forces a new revision). */
export function defaultImageTag(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const git = (args: string[]) => spawnSync("git", args, { cwd: repoRoot, encoding: "utf8" });
  const head = git(["rev-parse", "--short=12", "HEAD"]);
  if (head.status !== 0) return `${pins.apisix_version}-${stamp}`;
  const dirty = git(["status", "--porcelain"]).stdout.trim() !== "";
  return `${pins.apisix_version}-${head.stdout.trim()}${dirty ? `-${stamp}` : ""}`;
}

function spawnTool(tool: Tool | "docker" | "git", args: string[], capture: boolean, quiet = false): Promise<RunResult & { found: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { cwd: repoRoot, stdio: ["ignore", capture ? "pipe" : "inherit", quiet ? "ignore" : "inherit"] });
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.on("error", (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? resolve({ found: false, code: 127, stdout: "" }) : reject(e)));
    child.on("close", (code) => resolve({ found: true, code: code ?? 1, stdout }));
  });
}

async function probe(tool: string, args: string[]): Promise<ProbeResult> {
  return spawnTool(tool as Tool, args, true, true);
}

function realDeps(err: (t: string) => void): ExecDeps {
  return {
    async run(tool, args, capture) {
      const res = await spawnTool(tool, args, capture);
      if (!res.found) throw new EnvironmentError(`\`${tool}\` is not on PATH; see docs/deploy.md#prerequisites.`);
      return res;
    },
    writeJson(file, value) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
    },
    tempSecretFile(value) {
      const dir = mkdtempSync(path.join(os.tmpdir(), "spillway-secret-"));
      const file = path.join(dir, "value");
      writeFileSync(file, value, { mode: 0o600 });
      return { path: file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
    randomSecret: () => randomBytes(32).toString("base64url"),
    stageContext: (dockerfile) => stageContext(repoRoot, dockerfile),
    log: err,
  };
}

function readIgnoreFiles(dockerfiles: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const d of dockerfiles) {
    const file = ignoreFileOf(d);
    out[file] = existsSync(path.join(repoRoot, file)) ? readFileSync(path.join(repoRoot, file), "utf8") : null;
  }
  return out;
}

export function buildPlan(opts: DeployOptions, config: EnvConfig, imageTag: string): Plan {
  const stage = opts.stage as Stage;
  const userVarFiles: Partial<Record<Stage, string>> = {};
  const userFile = path.join(repoRoot, "terraform", "env", opts.env, `${STACK_DIR[stage]}.tfvars`);
  if (existsSync(userFile)) userVarFiles[stage] = userFile;
  return planDeploy({
    stage,
    config,
    repoRoot,
    imageTag,
    apisix: { version: pins.apisix_version, image: pins.apisix_image },
    deployE2e: opts.deployE2e ?? false,
    localDocker: opts.localDocker ?? false,
    skipBuild: opts.skipBuild ?? false,
    planOnly: opts.planOnly ?? false,
    userVarFiles,
  });
}

export async function run(opts: DeployOptions): Promise<void> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  const err = opts.err ?? ((t: string) => process.stderr.write(t + "\n"));
  if (!isStage(opts.stage)) throw new UsageError(`unknown stage "${opts.stage}"; use one of ${STAGES.join(", ")}`);
  if (opts.stage !== "workload" && (opts.deployE2e || opts.localDocker || opts.skipBuild || opts.imageTag)) {
    throw new UsageError("--deploy-e2e, --local-docker, --skip-build and --image-tag apply to the workload stage only");
  }
  if (opts.skipBuild && !opts.imageTag) throw new UsageError("--skip-build needs --image-tag <tag> of an image already in the registry");
  const config = loadEnvConfig(path.resolve(repoRoot, opts.configDir ?? "config"), opts.env, opts.stage);
  const plan = buildPlan(opts, config, opts.imageTag ?? defaultImageTag());
  const secretValues = Object.values(config.secrets);

  if (opts.dryRun) {
    out(formatPlan(plan, secretValues));
    return;
  }
  const buildsImages = opts.stage === "workload" && !opts.skipBuild;
  const az = await probe("az", ["version", "--output", "json"]);
  assertPrerequisites(
    { env: opts.env, subscriptionId: config.deploy.subscriptionId, appsettingsFile: `config/appsettings.${opts.env}.env`, localDocker: opts.localDocker ?? false, buildsImages },
    {
      az,
      account: az.found ? await probe("az", ["account", "show", "--output", "json"]) : undefined,
      terraform: await probe("terraform", ["version", "-json"]),
      docker: opts.localDocker ? await probe("docker", ["version"]) : undefined,
      dockerignores: buildsImages ? readIgnoreFiles(opts.deployE2e ? [GATEWAY_DOCKERFILE, SIMULATOR_DOCKERFILE] : [GATEWAY_DOCKERFILE]) : undefined,
    },
  );
  await executePlan(plan, config.secrets, realDeps(err));
}
