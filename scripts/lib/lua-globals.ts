/**
 * The emitted-Lua globals check: TSTL happily compiles `JSON.stringify`, `Date.now()` or `console.log` into
 * reads of globals OpenResty does not have (tstl-openresty.md §5), and a stray assignment into a global write.
 * Both only fail at runtime, so the build reads LuaJIT's bytecode listing and refuses them.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

/** Globals an OpenResty worker really has. */
export const ALLOWED_GLOBALS = new Set([
  "ngx", "ndk", "require", "assert", "error", "pcall", "xpcall", "select", "type", "tostring", "tonumber",
  "pairs", "ipairs", "next", "unpack", "rawget", "rawset", "rawequal", "setmetatable", "getmetatable",
  "string", "table", "math", "os", "io", "coroutine", "debug", "bit", "jit", "package", "print",
  "collectgarbage", "load", "loadstring", "setfenv", "getfenv", "_VERSION", "newproxy",
]);

/**
 * ngx.* and APISIX core functions are dot calls. A missing @noSelf in a declaration makes TSTL emit
 * `ngx:sha1_bin(s)` / `core.log:warn(...)`, which passes the table as the first argument and silently computes
 * the wrong thing (it once made every key hash to sha1("")).
 */
const COLON_CALL_ON_DOT_API = /\b(ngx|core)((?:\.[A-Za-z_][A-Za-z0-9_]*)*):([A-Za-z_][A-Za-z0-9_]*)\(/;

/** One line per problem: a global written (GSET) or an unknown global read (GGET). */
export function checkGlobals(files: string[], relativeTo = process.cwd()): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const where = path.relative(relativeTo, file);
    readFileSync(file, "utf8").split("\n").forEach((line, i) => {
      const m = COLON_CALL_ON_DOT_API.exec(line);
      if (m) problems.push(`${where}:${i + 1} colon-calls ${m[1]}${m[2]}.${m[3]} (a dot-call API: add @noSelf to its declaration)`);
    });
    const listing = execFileSync("luajit", ["-bl", file], { encoding: "utf8", maxBuffer: 64 << 20 });
    for (const line of listing.split("\n")) {
      const m = /\b(GGET|GSET)\b.*;\s*"([^"]+)"/.exec(line);
      if (!m) continue;
      const [, op, name] = m;
      if (op === "GSET") problems.push(`${where} writes global '${name}'`);
      else if (!ALLOWED_GLOBALS.has(name!)) problems.push(`${where} reads unknown global '${name}'`);
    }
  }
  return [...new Set(problems)];
}
