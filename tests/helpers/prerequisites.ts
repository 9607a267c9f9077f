/**
 * vitest globalSetup: checks once, before any suite starts, that the machine has what the suites run on (nginx +
 * ngx_lua, LuaJIT, Redis, the built Lua). Without it a missing package showed up as dozens of unrelated failures
 * (`404 status code (no body)` from an nginx without its Lua module); now the run stops with one line per missing
 * piece and the command that installs it.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../../scripts/lib/pins.ts";

/** A file whose presence proves a prerequisite, and the Debian package (or step) that provides it. */
const REQUIRED: ReadonlyArray<{ file: string; from: string }> = [
  { file: "/usr/sbin/nginx", from: "Debian package nginx" },
  { file: "/usr/lib/nginx/modules/ngx_http_lua_module.so", from: "Debian package libnginx-mod-http-lua" },
  { file: "/usr/bin/luajit", from: "Debian package luajit2" },
  { file: "/usr/share/lua/5.1/resty/core.lua", from: "Debian package lua-resty-core" },
  { file: "/usr/share/lua/5.1/resty/lrucache.lua", from: "Debian package lua-resty-lrucache" },
  { file: "/usr/lib/x86_64-linux-gnu/lua/5.1/cjson.so", from: "Debian package lua-cjson" },
  { file: "/usr/bin/redis-server", from: "Debian package redis-server" },
  { file: "/usr/bin/promtool", from: "Debian package prometheus (checks the alert rules)" },
  { file: ".deps/usr/share/lua/5.1/nginx/redis.lua", from: "lua-nginx-redis, unpacked by scripts/setup.sh" },
  { file: "build/lua/apisix/plugins/azure-openai-auth.lua", from: "the Lua build (npm run build)" },
];

export function missingPrerequisites(root = repoRoot): string[] {
  return REQUIRED.filter((r) => !existsSync(path.isAbsolute(r.file) ? r.file : path.join(root, r.file))).map(
    (r) => `${r.file} (${r.from})`,
  );
}

export default function setup(): void {
  const missing = missingPrerequisites();
  if (missing.length === 0) return;
  // A plain message and exit, not a thrown error: vitest would bury the message under its own stack trace.
  process.stderr.write(
    `tests cannot run: this machine is missing ${missing.join(", ")}.\n` +
      "Run `bash scripts/test.sh` (installs the Debian packages and npm dependencies, builds, tests), or " +
      "`bash scripts/setup.sh && npm test`.\n",
  );
  process.exit(2);
}
