// `spillway start` / `spillway demo` plumbing: choosing the gateway, the instance folder a local install runs in,
// `spillway start` on the real local APISIX (APISIX_HOME, e.g. the apisix-lab build) end to end with Ctrl-C, and the
// demo's table.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { alive, closedToWorkers, createInstanceDir, removeInstanceDir } from "../../scripts/start/apisix-instance.ts";
import { runStart } from "../../scripts/start/cli.ts";
import { reportLines, type Outcome } from "../../scripts/start/demo-report.ts";
import { dockerEngine } from "../../scripts/start/docker.ts";
import { chooseGateway } from "../../scripts/start/gateway.ts";
import { freePort } from "../../scripts/start/ports.ts";
import { EnvironmentError } from "../../lib/errors.ts";
import { renderOnce } from "../../renderer/cli.ts";
import { envFileText, MINIMAL_ENV, tempDir } from "./fixtures.ts";

const scratch = tempDir("spillway-start-");
chmodSync(scratch.dir, 0o755); // mkdtemp makes it 0700; open, so only what a test closes is closed to workers
afterAll(() => scratch.cleanup());
const engine = dockerEngine();

/** A directory shaped like an install (bin/apisix, apisix/, conf/ with the lab's install settings); nothing runs. */
function installShape(name: string): string {
  const home = path.join(scratch.dir, name);
  for (const dir of ["bin", "apisix", "deps", "openresty", "conf"]) mkdirSync(path.join(home, dir), { recursive: true });
  writeFileSync(path.join(home, "bin", "apisix"), "#!/bin/sh\nexit 1\n");
  chmodSync(path.join(home, "bin", "apisix"), 0o755);
  writeFileSync(path.join(home, "conf", "config.yaml"), "apisix:\n  enable_http2: false\n  enable_control: false\nplugin_attr:\n  ai-proxy:\n    http_client: lua-resty-http\n");
  writeFileSync(path.join(home, "conf", "mime.types"), "types {}\n");
  return home;
}

/** Every file under conf/ of an install, hashed: proves a run left it untouched. */
function confDigest(home: string): Record<string, string> {
  const conf = path.join(home, "conf");
  return Object.fromEntries(
    readdirSync(conf, { recursive: true, encoding: "utf8" })
      .filter((f) => lstatSync(path.join(conf, f)).isFile())
      .map((f) => [f, createHash("sha256").update(readFileSync(path.join(conf, f))).digest("hex")]),
  );
}

describe("choosing the gateway", () => {
  describe.skipIf(engine.ok)("without a Docker engine (skipped: a Docker engine answers here)", () => {
    it("fails with a clear EnvironmentError when APISIX_HOME is not set either", () => {
      let err: unknown;
      try {
        chooseGateway({}, false);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as Error).message).toMatch(/^no way to run APISIX here: no Docker engine answered \(.+\) and APISIX_HOME is not set\. Start Docker/);
    });

    it("uses APISIX_HOME when it holds an install, and rejects one that does not", () => {
      const home = installShape("choose");
      expect(chooseGateway({ APISIX_HOME: home }, false)).toMatchObject({ kind: "apisix-home", apisixHome: home });
      expect(() => chooseGateway({ APISIX_HOME: scratch.dir }, false)).toThrow(/does not look like an APISIX install/);
    });

    it("falls back to the test stand-in for the demo only", () => {
      expect(chooseGateway({}, true).kind).toBe("standin");
    });
  });
});

describe("the instance folder a local install runs in", () => {
  it("links the install's code, owns conf/ and logs/, sends logs to files, carries the install's settings, and leaves the install alone", async () => {
    const home = installShape("instance");
    const before = confDigest(home);
    const { rendered } = await renderOnce({ processEnv: MINIMAL_ENV, overrides: { SPILLWAY_LUA_PATH: path.join(repoRoot, "build", "lua") } });
    const dir = createInstanceDir(home, { configYaml: rendered.configYaml, apisixYaml: rendered.apisixYaml }, scratch.dir);
    try {
      for (const name of ["apisix", "bin", "deps", "openresty"]) expect(readlinkSync(path.join(dir, name))).toBe(path.join(home, name));
      expect(readFileSync(path.join(dir, "conf", "mime.types"), "utf8")).toBe("types {}\n");
      expect(lstatSync(path.join(dir, "logs")).isDirectory()).toBe(true);
      const config = readFileSync(path.join(dir, "conf", "config.yaml"), "utf8");
      expect(config).toContain(`error_log: ${path.join(dir, "logs", "error.log")}`);
      expect(config).toContain(`access_log: ${path.join(dir, "logs", "access.log")}`);
      expect(config).not.toContain("/dev/std");
      expect(config).toContain(`extra_lua_path: ${path.join(repoRoot, "build", "lua")}/?.lua`);
      expect(config).toMatch(/enable_http2: false/);
      expect(config).toMatch(/enable_control: false/);
      expect(config).toMatch(/http_client: lua-resty-http/);
      expect(readFileSync(path.join(dir, "conf", "apisix.yaml"), "utf8")).toBe(rendered.apisixYaml);
      // Workers run as nobody when started as root.
      expect(closedToWorkers(path.join(dir, "conf"))).toBeUndefined();
      expect(confDigest(home)).toEqual(before);
    } finally {
      removeInstanceDir(dir);
    }
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(path.join(home, "apisix"))).toBe(true);
  });

  it("names the folder nobody cannot enter", () => {
    const closed = path.join(scratch.dir, "closed");
    mkdirSync(path.join(closed, "inner"), { recursive: true, mode: 0o700 });
    chmodSync(closed, 0o700);
    expect(closedToWorkers(path.join(closed, "inner"))).toBe(closed);
  });
});

const home = process.env.APISIX_HOME?.trim();
const built = ["apisix/plugins/spillway-failover.lua", "spillway/hook.lua"].every((f) => existsSync(path.join(repoRoot, "build/lua", f)));
const skipReal = engine.ok
  ? "a Docker engine answers, start would use it"
  : !home
    ? "APISIX_HOME is not set (APISIX_HOME=$(bash scripts/apisix-lab.sh) builds one)"
    : !existsSync(path.join(home, "bin", "apisix"))
      ? `APISIX_HOME=${home} has no bin/apisix`
      : !built
        ? "build/lua lacks the failover plugin or hook; run npm run build"
        : undefined;

describe.skipIf(skipReal !== undefined)(`spillway start on the local APISIX at APISIX_HOME${skipReal ? ` (skipped: ${skipReal})` : ""}`, () => {
  const captured = { stderr: "", stdout: "" };
  afterEach(() => vi.restoreAllMocks());

  it("runs in an instance folder of its own, follows its logs here, and Ctrl-C quits it and removes the folder", async () => {
    for (const stream of ["stderr", "stdout"] as const) {
      const write = process[stream].write.bind(process[stream]);
      vi.spyOn(process[stream], "write").mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
        captured[stream] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
        return write(chunk, ...rest);
      }) as typeof process.stdout.write);
    }
    const before = confDigest(home!);
    const port = await freePort();
    const envFile = path.join(scratch.dir, "start.env");
    writeFileSync(envFile, envFileText({ ...MINIMAL_ENV, SPILLWAY_LISTEN_HOST: "127.0.0.1", SPILLWAY_LISTEN_PORT: String(port), SPILLWAY_METRICS_HOST: "127.0.0.1", SPILLWAY_METRICS_PORT: String(await freePort()), SPILLWAY_STATUS_HOST: "127.0.0.1", SPILLWAY_STATUS_PORT: String(await freePort()) }));
    const controller = new AbortController();
    const running = runStart({ envFile: [envFile], processEnv: { APISIX_HOME: home }, build: false, signal: controller.signal });
    let failed: unknown;
    running.catch((err: unknown) => (failed = err));
    let dir: string | undefined;
    let master = 0;
    try {
      // Up means: the start-up lines are printed (they follow the gateway's first healthy answer).
      const deadline = Date.now() + 45_000;
      while (!captured.stderr.includes("Ctrl-C stops the gateway") && failed === undefined && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(failed).toBeUndefined();
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      expect(res.headers.get("server")).toMatch(/APISIX/);

      dir = /instance folder (\S+) \(removed on stop\)/.exec(captured.stderr)?.[1];
      expect(dir).toBeDefined();
      master = Number(readFileSync(path.join(dir!, "logs", "nginx.pid"), "utf8"));
      expect(alive(master)).toBe(true);
      expect(readFileSync(path.join(dir!, "conf", "config.yaml"), "utf8")).toContain(`extra_lua_path: ${path.join(repoRoot, "build", "lua")}/?.lua`);
    } finally {
      controller.abort(); // what Ctrl-C does; also when an expectation above failed, so no nginx is left behind
      await running.catch(() => undefined);
    }
    expect(alive(master)).toBe(false);
    expect(existsSync(dir!)).toBe(false);
    expect(confDigest(home!)).toEqual(before);
    // The error log went to stderr and the access log to stdout, as the container does.
    expect(captured.stderr).toContain(`${dir}/conf/apisix.yaml reloaded`);
    // The access-log line of that request (one JSON object per line, as rendered).
    const healthLines = captured.stdout.split("\n").filter((l) => l.includes('"uri":"/healthz"'));
    expect(healthLines.length).toBeGreaterThan(0);
    expect(JSON.parse(healthLines[0]!.slice(healthLines[0]!.indexOf("{")))).toMatchObject({ uri: "/healthz", status: "200" });
  }, 60_000);
});

describe("the demo's table", () => {
  const stats = (total: number, throttled: number) => ({ instance: "x", total, streamed: 0, byDeployment: {}, byStatus: { "200": total - throttled, "429": throttled }, byRoute: {}, faults: 0, tokens: { prompt: 0, completion: 0 } });
  const ok = (backend: string, attempts: string, stream = false): Outcome => ({ stream, status: 200, backend, attempts, ms: 10 });

  it("counts what the headers and simulators say: served per backend, failovers, 429s seen and absorbed", () => {
    const lines = reportLines({
      label: "APISIX 3.18.0 in Docker",
      elapsedMs: 2500,
      outcomes: [ok("sim-a", "1"), ok("sim-b", "2", true), ok("sim-b", "3"), { stream: true, status: 429, backend: null, attempts: "3", ms: 5, error: "429 throttled" }],
      backends: [
        { name: "sim-a", priority: 10, note: "preferred", stats: stats(4, 3) },
        { name: "sim-b", priority: 5, note: "spill-over", stats: stats(2, 0) },
      ],
    }).join("\n");
    expect(lines).toMatch(/requests sent\s+4 \(2 chat, 2 streamed chat\)/);
    expect(lines).toMatch(/succeeded\s+3\n/);
    expect(lines).toMatch(/429s the client saw\s+1\n/);
    expect(lines).toMatch(/failovers \(x-gw-attempts\)\s+5\n/);
    expect(lines).toMatch(/429s absorbed from backends\s+3\n/);
    expect(lines).toMatch(/sim-a \(preferred\)\s+10\s+1\s+4\s+3/);
    expect(lines).toMatch(/sim-b \(spill-over\)\s+5\s+2\s+2\s+0/);
    expect(lines).not.toContain("note:");
  });

  it("says so when the gateway sent no x-gw-backend / x-gw-attempts instead of inventing numbers", () => {
    const lines = reportLines({
      label: "stand-in",
      elapsedMs: 10,
      outcomes: [{ stream: false, status: 404, backend: null, attempts: null, ms: 3, error: "404 status code (no body)" }],
      backends: [{ name: "sim-a", priority: 1, note: "n", stats: stats(0, 0) }],
    }).join("\n");
    expect(lines).toMatch(/failovers \(x-gw-attempts\)\s+0 \(header missing on 1 responses\)/);
    expect(lines).toContain("note: no response carried x-gw-backend");
    expect(lines).toContain("errors seen:\n  404: 404 status code (no body)");
  });
});
