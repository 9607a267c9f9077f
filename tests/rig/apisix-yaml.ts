/**
 * TEST CODE. Reads apisix.yaml / config.yaml the way APISIX standalone does before the stand-in gets their JSON twins:
 * the `#END` marker is required (apisix-runtime-notes.md §8: the file's tail must match `#END\s*$`, else APISIX keeps
 * the previous config) and `${{VAR}}` / `${{VAR:=default}}` references are resolved from the gateway's environment.
 */
import { readFileSync } from "node:fs";
import { parse, stringify } from "yaml";

const END_MARK = /#END\s*$/;
const VAR_REF = /\$\{\{\s*(\w+)\s*(?::=\s*([^}]*?))?\s*\}\}/g;

export class ApisixYamlError extends Error {}

/** Replaces `${{VAR}}` (and `${{VAR:=default}}`) with the variable's value; an unset variable without default throws. */
export function resolveConfVars(text: string, env: Record<string, string | undefined>, file: string): string {
  return text.replace(VAR_REF, (_all, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new ApisixYamlError(`${file}: can't find environment variable ${name}; pass it in the rig's env option`);
  });
}

/** apisix.yaml → plain object. Throws with what to fix when the file would be refused by APISIX. */
export function readApisixYaml(file: string, env: Record<string, string | undefined>): Record<string, unknown> {
  const text = readFileSync(file, "utf8");
  if (!END_MARK.test(text.slice(-10))) {
    throw new ApisixYamlError(`${file}: missing the #END marker on the last line; APISIX would refuse this file`);
  }
  // APISIX parses YAML 1.1 (lyaml), where a bare yes/no/on/off is a boolean.
  const doc: unknown = parse(resolveConfVars(text, env, file), { version: "1.1" });
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ApisixYamlError(`${file}: the top level must be a mapping (routes:, consumers:, ...)`);
  }
  return doc as Record<string, unknown>;
}

/** config.yaml → plain object ({} when no file is given). */
export function readConfigYaml(file: string | undefined, env: Record<string, string | undefined>): Record<string, unknown> {
  if (file === undefined) return {};
  const doc: unknown = parse(resolveConfVars(readFileSync(file, "utf8"), env, file), { version: "1.1" });
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ApisixYamlError(`${file}: the top level must be a mapping (apisix:, plugins:, ...)`);
  }
  return doc as Record<string, unknown>;
}

/** A nested read with no throw: read(obj, "apisix", "lua_module_hook"). */
export function readPath(obj: unknown, ...keys: string[]): unknown {
  let cur: unknown = obj;
  for (const key of keys) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * A document as APISIX reads it: YAML 1.1 (lyaml), where a bare yes/no/on/off is a boolean, so such strings must be
 * quoted (the renderer writes the same way). `end`: the #END line standalone APISIX requires on apisix.yaml.
 */
export function toApisixYaml(doc: unknown, end = true): string {
  // No anchors/aliases (as the renderer): APISIX would read one shared table and write resource_key into it while
  // checking the first item, and refuse every later item that shares it (docs/testing.md, divergence 9).
  return `${stringify(doc, { version: "1.1", aliasDuplicateObjects: false })}${end ? "#END\n" : ""}`;
}
