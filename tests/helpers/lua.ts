/**
 * Calls transpiled modules (build/lua-test) under LuaJIT. Calls are batched: one luajit process per batch.
 * Lua nil comes back as null; a Lua error as {ok:false, err}.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface LuaCall {
  module: string;
  fn: string;
  args?: unknown[];
}
export type LuaResult = { ok: true; ret: unknown[] } | { ok: false; err: string };

/** A Lua value built by a chunk, e.g. a callback: lua("return function(t, k) return t[k] end"). */
export function lua(chunk: string): { $lua: string } {
  return { $lua: chunk };
}

export const LUA_PATH = [
  path.join(repoRoot, "build/lua-test/?.lua"),
  path.join(repoRoot, "tests/host/?.lua"),
  "/usr/share/lua/5.1/?.lua",
  ";",
].join(";");

export function callLuaBatch(calls: LuaCall[]): LuaResult[] {
  const out = execFileSync("luajit", [path.join(repoRoot, "tests/helpers/harness.lua")], {
    input: JSON.stringify(calls),
    encoding: "utf8",
    env: { ...process.env, LUA_PATH },
  });
  const results = JSON.parse(out) as LuaResult[];
  // Lua arrays with trailing nils lose them; pad so that callers can index by position.
  return results.map((r) => (r.ok ? { ok: true, ret: Array.isArray(r.ret) ? r.ret : Object.values(r.ret ?? {}) } : r));
}

/** One call; throws on a Lua error; returns all return values. */
export function callLua(module: string, fn: string, ...args: unknown[]): unknown[] {
  const [result] = callLuaBatch([{ module, fn, args }]);
  if (!result!.ok) throw new Error(`Lua error in ${module}.${fn}: ${result!.err}`);
  return result!.ret;
}
