// The build's guard against Lua that compiles but cannot run in OpenResty.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tstl from "typescript-to-lua";
import { checkGlobals } from "../../scripts/lib/lua-globals.ts";
import { repoRoot } from "../helpers/lua.ts";

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the file's tests. */
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-globals-"));
  scratch.push(dir);
  return dir;
}

function compile(source: string): string {
  const { diagnostics, file } = tstl.transpileString(source, {
    luaTarget: tstl.LuaTarget.LuaJIT,
    noImplicitSelf: true,
    noHeader: true,
    luaLibImport: tstl.LuaLibImportKind.Inline,
    strict: true,
  } as tstl.CompilerOptions);
  expect(diagnostics.filter((d) => d.category === 1)).toEqual([]);
  const dir = tempDir();
  const out = path.join(dir, "mod.lua");
  writeFileSync(out, file!.lua!);
  return out;
}

describe("emitted-Lua globals check", () => {
  it("refuses JSON, Date and console, which compile but do not exist in OpenResty", () => {
    const file = compile(`declare const console: { log(this: void, ...a: unknown[]): void };\nexport function f(this: void, x: unknown) { console.log(JSON.stringify(x)); return Date.now(); }`);
    const problems = checkGlobals([file], path.dirname(file));
    expect(problems).toEqual(expect.arrayContaining([
      "mod.lua reads unknown global 'console'",
      "mod.lua reads unknown global 'JSON'",
      "mod.lua reads unknown global 'Date'",
    ]));
  });

  it("refuses a write to a global", () => {
    const dir = tempDir();
    const file = path.join(dir, "leak.lua");
    writeFileSync(file, "counter = 1\nreturn {}\n");
    expect(checkGlobals([file], dir)).toEqual(["leak.lua writes global 'counter'"]);
  });

  it("refuses a colon call on ngx or APISIX core, which are dot-call APIs", () => {
    const dir = tempDir();
    const file = path.join(dir, "colon.lua");
    writeFileSync(file, "local core, sock = {}, {}\nlocal d = ngx:sha1_bin('k')\ncore.log:warn('x')\nlocal ok = sock:connect('h', 1)\nreturn d\n");
    expect(checkGlobals([file], dir)).toEqual([
      "colon.lua:2 colon-calls ngx.sha1_bin (a dot-call API: add @noSelf to its declaration)",
      "colon.lua:3 colon-calls core.log.warn (a dot-call API: add @noSelf to its declaration)",
    ]);
  });

  it("passes every bundle the build wrote to build/lua", () => {
    const dir = path.join(repoRoot, "build/lua");
    const files = readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".lua"))
      .map((f) => path.join(dir, f));
    expect(files.length).toBeGreaterThan(0);
    expect(checkGlobals(files, dir)).toEqual([]);
  });
});
