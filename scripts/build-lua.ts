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
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
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

let stagingDir: string | undefined;

function report(diagnostics: readonly ts.Diagnostic[]): void {
  if (diagnostics.length === 0) return;
  if (stagingDir !== undefined) rmSync(stagingDir, { recursive: true, force: true });
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

  // Build into a staging folder and swap it in at the end, so that a test run (or a gateway) reading build/
  // during a rebuild never sees a half-written tree.
  const staging = path.join(root, `build/.staging-${process.pid}`);
  const outLua = path.join(staging, "lua");
  const outTest = path.join(staging, "lua-test");
  rmSync(staging, { recursive: true, force: true });
  stagingDir = staging;
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
  if (problems.length > 0) {
    rmSync(staging, { recursive: true, force: true });
    fail(`emitted Lua touches globals OpenResty does not provide:\n  ${problems.join("\n  ")}`);
  }
  const count = luaFiles(outLua).length;
  for (const name of ["lua", "lua-test"]) {
    const target = path.join(root, "build", name);
    const old = path.join(staging, `${name}.old`);
    if (existsSync(target)) renameSync(target, old);
    renameSync(path.join(staging, name), target);
  }
  rmSync(staging, { recursive: true, force: true });
  process.stdout.write(`build-lua: ${count} bundle(s) in build/lua, globals ok, ${Date.now() - started} ms\n`);
}

main();
