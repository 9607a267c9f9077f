/**
 * Builds the Lua that runs inside APISIX.
 *
 *  build/lua/       one self-contained bundle per plugin/provider/hook, laid out as APISIX loads them
 *                   (apisix/plugins/<name>.lua ...). Each bundle carries its own minimal TSTL helpers, so
 *                   nothing named `lualib_bundle` ever lands on APISIX's package.path (tstl-openresty.md §4).
 *  build/lua-test/  every module unbundled, for the LuaJIT unit tests (test-only path).
 *
 * Fails on any TypeScript or TSTL diagnostic and when emitted Lua reads a global that OpenResty does not have
 * (JSON, Date, console, setTimeout, ffi, ...) or writes any global.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import * as tstl from "typescript-to-lua";
import { checkGlobals } from "./lib/lua-globals.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pluginsDir = path.join(root, "plugins");

/** Entry module → where APISIX requires it from. */
export const BUNDLES: { entry: string; output: string }[] = [
  { entry: "azure-openai-auth/index.ts", output: "apisix/plugins/azure-openai-auth.lua" },
  { entry: "spillway-failover/index.ts", output: "apisix/plugins/spillway-failover.lua" },
  { entry: "azure-openai-dynamic/index.ts", output: "apisix/plugins/ai-providers/azure-openai-dynamic.lua" },
  { entry: "hook/index.ts", output: "spillway/hook.lua" },
];

function fail(message: string): never {
  process.stderr.write(`build-lua: ${message}\n`);
  process.exit(1);
}

function report(diagnostics: readonly ts.Diagnostic[]): void {
  if (diagnostics.length === 0) return;
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  };
  fail(`TypeScript/TSTL errors:\n${ts.formatDiagnosticsWithColorAndContext(diagnostics, host)}`);
}

function luaFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".lua"))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

function main(): void {
  const started = Date.now();
  const parsed = tstl.parseConfigFileWithSystem(path.join(pluginsDir, "tsconfig.json"));
  if (parsed.errors.length > 0) report(parsed.errors);
  const declarations = parsed.fileNames.filter((f) => f.endsWith(".d.ts"));

  const outLua = path.join(root, "build/lua");
  const outTest = path.join(root, "build/lua-test");
  rmSync(outLua, { recursive: true, force: true });
  rmSync(outTest, { recursive: true, force: true });
  mkdirSync(outLua, { recursive: true });

  // Every module, unbundled, for the unit tests.
  const all = tstl.transpileFiles(parsed.fileNames, { ...parsed.options, outDir: outTest });
  report(all.diagnostics);

  for (const bundle of BUNDLES) {
    const entry = path.join(pluginsDir, bundle.entry);
    const result = tstl.transpileFiles([entry, ...declarations], {
      ...parsed.options,
      outDir: outLua,
      luaBundle: bundle.output,
      luaBundleEntry: entry,
    });
    report(result.diagnostics);
  }

  const problems = checkGlobals([...luaFiles(outLua), ...luaFiles(outTest)], root);
  if (problems.length > 0) fail(`emitted Lua touches globals OpenResty does not provide:\n  ${problems.join("\n  ")}`);
  const count = luaFiles(outLua).length;
  process.stdout.write(`build-lua: ${count} bundle(s) in build/lua, globals ok, ${Date.now() - started} ms\n`);
}

main();
