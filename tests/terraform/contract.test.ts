import { beforeAll, describe, expect, it } from "vitest";
import type { Plan, TfValue } from "../../scripts/deploy/plan.ts";
import { OUTPUTS_READ, STACK_DIR, STAGES, type Stage } from "../../scripts/deploy/stages.ts";
import { fixturePlan } from "../deploy/helpers.ts";
import { expressions, listTfDirs, loadDir, type Block, type TfDir } from "./hcl.ts";

let stacks = new Map<Stage, TfDir>();
let modules = new Map<string, TfDir>();

beforeAll(async () => {
  const dirs = await Promise.all(listTfDirs().map(loadDir));
  stacks = new Map(STAGES.map((s) => [s, dirs.find((d) => d.name === STACK_DIR[s])!]));
  modules = new Map(dirs.filter((d) => d.kind === "module").map((d) => [d.name, d]));
});

function allPlans(): Plan[] {
  const plans: Plan[] = [];
  for (const stage of STAGES) {
    for (const env of ["dev", "prod"] as const) {
      plans.push(fixturePlan(stage, env));
      if (stage === "workload") plans.push(fixturePlan(stage, env, { deployE2e: true, localDocker: true }));
    }
  }
  return plans;
}

function refsIn(value: TfValue | string[], out: string[] = []): string[] {
  if (typeof value === "string") for (const m of value.matchAll(/\{\{([a-z]+)\.([a-z0-9_]+)\}\}/g)) out.push(`${m[1]}.${m[2]}`);
  else if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === "object") {
    if ("$ref" in value && typeof value.$ref === "string") out.push(value.$ref);
    else for (const v of Object.values(value)) refsIn(v as TfValue, out);
  }
  return out;
}

describe("the CLI and the stacks agree", () => {
  it("every output the CLI reads exists in its stack and is not sensitive", () => {
    for (const stage of STAGES) {
      for (const name of OUTPUTS_READ[stage]) {
        const output = stacks.get(stage)!.outputs.get(name);
        expect(output, `${STACK_DIR[stage]} output ${name}`).toBeDefined();
        expect(output!.sensitive, `${STACK_DIR[stage]} output ${name}`).not.toBe(true);
      }
    }
  });

  it("every placeholder in every plan is an output listed in OUTPUTS_READ", () => {
    for (const plan of allPlans()) {
      for (const action of plan.steps.flatMap((s) => s.actions)) {
        const refs =
          action.kind === "run" ? refsIn(action.args)
          : action.kind === "write-tfvars" ? refsIn(action.values)
          : action.kind === "sync-secret" ? refsIn([...action.showArgs, ...action.setArgs])
          : action.kind === "summary" ? action.outputs.map((o) => `${action.from}.${o}`)
          : [];
        for (const ref of refs) {
          const [stage, output] = ref.split(".") as [Stage, string];
          expect(OUTPUTS_READ[stage], `${plan.stage}: ${ref}`).toContain(output);
        }
      }
    }
  });

  it("the tfvars the CLI writes set only declared variables, and every required one", () => {
    for (const plan of allPlans()) {
      const write = plan.steps.flatMap((s) => s.actions).find((a) => a.kind === "write-tfvars");
      if (write?.kind !== "write-tfvars") throw new Error(`${plan.stage} writes no tfvars`);
      const stack = stacks.get(plan.stage)!;
      const declared = new Set(stack.variables.keys());
      const keys = Object.keys(write.values);
      expect(keys.filter((k) => !declared.has(k)), `${plan.stage}: undeclared`).toEqual([]);
      const required = [...stack.variables].filter(([, v]) => !("default" in v)).map(([n]) => n);
      expect(required.filter((r) => !keys.includes(r)), `${plan.stage}: required but not set`).toEqual([]);
    }
  });

  it("the foundry `backends` output has the fields the workload's provisioned_backends expects", () => {
    const output = expressions(stacks.get("foundry")!.outputs.get("backends")!.value ?? null).join("\n");
    for (const field of ["name", "endpoint", "priority", "weight", "key_secret_name"]) expect(output).toMatch(new RegExp(`\\b${field}\\b`));
    expect(String(stacks.get("workload")!.variables.get("provisioned_backends")!.type)).toMatch(/name\s*=\s*string.*endpoint.*priority.*weight.*key_secret_name/s);
  });
});

describe("gateway container app", () => {
  const app = () => modules.get("gateway-app")!.resources.get("azurerm_container_app.this")!;
  const gatewayContainer = () => ((app().template as Block[])[0]!.container as Block[])[0]!;

  it("probes /healthz on 9080 for startup, readiness and liveness", () => {
    const vars = modules.get("gateway-app")!.variables;
    expect([vars.get("health_path")!.default, vars.get("port")!.default]).toEqual(["/healthz", 9080]);
    for (const probe of ["startup_probe", "readiness_probe", "liveness_probe"]) {
      const p = (gatewayContainer()[probe] as Block[] | undefined)?.[0];
      expect(p, probe).toBeDefined();
      expect([p!.path, p!.port, p!.transport], probe).toEqual(["${var.health_path}", "${var.port}", "HTTP"]);
    }
    expect((app().ingress as Block[])[0]!.target_port).toBe("${var.port}");
  });

  it("scales on HTTP concurrency between min and max replicas, down to zero", () => {
    const template = (app().template as Block[])[0]!;
    expect([template.min_replicas, template.max_replicas]).toEqual(["${var.min_replicas}", "${var.max_replicas}"]);
    expect((template.http_scale_rule as Block[])[0]!.concurrent_requests).toBe("${tostring(var.http_concurrent_requests)}");
    const minValidation = (modules.get("gateway-app")!.variables.get("min_replicas")!.validation as Block[])[0]!;
    expect(minValidation.condition).toMatch(/var\.min_replicas >= 0/);
  });

  it("references secrets in Key Vault by identity instead of holding values", () => {
    const secret = ((app().dynamic as Block).secret as Block[]).find((s) => JSON.stringify(s).includes("key_vault_secret_id"))!;
    const content = (secret.content as Block[])[0]!;
    expect(content.identity).toBe("${var.identities.gateway.id}");
    expect(content.key_vault_secret_id).toBe("${var.key_vault_uri}secrets/${secret.value}");
  });

  it("runs the OTel collector sidecar without the rendered config volume", () => {
    const collector = (((app().template as Block[])[0]!.dynamic as Block).container as Block[])[0]!;
    const content = (collector.content as Block[])[0]!;
    expect(content.args).toEqual(["--config=env:OTELCOL_CONFIG"]);
    expect(content.volume_mounts).toBeUndefined();
  });

  it("E2E mode adds internal simulators and turns the renderer's E2E routes on", () => {
    const workload = stacks.get("workload")!;
    expect(workload.modules.get("simulator")!.for_each).toMatch(/local\.simulator_list/);
    const sim = modules.get("simulator-app")!.resources.get("azurerm_container_app.this")!;
    expect((sim.ingress as Block[])[0]!.external_enabled).toBe(false);
    expect(workload.files.map((f) => f.text).join("\n")).toMatch(/var\.deploy_e2e \? \{ GATEWAY_E2E_TEST_MODE = "true" \}/);
  });
});
