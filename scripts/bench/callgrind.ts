/**
 * Instructions per request under callgrind: the repeatable figure on this VM (docs/bench.md, "Instructions per
 * request under callgrind"). A script, not a test, and not part of `spillway bench`.
 *
 *   node --import tsx scripts/bench/callgrind.ts [--builds 6724b19,HEAD^,HEAD] [--rounds 2] [--warm 15]
 *        [--measure 20] [--idle 10] [--diff-build HEAD] [--debuginfo DIR] [--work DIR] [--keep-worktrees]
 *
 * For each build (a git revision of this repository): a worktree of it in the work folder (node_modules borrowed
 * from this checkout), its Lua built there (scripts/build-lua.ts writes into the worktree's own build/lua), and its
 * own renderer run (`spillway render`, two backends on a local mock, no client auth). Then ONE APISIX process
 * (`master_process off`, the generated nginx.conf run by Debian's nginx under `valgrind --tool=callgrind`) with one
 * apisix.yaml of five routes, each on its own URI, no vars:
 *   a  stock ai-proxy-multi, 2 openai-compatible instances (the rendered chat route's ai-proxy-multi options)
 *   b  Spillway's chat route as rendered (spillway-failover + ai-proxy-multi + azure-openai-dynamic), no prometheus
 *   c  the same rendered with the throttled backend first (always 429, retry-after 600 s): a cooled skip
 *   d  a + prometheus       e  b + prometheus
 * No azure-openai-auth on any route (GATEWAY_REQUIRE_AUTH=false; stock has no client auth either).
 * Per process: every route warmed (`wrk -c2`, --warm s each), the idle rate measured (--idle s, timers only), then
 * --rounds rounds of --measure s per route (order reversed every other round), each between `callgrind_control -z`
 * and `-d`. Instructions per request = (instructions − idle rate × measured time) / requests wrk completed.
 * The builds run one after the other in one session; the table gives the median over rounds and the ratio to the
 * stock route of the same build (b and c to a, e to d).
 *
 * Then, for --diff-build (default: the last build), the per-function differences e − d and c − b per request (self cost,
 * callgrind_annotate; inclusive beside it where callgrind's call graph is sound), with LuaJIT's machine code named
 * by the trace it belongs to (callgrind-traces.lua records every trace's address, start and Lua functions).
 *
 * Needs valgrind (callgrind_control, callgrind_annotate), wrk, Debian's nginx, and APISIX_HOME (the apisix-lab
 * build). --debuginfo DIR is passed to valgrind as --extra-debuginfo-path (symbols for Debian's stripped LuaJIT; see
 * docs/bench.md for how that folder is made); without it LuaJIT's own functions show as addresses.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parse, stringify } from "yaml";
import { repoRoot } from "../lib/pins.ts";
import { apisixEnv, checkApisixHome, createInstanceDir } from "../start/apisix-instance.ts";
import { stockInstances } from "./apisix-gateways.ts";
import { freePort } from "../start/ports.ts";
import { runWrk, writeWrkScript } from "./wrk.ts";

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------- options

interface Options {
  builds: string[];
  rounds: number;
  warmS: number;
  measureS: number;
  idleS: number;
  connections: number;
  diffBuild: string | undefined;
  debuginfo: string | undefined;
  work: string | undefined;
  keepWorktrees: boolean;
  top: number;
  makeDebuginfo: string | undefined;
  processes: number;
  /** yes, no, or diff: per instruction only in the processes of --diff-build (exact trace attribution). */
  dumpInstr: "yes" | "no" | "diff";
}

const USAGE = `usage: node --import tsx scripts/bench/callgrind.ts [--builds rev,rev,...] [--processes n] [--rounds n] [--warm s] [--measure s]
       [--idle s] [--connections n] [--dump-instr yes|no|diff] [--diff-build rev] [--top n] [--debuginfo dir] [--work dir] [--keep-worktrees]
   or: node --import tsx scripts/bench/callgrind.ts --make-debuginfo dir   (LuaJIT's symbols for --debuginfo, ~3 min)`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    builds: ["6724b19", "HEAD^", "HEAD"],
    rounds: 2,
    warmS: 15,
    measureS: 20,
    idleS: 10,
    connections: 2,
    diffBuild: undefined,
    debuginfo: process.env.SPILLWAY_CALLGRIND_DEBUGINFO || undefined,
    work: undefined,
    keepWorktrees: false,
    top: 25,
    makeDebuginfo: undefined,
    processes: 2,
    dumpInstr: "diff",
  };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case "--builds":
        o.builds = (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
        i++;
        break;
      case "--rounds": o.rounds = num(flag, value); i++; break;
      case "--processes": o.processes = num(flag, value); i++; break;
      case "--dump-instr":
        if (value !== "yes" && value !== "no" && value !== "diff") throw new Error(`--dump-instr takes yes, no or diff\n${USAGE}`);
        o.dumpInstr = value;
        i++;
        break;
      case "--warm": o.warmS = num(flag, value); i++; break;
      case "--measure": o.measureS = num(flag, value); i++; break;
      case "--idle": o.idleS = num(flag, value); i++; break;
      case "--connections": o.connections = num(flag, value); i++; break;
      case "--top": o.top = num(flag, value); i++; break;
      case "--diff-build": o.diffBuild = value; i++; break;
      case "--debuginfo": o.debuginfo = value; i++; break;
      case "--work": o.work = value; i++; break;
      case "--keep-worktrees": o.keepWorktrees = true; break;
      case "--make-debuginfo": o.makeDebuginfo = value; i++; break;
      case "-h":
      case "--help":
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (o.builds.length === 0) throw new Error(`--builds needs at least one revision\n${USAGE}`);
  return o;
}

// ---------------------------------------------------------------------------------------------------- helpers

const say = (line: string): void => {
  process.stderr.write(`[callgrind ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status}:\n${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r.stdout;
}

function need(tool: string, args: string[] = ["--version"]): void {
  const r = spawnSync(tool, args, { encoding: "utf8" });
  if (r.error) throw new Error(`${tool} is not installed (apt-get install ${tool === "wrk" ? "wrk" : tool === "nginx" ? "nginx" : "valgrind"})`);
}

const k = (n: number): string => `${(n / 1000).toFixed(1)} k`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------------------------------------------- routes

interface RouteSpec {
  key: string;
  label: string;
  spillway: boolean;
  skip: boolean;
  prometheus: boolean;
  /** The stock route of the same build this one is compared with. */
  base?: string;
}

const ROUTES: RouteSpec[] = [
  { key: "a", label: "stock ai-proxy-multi, 2 openai-compatible instances", spillway: false, skip: false, prometheus: false },
  { key: "b", label: "Spillway chat route (spillway-failover + azure-openai-dynamic)", spillway: true, skip: false, prometheus: false, base: "a" },
  { key: "c", label: "the same, 1st backend always 429 (cooled skip)", spillway: true, skip: true, prometheus: false, base: "a" },
  { key: "d", label: "stock + prometheus", spillway: false, skip: false, prometheus: true },
  { key: "e", label: "Spillway + prometheus", spillway: true, skip: false, prometheus: true, base: "d" },
];

/** Azure's deployments form, one deployment name per route: its own URI, and its own cooldown keys. */
const routePath = (key: string): string => `/openai/deployments/cg-${key}/chat/completions`;
const QUERY = "?api-version=2024-10-21";
const BODY = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Say something short." }], max_tokens: 5 });
const API_KEY = "bench-key-not-a-secret-0123";

// ---------------------------------------------------------------------------------------------------- the mock

/** A small chat completion, as Azure answers one (same body and headers on every request). */
const MOCK_BODY = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1733400000,
  model: "gpt-4o-2024-08-06",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello!" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 },
});
const THROTTLED_BODY = JSON.stringify({
  error: { code: "429", message: "Requests to the ChatCompletions_Create Operation under Azure OpenAI API have exceeded the rate limit of your current pricing tier." },
});

interface Mock {
  okUrl: string;
  throttledUrl: string;
  throttledCalls(): number;
  stop(): Promise<void>;
}

async function startMock(work: string): Promise<Mock> {
  const dir = path.join(work, "mock");
  mkdirSync(path.join(dir, "conf"), { recursive: true });
  mkdirSync(path.join(dir, "logs"), { recursive: true });
  const okPort = await freePort();
  const thPort = await freePort();
  const q = (s: string): string => `'${s.replace(/'/g, "\\'")}'`;
  writeFileSync(
    path.join(dir, "conf", "nginx.conf"),
    `# generated by scripts/bench/callgrind.ts: the backend mock (healthy, and throttled = always 429)
worker_processes 1;
daemon off;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:${okPort};
    location / {
      default_type application/json;
      add_header x-ratelimit-remaining-tokens 999000;
      add_header x-ratelimit-remaining-requests 9999;
      return 200 ${q(MOCK_BODY)};
    }
  }
  server {
    listen 127.0.0.1:${thPort};
    access_log logs/throttled.log;
    location / {
      default_type application/json;
      add_header retry-after-ms 600000 always;
      add_header retry-after 600 always;
      return 429 ${q(THROTTLED_BODY)};
    }
  }
}
`,
  );
  const child = spawn("/usr/sbin/nginx", ["-p", `${dir}/`, "-c", "conf/nginx.conf"], { stdio: "ignore" });
  const okUrl = `http://127.0.0.1:${okPort}`;
  for (let i = 0; i < 50; i++) {
    try {
      await fetch(okUrl, { signal: AbortSignal.timeout(500) });
      break;
    } catch {
      await sleep(100);
    }
  }
  const log = path.join(dir, "logs", "throttled.log");
  return {
    okUrl,
    throttledUrl: `http://127.0.0.1:${thPort}`,
    throttledCalls: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l !== "").length : 0),
    async stop() {
      if (child.exitCode === null) child.kill("SIGQUIT");
      for (let i = 0; i < 50 && child.exitCode === null; i++) await sleep(100);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

// ---------------------------------------------------------------------------------------------------- builds

export interface Build {
  rev: string;
  sha: string;
  short: string;
  src: string;
  configYaml: string;
  apisixYaml: string;
}

function renderEnv(mock: Mock, throttledFirst: boolean): string {
  const healthy = { name: "healthy", url: mock.okUrl };
  const throttled = { name: "throttled", url: mock.throttledUrl };
  const [first, second] = throttledFirst ? [throttled, healthy] : [healthy, throttled];
  const lines = [
    "GATEWAY_REQUIRE_AUTH=false",
    "SPILLWAY_ALLOW_HTTP_BACKENDS=true",
    "APISIX_LOG_LEVEL=warn",
    "SPILLWAY_LISTEN_HOST=127.0.0.1",
    "SPILLWAY_LISTEN_PORT=9080",
  ];
  [first, second].forEach((b, i) => {
    lines.push(`AZURE_OPENAI_ENDPOINT_${i}=${b.url}`, `AZURE_OPENAI_KEY_${i}=${API_KEY}`, `AZURE_OPENAI_NAME_${i}=${b.name}`);
    lines.push(`AZURE_OPENAI_PRIORITY_${i}=${i === 0 ? 10 : 0}`);
  });
  // The throttled mock asks for 600 s; the default 120 s cap must not end the cooldown inside a run.
  if (throttledFirst) lines.push("SPILLWAY_COOLDOWN_MAX_MS=900000");
  return `${lines.join("\n")}\n`;
}

/** `spillway render` of that revision, in a clean environment (nothing of this shell's SPILLWAY_* leaks in). */
function render(src: string, envText: string, out: string): { configYaml: string; apisixYaml: string } {
  mkdirSync(out, { recursive: true });
  const envFile = path.join(out, "render.env");
  writeFileSync(envFile, envText);
  sh(process.execPath, ["--import", "tsx", "scripts/spillway.ts", "render", "--env-file", envFile, "--out", out], {
    cwd: src,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" },
  });
  return { configYaml: readFileSync(path.join(out, "config.yaml"), "utf8"), apisixYaml: readFileSync(path.join(out, "apisix.yaml"), "utf8") };
}

function chatRoute(apisixYaml: string): Json {
  const doc = parse(apisixYaml) as Json;
  const chat = ((doc.routes ?? []) as Json[]).find((r) => r.name === "chat" || r.id === "spillway-chat");
  if (chat === undefined) throw new Error("the rendered apisix.yaml has no chat route");
  return chat;
}

/** The five routes (a–e) in one apisix.yaml. */
function composeApisixYaml(renderedYaml: string, swappedYaml: string): string {
  const chat = chatRoute(renderedYaml);
  const swapped = chatRoute(swappedYaml);
  const plugins = chat.plugins as Json;
  const routes: Json[] = [];
  for (const r of ROUTES) {
    const uri = routePath(r.key);
    let route: Json;
    if (r.spillway) {
      const source = structuredClone(r.skip ? swapped : chat);
      const p = source.plugins as Json;
      if (!r.prometheus) delete p.prometheus;
      route = { id: `cg-${r.key}`, name: `cg-${r.key}`, methods: source.methods, uris: [uri], plugins: p };
    } else {
      const multi = structuredClone(plugins["ai-proxy-multi"]) as Json;
      multi.instances = stockInstances(multi.instances as Json[], uri);
      const p: Json = { "ai-proxy-multi": multi };
      if (r.prometheus) p.prometheus = plugins.prometheus ?? { prefer_name: true };
      route = { id: `cg-${r.key}`, name: `cg-${r.key}`, methods: chat.methods, uris: [uri], plugins: p };
    }
    routes.push(route);
  }
  return `# generated by scripts/bench/callgrind.ts\n${stringify({ routes })}#END\n`;
}

const TRACE_MODULE = "spillway_cg_traces";

/** The rendered config.yaml for one local process: our ports and Lua, logs in files, the trace recorder's location. */
function composeConfigYaml(rendered: string, port: number, statusPort: number, luaPaths: string[]): string {
  const doc = parse(rendered) as Json;
  const apisix = (doc.apisix ?? {}) as Json;
  apisix.node_listen = [{ ip: "127.0.0.1", port }];
  apisix.extra_lua_path = luaPaths.map((p) => `${p}/?.lua`).join(";");
  apisix.enable_control = false;
  apisix.enable_http2 = false;
  if (apisix.status !== undefined) apisix.status = { ip: "127.0.0.1", port: statusPort };
  doc.apisix = apisix;
  const nginx = (doc.nginx_config ?? {}) as Json;
  nginx.worker_processes = 1;
  const snippet = typeof nginx.http_server_configuration_snippet === "string" ? nginx.http_server_configuration_snippet : "";
  nginx.http_server_configuration_snippet = `${snippet}\nlocation = /__cg/traces {\n    content_by_lua_block { require("${TRACE_MODULE}").handle() }\n}\n`;
  doc.nginx_config = nginx;
  const attr = (doc.plugin_attr ?? {}) as Json;
  attr.prometheus = { ...((attr.prometheus ?? {}) as Json), enable_export_server: false };
  doc.plugin_attr = attr;
  return `# generated by scripts/bench/callgrind.ts from the rendered config.yaml\n${stringify(doc)}`;
}

async function prepareBuild(rev: string, work: string, mock: Mock): Promise<Build> {
  const sha = sh("git", ["-C", repoRoot, "rev-parse", "--verify", `${rev}^{commit}`]).trim();
  const short = sha.slice(0, 7);
  const src = path.join(work, `src-${short}`);
  if (!existsSync(src)) {
    say(`${rev} = ${short}: git worktree at ${src}`);
    sh("git", ["-C", repoRoot, "worktree", "add", "--detach", src, sha]);
    symlinkSync(path.join(repoRoot, "node_modules"), path.join(src, "node_modules"));
  }
  say(`${short}: building its Lua (scripts/build-lua.ts → ${src}/build/lua)`);
  sh(process.execPath, ["--import", "tsx", "scripts/build-lua.ts"], { cwd: src });
  const normal = render(src, renderEnv(mock, false), path.join(work, `render-${short}`));
  const swapped = render(src, renderEnv(mock, true), path.join(work, `render-${short}-skip`));
  return { rev, sha, short, src, configYaml: normal.configYaml, apisixYaml: composeApisixYaml(normal.apisixYaml, swapped.apisixYaml) };
}

// ---------------------------------------------------------------------------------------------------- the gateway

interface Dump {
  file: string;
  /** callgrind's count of instructions since the zero ("summary:"); the figure used. */
  summary: number;
  /** The sum of the dump's cost lines ("totals:"); equal to summary once the JIT is steady (see the doc). */
  totals: number;
}

interface Gateway {
  url: string;
  dir: string;
  zero(): void;
  dump(): Promise<Dump>;
  stats(): Promise<TraceStats>;
  dumpTraces(file: string): Promise<void>;
  stop(): Promise<void>;
}

interface TraceStats {
  starts: number;
  stops: number;
  aborts: number;
  flushes: number;
  seq: number;
}

/** The `load_module` lines of the lab's `openresty` shim (Debian's nginx loads ngx_lua etc. as modules). */
function shimModules(home: string): { nginx: string; modules: string } {
  const shim = path.join(home, "openresty", "bin", "openresty");
  const text = readFileSync(shim, "utf8");
  const root = path.resolve(path.dirname(shim), "..");
  const nginx = /exec "([^"]+)"/.exec(text)?.[1] ?? "/usr/sbin/nginx";
  const modules = [...text.matchAll(/load_module ([^;"]+);/g)]
    .map((m) => m[1].replace("$ROOT", root))
    .filter((file, i, all) => existsSync(file) && all.indexOf(file) === i)
    .map((file) => `load_module ${file};`)
    .join(" ");
  return { nginx, modules };
}

async function startGateway(home: string, build: Build, work: string, opts: Options, dumpInstr: boolean): Promise<Gateway> {
  const port = await freePort();
  const statusPort = await freePort();
  const luaDir = path.join(work, "lua");
  mkdirSync(luaDir, { recursive: true });
  copyFileSync(path.join(repoRoot, "scripts", "bench", "callgrind-traces.lua"), path.join(luaDir, `${TRACE_MODULE}.lua`));
  const configYaml = composeConfigYaml(build.configYaml, port, statusPort, [path.join(build.src, "build", "lua"), luaDir]);
  const dir = createInstanceDir(home, { configYaml, apisixYaml: build.apisixYaml }, work);
  // bin/apisix init writes conf/nginx.conf from config.yaml; its template hard-codes `master_process on`.
  sh(path.join(dir, "bin", "apisix"), ["init"], { cwd: dir, env: apisixEnv(home) });
  const confFile = path.join(dir, "conf", "nginx.conf");
  const conf = readFileSync(confFile, "utf8");
  if (!/^master_process on;$/m.test(conf)) throw new Error(`${confFile}: no "master_process on;" line to turn off`);
  writeFileSync(confFile, conf.replace(/^master_process on;$/m, "master_process off;\ndaemon off;"));
  const { nginx, modules } = shimModules(home);
  const outBase = path.join(dir, "callgrind.out");
  // --compress-strings=no: every dump names its own functions (by default a later dump refers to names by the id
  // an earlier one defined).
  const args = ["--tool=callgrind", `--dump-instr=${dumpInstr ? "yes" : "no"}`, "--compress-strings=no", `--callgrind-out-file=${outBase}`];
  if (opts.debuginfo) args.push(`--extra-debuginfo-path=${path.resolve(opts.debuginfo)}`);
  args.push(nginx, "-p", `${dir}/`, "-c", "conf/nginx.conf", "-g", modules);
  const log = path.join(dir, "logs", "valgrind.log");
  writeFileSync(log, "");
  const child: ChildProcess = spawn("valgrind", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let vgOut = "";
  child.stderr?.on("data", (d: Buffer) => (vgOut += d.toString()));
  const pid = child.pid!;
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway under valgrind exited (${child.exitCode}):\n${vgOut.slice(-2000)}`);
    try {
      const r = await fetch(`${url}/__cg/traces?attach=1`, { signal: AbortSignal.timeout(3000) });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 300_000) throw new Error("the gateway under valgrind did not answer within 300 s");
    await sleep(1000);
  }
  say(`${build.short}: APISIX under callgrind answers after ${Math.round((Date.now() - started) / 1000)} s (pid ${pid}, ${dir})`);
  let dumps = 0;
  const control = (flag: string): void => {
    sh("callgrind_control", [flag, String(pid)]);
  };
  return {
    url,
    dir,
    zero: () => control("-z"),
    async dump() {
      control("-d");
      dumps++;
      const file = `${outBase}.${dumps}`;
      for (let i = 0; i < 600; i++) {
        if (existsSync(file)) {
          const text = readFileSync(file, "utf8");
          const t = /^totals: (\d+)/m.exec(text);
          const s = /^summary: (\d+)/m.exec(text);
          if (t && s) return { file, summary: Number(s[1]), totals: Number(t[1]) };
        }
        await sleep(100);
      }
      throw new Error(`callgrind wrote no ${file}`);
    },
    async stats() {
      const r = await fetch(`${url}/__cg/traces?stats=1`);
      return (await r.json()) as TraceStats;
    },
    async dumpTraces(file: string) {
      await fetch(`${url}/__cg/traces?dump=${encodeURIComponent(file)}`);
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGQUIT");
      for (let i = 0; i < 300 && child.exitCode === null; i++) await sleep(100);
      if (child.exitCode === null) child.kill("SIGKILL");
      writeFileSync(log, vgOut);
    },
  };
}

/** One request per route before anything is measured: 200, and on Spillway's routes the backend the row claims. */
async function checkRoutes(gw: Gateway, mock: Mock): Promise<void> {
  const before = mock.throttledCalls();
  for (const r of ROUTES) {
    const tries = r.skip ? 2 : 1; // the first request of the skip route takes the 429 that starts the cooldown
    for (let i = 0; i < tries; i++) {
      const res = await fetch(`${gw.url}${routePath(r.key)}${QUERY}`, { method: "POST", headers: { "content-type": "application/json" }, body: BODY });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`route ${r.key} answered ${res.status}: ${text.slice(0, 300)}`);
      if (r.spillway && i === tries - 1) {
        const backend = res.headers.get("x-gw-backend");
        const attempts = res.headers.get("x-gw-attempts");
        if (backend !== "healthy" || attempts !== "1") throw new Error(`route ${r.key}: x-gw-backend ${backend}, x-gw-attempts ${attempts} (want healthy, 1)`);
      }
    }
  }
  const calls = mock.throttledCalls() - before;
  if (calls !== 1) throw new Error(`the throttled mock was called ${calls} times by the checks (want 1: the skip route's first request)`);
}

// ---------------------------------------------------------------------------------------------------- measuring

export interface Sample {
  build: string;
  process: number;
  round: number;
  route: string;
  requests: number;
  seconds: number;
  instructions: number;
  /** totals / summary of the dump: above 1.01 when JIT code was discarded and rebuilt while measured. */
  totalsRatio: number;
  idleRate: number;
  perRequest: number;
  throttledCalls: number;
  compiled: number;
  aborted: number;
  dump: string;
  traceSeq: number;
}

export interface ProcessResult {
  build: Build;
  samples: Sample[];
  idle: { dump: string; seconds: number; rate: number };
  traces: string;
}

async function measureBuild(home: string, build: Build, work: string, mock: Mock, opts: Options, script: string, proc: number, dumpInstr: boolean): Promise<ProcessResult> {
  const gw = await startGateway(home, build, work, opts, dumpInstr);
  try {
    await checkRoutes(gw, mock);
    const url = (key: string): string => `${gw.url}${routePath(key)}${QUERY}`;
    const wrk = (key: string, seconds: number) =>
      runWrk({ url: url(key), script, connections: opts.connections, durationS: seconds, signal: new AbortController().signal });
    for (const r of ROUTES) {
      say(`${build.short}: warming route ${r.key} (${opts.warmS} s)`);
      await wrk(r.key, opts.warmS);
    }
    gw.zero();
    const idleStart = performance.now();
    await sleep(opts.idleS * 1000);
    const idleDump = await gw.dump();
    const idleSeconds = (performance.now() - idleStart) / 1000;
    const idleRate = idleDump.summary / idleSeconds;
    say(`${build.short}: idle ${k(idleRate)} instructions/s`);
    const samples: Sample[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const order = round % 2 === 1 ? ROUTES : [...ROUTES].reverse();
      for (const r of order) {
        const before = await gw.stats();
        const throttledBefore = mock.throttledCalls();
        gw.zero();
        const t0 = performance.now();
        const res = await wrk(r.key, opts.measureS);
        const d = await gw.dump();
        const seconds = (performance.now() - t0) / 1000;
        const after = await gw.stats();
        const errors = res.errors.connect + res.errors.read + res.errors.write + res.errors.timeout + res.errors.status;
        if (errors > 0) throw new Error(`route ${r.key}: wrk reported ${errors} errors or non-2xx answers (${JSON.stringify(res.errors)})`);
        const perRequest = (d.summary - idleRate * seconds) / res.requests;
        const sample: Sample = {
          build: build.short,
          process: proc,
          round,
          route: r.key,
          requests: res.requests,
          seconds,
          instructions: d.summary,
          totalsRatio: d.totals / d.summary,
          idleRate,
          perRequest,
          throttledCalls: mock.throttledCalls() - throttledBefore,
          compiled: after.stops - before.stops,
          aborted: after.aborts - before.aborts,
          dump: d.file,
          traceSeq: after.seq,
        };
        samples.push(sample);
        say(
          `${build.short} process ${proc} round ${round} route ${r.key}: ${res.requests} requests in ${seconds.toFixed(1)} s, ${k(perRequest)} instructions/request ` +
            `(traces compiled ${sample.compiled}, aborted ${sample.aborted}; throttled mock called ${sample.throttledCalls}×)`,
        );
      }
    }
    const traces = path.join(gw.dir, "traces.tsv");
    await gw.dumpTraces(traces);
    return { build, samples, idle: { dump: idleDump.file, seconds: idleSeconds, rate: idleRate }, traces };
  } finally {
    await gw.stop();
  }
}

// ---------------------------------------------------------------------------------------------------- per-function

interface Trace {
  seq: number;
  trace: number;
  addr: number;
  size: number;
  parent: number;
  link: number;
  linktype: string;
  start: string;
  funcs: { name: string; count: number }[];
}

function readTraces(file: string): Trace[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [seq, trace, addr, size, parent, link, linktype, start, funcs] = l.split("\t");
      return {
        seq: Number(seq),
        trace: Number(trace),
        addr: Number.parseInt(addr, 16),
        size: Number(size),
        parent: Number(parent),
        link: Number(link),
        linktype,
        start,
        funcs: (funcs ?? "")
          .split(",")
          .filter((f) => f !== "")
          .map((f) => {
            const i = f.lastIndexOf("=");
            return { name: f.slice(0, i), count: Number(f.slice(i + 1)) };
          }),
      };
    });
}

/** The trace whose machine code holds `addr`, as compiled by dump time (the latest one compiled before it). */
function traceAt(traces: Trace[], addr: number, seq: number): Trace | undefined {
  let found: Trace | undefined;
  for (const t of traces) {
    if (t.seq > seq) break;
    if (addr >= t.addr && addr < t.addr + t.size) found = t;
  }
  return found;
}

/** One callgrind dump, read directly (callgrind_annotate lists the frames that were on the stack at
 * `callgrind_control -z` with the dump's whole cost as their own, and cannot tell a fake `calls=0` line from work).
 * Names are "file:function [object]", as callgrind_annotate prints them. */
interface DumpCosts {
  self: Map<string, number>;
  /** self + the costs of the calls it made (calls=0 lines, the stack at zero time, left out). */
  incl: Map<string, number>;
  /** callee → caller → inclusive cost of those calls. */
  callers: Map<string, Map<string, number>>;
  /** With --dump-instr=yes: self cost of anonymous (JIT) code by instruction address. */
  jit: Map<number, number>;
}

function readDump(file: string): DumpCosts {
  const out: DumpCosts = { self: new Map(), incl: new Map(), callers: new Map(), jit: new Map() };
  let npos = 1;
  let instrPos = false;
  let addr = 0;
  const sub = (field: string, last: number): number => {
    if (field === "*") return last;
    const sign = field[0] === "+" ? 1 : field[0] === "-" ? -1 : 0;
    const digits = sign === 0 ? field : field.slice(1);
    const n = digits.startsWith("0x") ? Number.parseInt(digits.slice(2), 16) : Number(digits);
    return sign === 0 ? n : last + sign * n;
  };
  const names = { ob: new Map<string, string>(), fl: new Map<string, string>(), fn: new Map<string, string>() };
  const take = (kind: "ob" | "fl" | "fn", spec: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (!m) return spec;
    if (m[2] !== undefined) names[kind].set(m[1], m[2]);
    return names[kind].get(m[1]) ?? `(${m[1]})`;
  };
  let ob = "???";
  let fl = "???";
  let fn = "";
  let cob: string | undefined;
  let cfl: string | undefined;
  let callee: string | undefined;
  let callCount = -1;
  const key = (file: string, func: string, obj: string): string => `${file}:${func} [${obj}]`;
  let current = "";
  const add = (map: Map<string, number>, k: string, v: number): void => {
    map.set(k, (map.get(k) ?? 0) + v);
  };
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line === "") continue;
    const c = line.charCodeAt(0);
    if ((c >= 48 && c <= 57) || line[0] === "+" || line[0] === "-" || line[0] === "*") {
      const parts = line.split(" ");
      if (parts.length <= npos) continue;
      if (instrPos) addr = sub(parts[0], addr);
      const v = Number(parts[npos]);
      if (callee !== undefined) {
        if (callCount > 0 && callee !== current) {
          add(out.incl, current, v);
          let m = out.callers.get(callee);
          if (m === undefined) out.callers.set(callee, (m = new Map()));
          // From JIT code, per instruction: the call site's address (named by its trace later), not the entry's.
          const caller = instrPos && ob === "???" ? `???:0x${addr.toString(16)} [???]` : current;
          m.set(caller, (m.get(caller) ?? 0) + v);
        }
        callee = undefined;
      } else {
        add(out.self, current, v);
        add(out.incl, current, v);
        if (instrPos && ob === "???") out.jit.set(addr, (out.jit.get(addr) ?? 0) + v);
      }
      continue;
    }
    if (line.startsWith("positions:")) {
      const fields = line.slice("positions:".length).trim().split(/\s+/);
      npos = fields.length;
      instrPos = fields[0] === "instr";
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const tag = line.slice(0, eq);
    const spec = line.slice(eq + 1);
    switch (tag) {
      case "ob": ob = take("ob", spec); break;
      case "fl": fl = take("fl", spec); break;
      case "fi":
      case "fe": take("fl", spec); break;
      case "fn":
        fn = take("fn", spec);
        current = key(fl, fn, ob);
        cob = undefined;
        cfl = undefined;
        break;
      case "cob": cob = take("ob", spec); break;
      case "cfi":
      case "cfl": cfl = take("fl", spec); break;
      case "cfn": {
        const name = take("fn", spec);
        callee = key(cfl ?? fl, name, cob ?? ob);
        cob = undefined;
        cfl = undefined;
        break;
      }
      case "calls": callCount = Number(spec.split(" ")[0]); break;
      default: break;
    }
  }
  return out;
}

interface Named {
  key: string;
  detail: string;
  group: string;
  trace?: Trace;
}

function objName(obj: string): string {
  const base = path.basename(obj);
  if (base.startsWith("libluajit")) return "LuaJIT";
  if (base.startsWith("ngx_http_lua")) return "ngx_lua";
  if (base === "nginx") return "nginx";
  if (base.startsWith("libc.so")) return "libc";
  return base;
}

const SPILLWAY_LUA = /spillway-failover|azure-openai-dynamic|azure-openai-auth|spillway\/hook/;

/** A Lua-side name for a callgrind function: JIT code → its trace; C → function and library. */
function nameOf(raw: string, traces: Trace[], seq: number): Named {
  const jit = /^[^:]*:0x([0-9a-f]+)(?:'\d+)? \[\?\?\?\]$/.exec(raw);
  if (jit) {
    const addr = Number.parseInt(jit[1], 16);
    const t = traceAt(traces, addr, seq);
    if (t === undefined) return { key: `JIT code 0x${jit[1].replace(/^0+/, "")} (no trace recorded there)`, detail: "", group: "JIT code, no trace recorded" };
    const total = t.funcs.reduce((a, f) => a + f.count, 0);
    const funcs = [...t.funcs].sort((x, y) => y.count - x.count).slice(0, 4).map((f) => `${f.name} ${Math.round((100 * f.count) / total)} %`).join(", ");
    return {
      key: `${t.parent ? "side trace" : "trace"} @ ${t.start}`,
      detail: `bytecode recorded: ${funcs}`,
      group: `JIT traces starting in ${t.start.replace(/:\d+$/, "")}`,
      trace: t,
    };
  }
  const m = /^(.*?):(.+?)(?:'\d+)? \[(.+)\]$/.exec(raw);
  if (!m) return { key: raw, detail: "", group: "other" };
  const fn = m[2];
  const obj = objName(m[3]);
  let group = obj;
  if (obj === "LuaJIT") group = /^lj_(BC|vm)_|^lj_cont_|^lj_ff_/.test(fn) ? "LuaJIT interpreter (lj_BC_*, lj_vm_*, lj_ff_*)" : "LuaJIT runtime (lj_*: GC, strings, tables, trace exits)";
  return { key: `${fn} (${obj})`, detail: "", group };
}

interface Costs {
  self: Map<string, number>;
  incl: Map<string, number>;
  callers: Map<string, Map<string, number>>;
  /** JIT self cost split over the Lua functions whose bytecode each trace recorded (by bytecode count). */
  lua: Map<string, number>;
  named: Map<string, Named>;
  requests: number;
}

/** Per-request self and inclusive costs of one route over its rounds, the idle share subtracted per function. */
function routeCosts(samples: Sample[], idle: ProcessResult["idle"], traces: Trace[]): Costs {
  const out: Costs = { self: new Map(), incl: new Map(), callers: new Map(), lua: new Map(), named: new Map(), requests: 0 };
  const idleDump = readDump(idle.dump);
  for (const s of samples) out.requests += s.requests;
  const add = (map: Map<string, number>, key: string, v: number): void => {
    map.set(key, (map.get(key) ?? 0) + v);
  };
  for (const s of samples) {
    const scale = s.seconds / idle.seconds;
    const dump = readDump(s.dump);
    const name = (raw: string): Named => {
      const n = nameOf(raw, traces, s.traceSeq);
      out.named.set(n.key, n);
      return n;
    };
    // With instruction addresses, JIT code is split by the trace each instruction belongs to; without them, by the
    // address callgrind named the code after (where control entered it: linked traces reached by jumps lumped in).
    const byInstr = dump.jit.size > 0;
    const selfRows: [string, number][] = [];
    for (const [raw, cost] of dump.self) {
      if (byInstr && / \[\?\?\?\]$/.test(raw)) continue;
      selfRows.push([raw, (cost - (idleDump.self.get(raw) ?? 0) * scale) / out.requests]);
    }
    if (byInstr) {
      const idleJit = new Map<string, number>();
      for (const [a, cost] of idleDump.jit) {
        const raw = `???:0x${a.toString(16)} [???]`;
        idleJit.set(raw, (idleJit.get(raw) ?? 0) + cost);
      }
      const jitRows = new Map<string, number>();
      for (const [a, cost] of dump.jit) {
        const raw = `???:0x${a.toString(16)} [???]`;
        jitRows.set(raw, (jitRows.get(raw) ?? 0) + cost);
      }
      // Idle JIT cost is small (timers); it is subtracted by address, like the functions.
      for (const [raw, cost] of jitRows) selfRows.push([raw, (cost - (idleJit.get(raw) ?? 0) * scale) / out.requests]);
    }
    for (const [raw, net] of selfRows) {
      const n = name(raw);
      add(out.self, n.key, net);
      if (n.trace) {
        const total = n.trace.funcs.reduce((a, f) => a + f.count, 0);
        for (const f of n.trace.funcs) add(out.lua, f.name, (net * f.count) / total);
      }
    }
    // Inclusive: the largest of a name's entries (callgrind splits recursion levels: name'2, name'3 ...).
    const incl = new Map<string, number>();
    for (const [raw, cost] of dump.incl) {
      // Per instruction, JIT code has no call graph of its own here: its rows show self cost only.
      if (byInstr && / \[\?\?\?\]$/.test(raw)) continue;
      const net = (cost - (idleDump.incl.get(raw) ?? 0) * scale) / out.requests;
      const n = name(raw);
      incl.set(n.key, Math.max(incl.get(n.key) ?? 0, net));
    }
    for (const [key, v] of incl) add(out.incl, key, v);
    for (const [callee, from] of dump.callers) {
      const c = name(callee).key;
      let m = out.callers.get(c);
      if (m === undefined) out.callers.set(c, (m = new Map()));
      for (const [caller, v] of from) {
        const ck = name(caller).key;
        m.set(ck, (m.get(ck) ?? 0) + v / out.requests);
      }
    }
  }
  return out;
}

/** The mean over processes of each process's per-request costs (JIT rows are keyed by trace start, not number). */
function meanCosts(all: Costs[]): Costs {
  const out: Costs = { self: new Map(), incl: new Map(), callers: new Map(), lua: new Map(), named: new Map(), requests: 0 };
  const n = all.length;
  const add = (map: Map<string, number>, key: string, v: number): void => {
    map.set(key, (map.get(key) ?? 0) + v / n);
  };
  for (const c of all) {
    out.requests += c.requests;
    for (const [key, v] of c.self) add(out.self, key, v);
    for (const [key, v] of c.incl) add(out.incl, key, v);
    for (const [key, v] of c.lua) add(out.lua, key, v);
    for (const [key, v] of c.named) if (!out.named.has(key)) out.named.set(key, v);
    for (const [callee, from] of c.callers) {
      let m = out.callers.get(callee);
      if (m === undefined) out.callers.set(callee, (m = new Map()));
      for (const [caller, v] of from) add(m, caller, v);
    }
  }
  return out;
}

export function functionDiff(results: ProcessResult[], routeA: string, routeB: string, top: number): string {
  const per = results.map((r) => {
    const traces = readTraces(r.traces);
    return {
      a: routeCosts(r.samples.filter((s) => s.route === routeA), r.idle, traces),
      b: routeCosts(r.samples.filter((s) => s.route === routeB), r.idle, traces),
    };
  });
  const a = meanCosts(per.map((p) => p.a));
  const b = meanCosts(per.map((p) => p.b));
  const result = results[0];
  const named = new Map([...a.named, ...b.named]);
  const keys = new Set([...a.self.keys(), ...b.self.keys()]);
  const diff = (x: Map<string, number>, y: Map<string, number>, key: string): number => (y.get(key) ?? 0) - (x.get(key) ?? 0);
  const rows = [...keys].map((key) => ({ key, self: diff(a.self, b.self, key), incl: diff(a.incl, b.incl, key), n: named.get(key)! }));
  rows.sort((x, y) => y.self - x.self);
  const fmt = (v: number): string => `${v >= 0 ? "+" : "−"}${(Math.abs(v) / 1000).toFixed(2)} k`;
  const lines: string[] = [];
  const sum = rows.reduce((acc, r) => acc + r.self, 0);
  lines.push(`Per-function difference, build ${result.build.short}, route ${routeB} − route ${routeA}, instructions per request, mean of ${results.length} process(es)`);
  lines.push(`(self cost from the dumps, idle share subtracted; sum of all self differences ${fmt(sum)})`);
  lines.push("");
  lines.push("| # | self Δ | inclusive Δ | function | what it is |");
  lines.push("|---|---|---|---|---|");
  rows.slice(0, top).forEach((r, i) => {
    let what = r.n.detail;
    if (!r.n.trace) {
      // A C function: the caller that added most of its calls on route B.
      const cb = b.callers.get(r.key) ?? new Map<string, number>();
      const ca = a.callers.get(r.key) ?? new Map<string, number>();
      const top1 = [...new Set([...cb.keys(), ...ca.keys()])]
        .map((c) => ({ c, v: (cb.get(c) ?? 0) - (ca.get(c) ?? 0) }))
        .sort((x, y) => y.v - x.v)[0];
      if (top1 && top1.v > 0) {
        const caller = named.get(top1.c);
        what = `most from ${top1.c}${caller?.trace ? ` [${caller.detail}]` : ""} (${fmt(top1.v)} inclusive)`;
      }
    }
    const incl = r.n.trace && !a.incl.has(r.key) && !b.incl.has(r.key) ? "·" : fmt(r.incl);
    lines.push(`| ${i + 1} | ${fmt(r.self)} | ${incl} | ${r.key} | ${what} |`);
  });
  lines.push("");
  lines.push("Self Δ by group:");
  const groups = new Map<string, number>();
  for (const r of rows) groups.set(r.n.group, (groups.get(r.n.group) ?? 0) + r.self);
  for (const [g, v] of [...groups].sort((x, y) => y[1] - x[1])) if (Math.abs(v) >= 200) lines.push(`  ${fmt(v).padStart(10)}  ${g}`);
  lines.push("");
  lines.push("JIT code in Lua terms: each trace's self cost split over the Lua functions whose bytecode it recorded");
  lines.push("(by bytecode count: inlined callees share their caller's trace), Δ per request, largest 15:");
  const luaKeys = new Set([...a.lua.keys(), ...b.lua.keys()]);
  const lua = [...luaKeys].map((key) => ({ key, v: diff(a.lua, b.lua, key) })).sort((x, y) => y.v - x.v);
  for (const r of lua.slice(0, 15)) lines.push(`  ${fmt(r.v).padStart(10)}  ${r.key}`);
  const spill = (m: Map<string, number>): number => [...m].filter(([key]) => SPILLWAY_LUA.test(key)).reduce((acc, [, v]) => acc + v, 0);
  lines.push("");
  lines.push(
    `JIT self cost in Spillway's own Lua functions: route ${routeB} ${fmt(spill(b.lua))}, route ${routeA} ${fmt(spill(a.lua))} ` +
      "(on a stock route: the module-field wrappers Spillway installs, patches 1-3, passing stock's calls through)",
  );
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------- report

function table(results: ProcessResult[], builds: Build[]): string {
  const lines: string[] = [];
  const head = ["route", ...builds.map((b) => (b.rev === b.short ? b.short : `${b.rev} (${b.short})`))];
  lines.push(`| ${head.join(" | ")} |`);
  lines.push(`|${head.map(() => "---").join("|")}|`);
  const samples = (b: Build, key: string): number[] =>
    results.filter((r) => r.build.sha === b.sha).flatMap((r) => r.samples.filter((s) => s.route === key).map((s) => s.perRequest));
  for (const route of ROUTES) {
    const cells = builds.map((b) => {
      const xs = samples(b, route.key);
      const v = median(xs);
      const spread = `${(Math.min(...xs) / 1000).toFixed(0)}–${(Math.max(...xs) / 1000).toFixed(0)}`;
      return route.base ? `${k(v)} (×${(v / median(samples(b, route.base))).toFixed(3)} ${route.base}; ${spread})` : `${k(v)} (${spread})`;
    });
    lines.push(`| ${route.key}: ${route.label} | ${cells.join(" | ")} |`);
  }
  lines.push("");
  lines.push("Every measurement (instructions/request; requests; traces compiled/aborted while measured; throttled mock calls):");
  for (const r of results) {
    lines.push(`  ${r.build.short}, process ${r.samples[0]?.process ?? "?"} (idle ${k(r.idle.rate)}/s):`);
    for (const route of ROUTES) {
      const ss = r.samples.filter((s) => s.route === route.key);
      lines.push(
        `    ${route.key}: ${ss
          .map((s) => `${k(s.perRequest)} (${s.requests} req, ${s.compiled}/${s.aborted} traces, ${s.throttledCalls}× 429${s.totalsRatio > 1.01 ? `, totals/summary ${s.totalsRatio.toFixed(3)}` : ""})`)
          .join("  ")}`,
      );
    }
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------- LuaJIT symbols

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = (c >>> 8) ^ CRC_TABLE[(c ^ b) & 0xff];
  return (c ^ 0xffffffff) >>> 0;
}

/** Four bytes that, appended to `data`, make its CRC-32 `target` (the table run backwards). */
function crcSuffix(data: Uint8Array, target: number): Uint8Array {
  const top = new Map(CRC_TABLE.map((t, i) => [t >>> 24, i]));
  let reg = (target ^ 0xffffffff) >>> 0;
  const idx: number[] = [];
  for (let i = 0; i < 4; i++) {
    const j = top.get(reg >>> 24)!;
    idx.unshift(j);
    reg = ((reg ^ CRC_TABLE[j]) << 8) >>> 0;
  }
  let c = (crc32(data) ^ 0xffffffff) >>> 0;
  const out = new Uint8Array(4);
  idx.forEach((j, i) => {
    out[i] = (c ^ j) & 0xff;
    c = ((c >>> 8) ^ CRC_TABLE[j]) >>> 0;
  });
  return out;
}

/**
 * Debian ships LuaJIT stripped, and its debug-symbol archive is not reachable from here. The package's build is
 * reproducible down to the code: rebuilt from the same source package, the library differs only in its build id. This
 * rebuilds it (apt-get source + dpkg-buildpackage, in `dir`), checks that the code is byte for byte the installed
 * library's, and installs the unstripped copy under `dir` where valgrind's --extra-debuginfo-path looks for the
 * installed library's .gnu_debuglink name, with four bytes appended so that its CRC is the one that link asks for.
 */
function makeDebuginfo(dir: string): void {
  const lib = sh("readlink", ["-f", "/usr/lib/x86_64-linux-gnu/libluajit-5.1.so.2"]).trim();
  const [pkg, version] = sh("dpkg-query", ["-W", "-f", "${source:Package} ${Version}", "libluajit2-5.1-2"]).trim().split(" ");
  const codename = /^VERSION_CODENAME=(\S+)/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
  const sources = existsSync("/etc/apt/sources.list.d/debian.sources") ? readFileSync("/etc/apt/sources.list.d/debian.sources", "utf8") : "";
  const uri = /^URIs: (\S+)/m.exec(sources)?.[1] ?? /^deb (\S+) /m.exec(existsSync("/etc/apt/sources.list") ? readFileSync("/etc/apt/sources.list", "utf8") : "")?.[1];
  if (!codename || !uri) throw new Error("cannot tell this system's Debian release or mirror (/etc/os-release, /etc/apt/sources.list.d/debian.sources)");
  const work = path.join(path.resolve(dir), "build");
  const apt = path.join(work, "apt");
  mkdirSync(path.join(apt, "lists", "partial"), { recursive: true });
  mkdirSync(path.join(apt, "cache", "archives", "partial"), { recursive: true });
  writeFileSync(path.join(apt, "sources.list"), `deb-src ${uri} ${codename} main\n`);
  const aptOpts = [
    "-o", `Dir::Etc::SourceList=${path.join(apt, "sources.list")}`, "-o", "Dir::Etc::SourceParts=/dev/null",
    "-o", `Dir::State::Lists=${path.join(apt, "lists")}`, "-o", `Dir::Cache=${path.join(apt, "cache")}`,
  ];
  say(`${pkg} ${version}: source package (apt-get source, a private list in ${apt})`);
  sh("apt-get", [...aptOpts, "update"]);
  sh("apt-get", [...aptOpts, "source", "--download-only", `${pkg}=${version}`], { cwd: work });
  const dsc = `${pkg}_${version.replace(/^\d+:/, "")}.dsc`;
  const srcDir = path.join(work, "src");
  rmSync(srcDir, { recursive: true, force: true });
  sh("dpkg-source", ["-x", dsc, srcDir], { cwd: work });
  say(`${pkg}: dpkg-buildpackage -b (about 2 min on 2 cores)`);
  sh("dpkg-buildpackage", ["-b", "-uc", "-us"], { cwd: srcDir, env: { ...process.env, DEB_BUILD_OPTIONS: "nocheck" } });
  const built = path.join(srcDir, "src", "libluajit.so");
  const text = (file: string): Buffer => {
    const out = path.join(work, `${path.basename(file)}.text`);
    sh("objcopy", ["-O", "binary", "--only-section=.text", file, out]);
    return readFileSync(out);
  };
  if (!text(built).equals(text(lib))) throw new Error(`the rebuilt ${built} has other code than ${lib}: its symbols would name the wrong functions`);
  const linkFile = path.join(work, "debuglink");
  sh("objcopy", ["--dump-section", `.gnu_debuglink=${linkFile}`, lib, path.join(work, "lib.copy")]);
  const link = readFileSync(linkFile);
  const name = link.subarray(0, link.indexOf(0)).toString();
  const crc = link.readUInt32LE(link.length - 4);
  const data = readFileSync(built);
  const target = path.join(path.resolve(dir), path.dirname(lib).replace(/^\//, ""), name);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, Buffer.concat([data, crcSuffix(data, crc)]));
  say(`LuaJIT symbols for ${lib} in ${target}; pass --debuginfo ${path.resolve(dir)}`);
}

// ---------------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.makeDebuginfo !== undefined) return makeDebuginfo(opts.makeDebuginfo);
  const home = process.env.APISIX_HOME;
  if (!home) throw new Error("APISIX_HOME is not set (an APISIX 3.18 install: `export APISIX_HOME=$(bash scripts/apisix-lab.sh)`)");
  checkApisixHome(home);
  for (const tool of ["valgrind", "wrk"]) need(tool);
  need("callgrind_control", ["-h"]);
  need("callgrind_annotate", ["-h"]);
  if (!existsSync("/usr/sbin/nginx")) throw new Error("Debian's nginx is missing (apt-get install nginx)");
  const work = opts.work ?? mkdtempSync(path.join(tmpdir(), "spillway-callgrind-"));
  mkdirSync(work, { recursive: true });
  say(`work folder ${work}`);
  const script = writeWrkScript(path.join(work, "post.lua"), BODY, { "Content-Type": "application/json" });
  const diffRev = opts.diffBuild ?? opts.builds[opts.builds.length - 1];
  const diffSha = sh("git", ["-C", repoRoot, "rev-parse", "--verify", `${diffRev}^{commit}`]).trim();
  const mock = await startMock(work);
  const builds: Build[] = [];
  const results: ProcessResult[] = [];
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (const rev of opts.builds) builds.push(await prepareBuild(rev, work, mock));
    // The builds alternate: process 1 runs them in the given order, process 2 in reverse, and so on.
    for (let proc = 1; proc <= opts.processes; proc++) {
      for (const build of proc % 2 === 1 ? builds : [...builds].reverse()) {
        if (interrupted) throw new Error("interrupted");
        const dumpInstr = opts.dumpInstr === "yes" || (opts.dumpInstr === "diff" && build.sha === diffSha);
        results.push(await measureBuild(home, build, work, mock, opts, script, proc, dumpInstr));
      }
    }
  } finally {
    await mock.stop();
    if (!opts.keepWorktrees) {
      for (const b of builds) spawnSync("git", ["-C", repoRoot, "worktree", "remove", "--force", b.src]);
    }
  }
  const started = new Date().toISOString();
  const report: string[] = [];
  report.push(`# callgrind: instructions per request, ${started}`);
  report.push(
    `APISIX ${home} under valgrind --tool=callgrind (--dump-instr=${opts.dumpInstr === "diff" ? `yes for ${diffSha.slice(0, 7)}, no for the others` : opts.dumpInstr}; it changes no count), master_process off; ` +
      `${opts.processes} process(es) per build, builds alternated; in each: wrk -c${opts.connections}, ${opts.warmS} s warm-up per route, idle ${opts.idleS} s, ` +
      `${opts.rounds} round(s) × ${opts.measureS} s per route; medians over all measurements (min–max in k)`,
  );
  report.push("");
  report.push(table(results, builds));
  const diffResults = results.filter((r) => r.build.sha === diffSha);
  if (diffResults.length > 0) {
    report.push("");
    report.push(functionDiff(diffResults, "d", "e", opts.top));
    // What a cooled skip adds to Spillway's own route.
    report.push("");
    report.push(functionDiff(diffResults, "b", "c", opts.top));
  }
  const text = `${report.join("\n")}\n`;
  writeFileSync(path.join(work, "report.md"), text);
  writeFileSync(path.join(work, "samples.json"), JSON.stringify(results.map((r) => ({ build: r.build.rev, sha: r.build.sha, idle: r.idle, samples: r.samples })), null, 2));
  process.stdout.write(text);
  say(`report and samples in ${work} (report.md, samples.json; dumps in the instance folders)`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`callgrind: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
