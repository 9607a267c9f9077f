/**
 * Prerequisites of a real deployment: az and terraform on PATH, logged in, on the configured subscription,
 * Docker when --local-docker, and image ignore files that keep secrets out of build contexts. Probing is an adapter; judging the
 * probe results is pure, so every message is testable.
 */
import { EnvironmentError } from "../../lib/errors.ts";
import { contextProblems } from "./dockerignore.ts";

export interface ProbeResult {
  /** false when the executable is not on PATH. */
  found: boolean;
  code: number;
  stdout: string;
}

export interface Probes {
  az: ProbeResult;
  terraform: ProbeResult;
  /** `az account show -o json`; absent when az is missing. */
  account?: ProbeResult;
  /** `docker version`; only with --local-docker. */
  docker?: ProbeResult;
  /** Text of each image's <Dockerfile>.dockerignore by path (null: missing); only when images are built. */
  dockerignores?: Record<string, string | null>;
}

export interface Needs {
  env: string;
  subscriptionId: string;
  appsettingsFile: string;
  localDocker: boolean;
  buildsImages: boolean;
}

export const MIN_TERRAFORM = [1, 6, 0] as const;

function parseVersion(v: string): number[] | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function atLeast(v: number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) if (v[i]! !== min[i]!) return v[i]! > min[i]!;
  return true;
}

function terraformVersion(stdout: string): string | null {
  try {
    const doc = JSON.parse(stdout) as { terraform_version?: unknown };
    if (typeof doc.terraform_version === "string") return doc.terraform_version;
  } catch {
    // `terraform version` without -json support prints "Terraform v1.x.y".
  }
  return /Terraform v(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? null;
}

export function prerequisiteProblems(needs: Needs, probes: Probes): string[] {
  const problems: string[] = [];
  if (!probes.az.found) {
    problems.push("Azure CLI `az` is not on PATH. Install it (https://learn.microsoft.com/cli/azure/install-azure-cli), then run `az login`.");
  } else if (probes.account && probes.account.code !== 0) {
    problems.push(`Azure CLI is not logged in. Run \`az login\`, then \`az account set --subscription ${needs.subscriptionId}\`.`);
  } else if (probes.account) {
    let id = "";
    let name = "";
    try {
      const doc = JSON.parse(probes.account.stdout) as { id?: unknown; name?: unknown };
      id = typeof doc.id === "string" ? doc.id.toLowerCase() : "";
      name = typeof doc.name === "string" ? doc.name : "";
    } catch {
      problems.push("`az account show` did not return JSON; run `az login` again.");
    }
    if (id !== "" && id !== needs.subscriptionId.toLowerCase()) {
      problems.push(
        `Azure CLI is on subscription ${id}${name ? ` (${name})` : ""}, but DEPLOY_SUBSCRIPTION_ID in ${needs.appsettingsFile} is ${needs.subscriptionId}. ` +
          `Run \`az account set --subscription ${needs.subscriptionId}\` or fix DEPLOY_SUBSCRIPTION_ID.`,
      );
    }
  }
  if (!probes.terraform.found) {
    problems.push(`Terraform is not on PATH. Install Terraform >= ${MIN_TERRAFORM.join(".")} (https://developer.hashicorp.com/terraform/install).`);
  } else {
    const v = terraformVersion(probes.terraform.stdout);
    const parsed = v === null ? null : parseVersion(v);
    if (parsed === null) problems.push("Could not read the Terraform version from `terraform version -json`; is `terraform` really Terraform?");
    else if (!atLeast(parsed, MIN_TERRAFORM)) problems.push(`Terraform ${v} is too old; Spillway needs >= ${MIN_TERRAFORM.join(".")}. Upgrade it.`);
  }
  if (needs.localDocker) {
    if (!probes.docker?.found) problems.push("--local-docker needs Docker on PATH; install Docker or drop --local-docker to build in ACR.");
    else if (probes.docker.code !== 0) problems.push("Docker is installed but its daemon does not answer (`docker version` failed); start Docker or drop --local-docker.");
  }
  if (needs.buildsImages) {
    for (const [file, text] of Object.entries(probes.dockerignores ?? {})) problems.push(...contextProblems(file, text, needs.env));
  }
  return problems;
}

export function assertPrerequisites(needs: Needs, probes: Probes): void {
  const problems = prerequisiteProblems(needs, probes);
  if (problems.length > 0) throw new EnvironmentError(`cannot deploy yet:\n  - ${problems.join("\n  - ")}`);
}
