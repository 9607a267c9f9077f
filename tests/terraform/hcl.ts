/**
 * Static model of terraform/: every stack and module parsed with @cdktf/hcl2json (HCL → JSON), plus the
 * references each one makes. Test code: stands in for `terraform validate` where no terraform binary exists.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse } from "@cdktf/hcl2json";
import { repoRoot } from "../../scripts/lib/pins.ts";

export const terraformRoot = path.join(repoRoot, "terraform");

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Block = { [key: string]: Json };

export interface TfFile {
  file: string;
  text: string;
  json: Block;
}

export interface TfDir {
  dir: string;
  kind: "stack" | "module";
  name: string;
  files: TfFile[];
  variables: Map<string, Block>;
  /** Variable names in file order (variables.tf first). */
  variableOrder: string[];
  outputs: Map<string, Block>;
  locals: Set<string>;
  modules: Map<string, Block>;
  /** "type.name" of resources and "data.type.name" of data sources. */
  resources: Map<string, Block>;
}

export function listTfDirs(): { dir: string; kind: "stack" | "module"; name: string }[] {
  const out: { dir: string; kind: "stack" | "module"; name: string }[] = [];
  for (const kind of ["stacks", "modules"] as const) {
    const base = path.join(terraformRoot, kind);
    for (const name of readdirSync(base).sort()) {
      if (statSync(path.join(base, name)).isDirectory()) out.push({ dir: path.join(base, name), kind: kind === "stacks" ? "stack" : "module", name });
    }
  }
  return out;
}

/** Every file under terraform/ with one of the extensions, skipping generated and local-state folders. */
export function listFiles(exts: string[], root = terraformRoot): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) {
      if ([".terraform", ".generated", "state"].includes(entry.name)) continue;
      out.push(...listFiles(exts, full));
    } else if (exts.some((e) => entry.name.endsWith(e))) out.push(full);
  }
  return out.sort();
}

export async function parseFile(file: string): Promise<TfFile> {
  const text = readFileSync(file, "utf8");
  const json = (await parse(path.basename(file), text)) as Block;
  return { file, text, json };
}

function blocks(json: Block, key: string): Block {
  return (json[key] as Block | undefined) ?? {};
}

export async function loadDir(entry: { dir: string; kind: "stack" | "module"; name: string }): Promise<TfDir> {
  const names = readdirSync(entry.dir).filter((f) => f.endsWith(".tf"));
  names.sort((a, b) => (a === "variables.tf" ? -1 : b === "variables.tf" ? 1 : a.localeCompare(b)));
  const files = await Promise.all(names.map((f) => parseFile(path.join(entry.dir, f))));
  const d: TfDir = {
    ...entry,
    files,
    variables: new Map(),
    variableOrder: [],
    outputs: new Map(),
    locals: new Set(),
    modules: new Map(),
    resources: new Map(),
  };
  for (const { json, text } of files) {
    for (const [name, list] of Object.entries(blocks(json, "variable"))) d.variables.set(name, (list as Block[])[0]!);
    // hcl2json sorts keys; file order comes from the text.
    for (const m of text.matchAll(/^variable\s+"([^"]+)"/gm)) d.variableOrder.push(m[1]!);
    for (const [name, list] of Object.entries(blocks(json, "output"))) d.outputs.set(name, (list as Block[])[0]!);
    for (const list of (json.locals as Block[] | undefined) ?? []) for (const name of Object.keys(list)) d.locals.add(name);
    for (const [name, list] of Object.entries(blocks(json, "module"))) d.modules.set(name, (list as Block[])[0]!);
    for (const [type, byName] of Object.entries(blocks(json, "resource")))
      for (const [name, list] of Object.entries(byName as Block)) d.resources.set(`${type}.${name}`, (list as Block[])[0]!);
    for (const [type, byName] of Object.entries(blocks(json, "data")))
      for (const [name, list] of Object.entries(byName as Block)) d.resources.set(`data.${type}.${name}`, (list as Block[])[0]!);
  }
  return d;
}

/** All expression strings in a JSON tree, skipping `description` (prose, not code). */
export function expressions(node: Json, out: string[] = []): string[] {
  if (typeof node === "string") out.push(node);
  else if (Array.isArray(node)) for (const n of node) expressions(n, out);
  else if (node && typeof node === "object")
    for (const [k, v] of Object.entries(node)) {
      if (k !== "description") expressions(v, out);
    }
  return out;
}

export function allExpressions(d: TfDir): string[] {
  return d.files.flatMap((f) => expressions(f.json));
}

export interface References {
  vars: Set<string>;
  locals: Set<string>;
  moduleOutputs: { module: string; output: string }[];
  resources: Set<string>;
}

const RESOURCE_REF = /(?<![\w.])(data\.)?((?:azurerm|terraform)_[a-z0-9_]+)\.([a-zA-Z_][\w-]*)/g;

export function references(d: TfDir): References {
  const refs: References = { vars: new Set(), locals: new Set(), moduleOutputs: [], resources: new Set() };
  for (const expr of allExpressions(d)) {
    for (const m of expr.matchAll(/(?<![\w.])var\.([a-zA-Z_][\w-]*)/g)) refs.vars.add(m[1]!);
    for (const m of expr.matchAll(/(?<![\w.])local\.([a-zA-Z_][\w-]*)/g)) refs.locals.add(m[1]!);
    for (const m of expr.matchAll(/(?<![\w.])module\.([a-zA-Z_][\w-]*)(?:\[[^\]]*\])?\.([a-zA-Z_][\w-]*)/g))
      refs.moduleOutputs.push({ module: m[1]!, output: m[2]! });
    for (const m of expr.matchAll(RESOURCE_REF)) refs.resources.add(`${m[1] ?? ""}${m[2]}.${m[3]}`);
  }
  return refs;
}

export const MODULE_META_ARGS = new Set(["source", "version", "count", "for_each", "providers", "depends_on"]);

/** Resolve a module call's local source to its directory entry. */
export function moduleSourceDir(from: TfDir, call: Block): string {
  return path.resolve(from.dir, String(call.source));
}

/**
 * Reference graph of one stack or module: resources, data sources, module calls and locals, with edges for every
 * reference and depends_on. Terraform refuses a configuration with a cycle; this finds one without Terraform.
 */
export function dependencyGraph(d: TfDir): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const edgesOf = (node: Json): Set<string> => {
    const out = new Set<string>();
    for (const e of expressions(node)) {
      for (const m of e.matchAll(RESOURCE_REF)) out.add(`${m[1] ?? ""}${m[2]}.${m[3]}`);
      for (const m of e.matchAll(/(?<![\w.])module\.([a-zA-Z_][\w-]*)/g)) out.add(`module.${m[1]}`);
      for (const m of e.matchAll(/(?<![\w.])local\.([a-zA-Z_][\w-]*)/g)) out.add(`local.${m[1]}`);
    }
    return out;
  };
  for (const [id, block] of d.resources) graph.set(id, edgesOf(block));
  for (const [name, block] of d.modules) graph.set(`module.${name}`, edgesOf(block));
  for (const { json } of d.files) {
    for (const list of (json.locals as Block[] | undefined) ?? []) for (const [name, value] of Object.entries(list)) graph.set(`local.${name}`, edgesOf(value));
  }
  return graph;
}

/** One cycle as a path of node names, or null. */
export function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "open") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (next === node) continue; // a block naming itself (e.g. a dynamic iterator) is not a dependency
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}
