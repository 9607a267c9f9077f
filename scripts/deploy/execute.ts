/**
 * Runs a plan: resolves placeholders from captured `terraform output -json`, writes tfvars, feeds secrets to az
 * through 0600 temp files (never argv, never stdout), and reports progress. Process spawning is injected.
 */
import { EnvironmentError, InternalError } from "../../lib/errors.ts";
import type { Action, Plan, TfValue, Tool } from "./plan.ts";
import { commandLine, redact } from "./render.ts";

export interface RunResult {
  code: number;
  stdout: string;
}

export interface ExecDeps {
  /** Spawns `tool args` (argument array, no shell). capture: stdout piped and returned; otherwise inherited. */
  run(tool: Tool, args: string[], capture: boolean): Promise<RunResult>;
  writeJson(file: string, value: unknown): void;
  /** Writes value to a fresh 0600 temp file; returns its path and a cleanup that removes it. */
  tempSecretFile(value: string): { path: string; cleanup: () => void };
  randomSecret(): string;
  /** Copies the build context of a Dockerfile into a temp dir (see context.ts). */
  stageContext(dockerfile: string): { path: string; files: number; cleanup: () => void };
  log(line: string): void;
}

interface RunState {
  captures: Captures;
  /** Staged build contexts by name, removed when the plan ends. */
  contexts: Record<string, { path: string; cleanup: () => void }>;
}

type Captures = Record<string, Record<string, { value: unknown }>>;

function lookup(captures: Captures, ref: string): { found: boolean; value: unknown } {
  const [stage, output] = ref.split(".") as [string, string];
  const outputs = captures[stage];
  if (!outputs) throw new InternalError(`outputs of ${stage} were not read before they were used`);
  return output in outputs ? { found: true, value: outputs[output]!.value } : { found: false, value: undefined };
}

function fill(s: string, captures: Captures, secretFiles: Record<string, string> = {}, contexts: RunState["contexts"] = {}): string {
  return s.replace(/\{\{([^}]+)\}\}/g, (_, key: string) => {
    if (key.startsWith("context:")) {
      const ctx = contexts[key.slice("context:".length)];
      if (ctx === undefined) throw new InternalError(`build context ${key} was not staged`);
      return ctx.path;
    }
    if (key.startsWith("secret-file:")) {
      const file = secretFiles[key.slice("secret-file:".length)];
      if (file === undefined) throw new InternalError(`no temp file for ${key}`);
      return file;
    }
    const { found, value } = lookup(captures, key);
    if (!found || typeof value !== "string" || value === "") {
      const [stage] = key.split(".");
      throw new EnvironmentError(`output ${key} is missing: deploy that stage first (spillway deploy ${stage} <env>).`);
    }
    return value;
  });
}

function resolveValue(v: TfValue, captures: Captures): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, captures));
  if (v && typeof v === "object") {
    if ("$ref" in v && typeof v.$ref === "string") {
      const { found, value } = lookup(captures, v.$ref);
      return found ? value : v.fallback;
    }
    if ("$template" in v && typeof v.$template === "string") return fill(v.$template, captures);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveValue(x as TfValue, captures)]));
  }
  return v;
}

async function runChecked(deps: ExecDeps, tool: Tool, args: string[], capture: boolean): Promise<string> {
  const res = await deps.run(tool, args, capture);
  if (res.code !== 0) throw new EnvironmentError(`\`${commandLine(tool, args.slice(0, 3))} …\` failed with exit code ${res.code}; see its output above.`);
  return res.stdout;
}

async function execAction(a: Action, state: RunState, secrets: Record<string, string>, deps: ExecDeps): Promise<void> {
  const { captures } = state;
  switch (a.kind) {
    case "stage-context": {
      const staged = deps.stageContext(a.dockerfile);
      state.contexts[a.name] = staged;
      deps.log(`    staged ${staged.files} files for ${a.name}`);
      return;
    }
    case "run": {
      const args = a.args.map((x) => fill(x, captures, {}, state.contexts));
      const stdout = await runChecked(deps, a.tool, args, a.captureAs !== undefined);
      if (a.captureAs !== undefined) {
        try {
          captures[a.captureAs] = JSON.parse(stdout === "" ? "{}" : stdout) as Captures[string];
        } catch {
          throw new EnvironmentError(`\`terraform output -json\` of ${a.captureAs} did not print JSON; run it by hand to see why.`);
        }
      }
      return;
    }
    case "write-tfvars":
      deps.writeJson(a.file, resolveValue(a.values, captures));
      return;
    case "sync-secret": {
      if (a.generateIfMissing) {
        const show = await deps.run("az", a.showArgs.map((x) => fill(x, captures)), true);
        if (show.code === 0) {
          deps.log(`    ${a.name} already exists; kept`);
          return;
        }
      }
      const value = a.generateIfMissing ? deps.randomSecret() : secrets[a.envKey];
      if (value === undefined) throw new InternalError(`secret ${a.envKey} is planned but has no value`);
      const temp = deps.tempSecretFile(value);
      try {
        await runChecked(deps, "az", a.setArgs.map((x) => fill(x, captures, { [a.envKey]: temp.path })), false);
      } finally {
        temp.cleanup();
      }
      return;
    }
    case "summary":
      for (const name of a.outputs) {
        const { found, value } = lookup(captures, `${a.from}.${name}`);
        if (found) deps.log(`    ${name} = ${typeof value === "string" ? value : JSON.stringify(value)}`);
      }
      return;
  }
}

export async function executePlan(plan: Plan, secrets: Record<string, string>, deps: ExecDeps): Promise<void> {
  const secretValues = Object.values(secrets);
  const state: RunState = { captures: {}, contexts: {} };
  for (const w of plan.warnings) deps.log(`warning: ${w}`);
  try {
    for (const [i, step] of plan.steps.entries()) {
      deps.log(redact(`[${i + 1}/${plan.steps.length}] ${step.title}`, secretValues));
      for (const action of step.actions) await execAction(action, state, secrets, deps);
    }
  } finally {
    for (const ctx of Object.values(state.contexts)) ctx.cleanup();
  }
}
