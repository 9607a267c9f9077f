/**
 * Runs one expectation table against a portable plugins/lib module twice: imported in Node, and transpiled
 * under LuaJIT (build/lua-test, one luajit process per table). House style §23.
 */
import { describe, expect, it } from "vitest";
import { callLuaBatch } from "../../helpers/lua.ts";

export interface DualCase {
  name: string;
  args: unknown[];
  expected: unknown;
}

/**
 * What both hosts can express alike: undefined (JS) and nil → null; fields set to undefined vanish; an empty
 * array and an empty table are both {} (cjson cannot tell them apart).
 */
export function normalize(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.length === 0 ? {} : value.map(normalize);
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined && v !== null) out[k] = normalize(v);
    }
    return out;
  }
  return value;
}

export function dualHost(
  title: string,
  module: string,
  fn: string,
  jsFn: (...args: never[]) => unknown,
  cases: DualCase[],
): void {
  const call = jsFn as (...args: unknown[]) => unknown;
  describe(`${title} (Node)`, () => {
    it.each(cases)("$name", (c) => {
      expect(normalize(call(...c.args))).toEqual(normalize(c.expected));
    });
  });

  describe(`${title} (LuaJIT)`, () => {
    const results = callLuaBatch(cases.map((c) => ({ module, fn, args: c.args })));
    it.each(cases.map((c, i) => ({ ...c, i })))("$name", (c) => {
      const result = results[c.i]!;
      if (!result.ok) throw new Error(`Lua error in ${module}.${fn}: ${result.err}`);
      expect(normalize(result.ret[0])).toEqual(normalize(c.expected));
    });
  });
}
