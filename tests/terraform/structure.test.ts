import { existsSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "@cdktf/hcl2json";
import {
  dependencyGraph, findCycle, listFiles, listTfDirs, loadDir, MODULE_META_ARGS, moduleSourceDir, parseFile, references, terraformRoot,
  type Block, type TfDir,
} from "./hcl.ts";

let dirs: TfDir[] = [];
const byPath = new Map<string, TfDir>();

beforeAll(async () => {
  dirs = await Promise.all(listTfDirs().map(loadDir));
  for (const d of dirs) byPath.set(d.dir, d);
});

describe("terraform/ parses", () => {
  it("every .tf and .tfvars file parses with the HCL parser", async () => {
    const files = listFiles([".tf", ".tfvars"]);
    expect(files.length).toBeGreaterThan(40);
    const failures: string[] = [];
    for (const f of files) await parseFile(f).catch((e: unknown) => failures.push(`${path.relative(terraformRoot, f)}: ${String(e)}`));
    expect(failures).toEqual([]);
  });

  it("has the five stacks and their modules", () => {
    expect(dirs.filter((d) => d.kind === "stack").map((d) => d.name)).toEqual(["00-bootstrap", "05-observability", "10-platform", "15-foundry", "20-workload"]);
  });
});

describe("files by role and versions", () => {
  it("every stack and module has terraform.tf, variables.tf and outputs.tf", () => {
    for (const d of dirs) for (const f of ["terraform.tf", "variables.tf", "outputs.tf"]) expect(existsSync(path.join(d.dir, f)), `${d.name}/${f}`).toBe(true);
  });

  it("pins Terraform >= 1.6 and azurerm ~> 4.x everywhere; only stacks configure the provider and a backend", () => {
    for (const d of dirs) {
      const tf = d.files.find((f) => f.file.endsWith("terraform.tf"))!;
      const block = (tf.json.terraform as Record<string, unknown>[])[0]!;
      expect(block.required_version, d.name).toBe(">= 1.6");
      const providers = (block.required_providers as Record<string, { source: string; version: string }>[] | undefined)?.[0];
      if (providers) expect(providers.azurerm!.version, d.name).toMatch(/^~> 4\.\d+$/);
      const hasProvider = d.files.some((f) => "provider" in f.json);
      expect(hasProvider, `${d.name} provider block`).toBe(d.kind === "stack");
      expect("backend" in block, `${d.name} backend`).toBe(d.kind === "stack");
    }
  });
});

describe("variables", () => {
  it("every variable has a type and a description, and every validation says how to fix the input", () => {
    for (const d of dirs) {
      for (const [name, v] of d.variables) {
        expect(typeof v.type, `${d.name} var.${name} type`).toBe("string");
        expect(String(v.description ?? "").length, `${d.name} var.${name} description`).toBeGreaterThan(10);
        for (const val of (v.validation as Record<string, unknown>[] | undefined) ?? []) {
          expect(String(val.error_message).length, `${d.name} var.${name} validation message`).toBeGreaterThan(20);
        }
      }
    }
  });

  it("declared variables are used and used variables are declared, per stack and module", () => {
    for (const d of dirs) {
      const used = references(d).vars;
      const declared = new Set(d.variables.keys());
      expect([...used].filter((v) => !declared.has(v)), `${d.name}: used but not declared`).toEqual([]);
      expect([...declared].filter((v) => !used.has(v)), `${d.name}: declared but not used`).toEqual([]);
    }
  });

  it("lists required variables first, then optional ones, each alphabetically (AVM)", () => {
    for (const d of dirs) {
      const order = d.variableOrder;
      const required = order.filter((n) => !("default" in d.variables.get(n)!));
      const optional = order.filter((n) => "default" in d.variables.get(n)!);
      expect(order, d.name).toEqual([...[...required].sort(), ...[...optional].sort()]);
    }
  });
});

describe("references", () => {
  it("locals are declared where used and used where declared", () => {
    for (const d of dirs) {
      const used = references(d).locals;
      expect([...used].filter((l) => !d.locals.has(l)), `${d.name}: undeclared locals`).toEqual([]);
      expect([...d.locals].filter((l) => !used.has(l)), `${d.name}: unused locals`).toEqual([]);
    }
  });

  it("resources and data sources referenced are declared", () => {
    for (const d of dirs) {
      const missing = [...references(d).resources].filter((r) => !d.resources.has(r));
      expect(missing, d.name).toEqual([]);
    }
  });

  it("module calls pass only the module's variables, every required one, and read only its outputs", () => {
    for (const d of dirs) {
      for (const [callName, call] of d.modules) {
        const target = byPath.get(moduleSourceDir(d, call));
        expect(target, `${d.name}: module ${callName} source ${String(call.source)}`).toBeDefined();
        const args = Object.keys(call).filter((k) => !MODULE_META_ARGS.has(k));
        const vars = new Set(target!.variables.keys());
        expect(args.filter((a) => !vars.has(a)), `${d.name}: module ${callName} unknown arguments`).toEqual([]);
        const required = [...target!.variables].filter(([, v]) => !("default" in v)).map(([n]) => n);
        expect(required.filter((r) => !args.includes(r)), `${d.name}: module ${callName} missing arguments`).toEqual([]);
      }
      for (const { module, output } of references(d).moduleOutputs) {
        const call = d.modules.get(module);
        expect(call, `${d.name}: module.${module} is not declared`).toBeDefined();
        expect(byPath.get(moduleSourceDir(d, call!))!.outputs.has(output), `${d.name}: module.${module}.${output}`).toBe(true);
      }
    }
  });

  it("no stack or module has a dependency cycle", () => {
    for (const d of dirs) expect(findCycle(dependencyGraph(d)), d.name).toBeNull();
  });

  it("the cycle finder finds a cycle through locals, a module and depends_on", async () => {
    const json = (await parse("cycle.tf", `locals {
  url = module.app.url
}
resource "terraform_data" "check" {
  input = local.url
}
module "app" {
  source     = "./app"
  depends_on = [terraform_data.check]
}
`)) as Block;
    const d = { resources: new Map([["terraform_data.check", (json.resource as any).terraform_data.check[0]]]), modules: new Map([["app", (json.module as any).app[0]]]), files: [{ file: "cycle.tf", text: "", json }] } as unknown as TfDir;
    const cycle = findCycle(dependencyGraph(d));
    expect(cycle?.[0]).toBe(cycle?.at(-1));
    expect(new Set(cycle)).toEqual(new Set(["local.url", "module.app", "terraform_data.check"]));
  });

  it("every output has a description", () => {
    for (const d of dirs) for (const [name, o] of d.outputs) expect(String(o.description ?? "").length, `${d.name} output ${name}`).toBeGreaterThan(10);
  });
});
