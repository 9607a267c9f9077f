// `spillway start` / `spillway demo` plumbing: choosing the gateway, the local-install path end to end against a
// fake APISIX_HOME (fake bin/apisix and a fake openresty that serves /healthz), Ctrl-C stop, and the demo's table.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runStart } from "../../scripts/start/cli.ts";
import { reportLines, type Outcome } from "../../scripts/start/demo-report.ts";
import { dockerEngine } from "../../scripts/start/docker.ts";
import { chooseGateway } from "../../scripts/start/gateway.ts";
import { installConfig } from "../../scripts/start/local-apisix.ts";
import { freePort } from "../../scripts/start/ports.ts";
import { EnvironmentError } from "../../lib/errors.ts";
import { renderOnce } from "../../renderer/cli.ts";
import { envFileText, MINIMAL_ENV, tempDir } from "./fixtures.ts";

const scratch = tempDir("spillway-start-");
afterAll(() => scratch.cleanup());
const engine = dockerEngine();

/** A directory shaped like a packaged install: <root>/apisix/{bin/apisix,conf/} and <root>/openresty/bin/openresty. */
function fakeInstall(name: string): { home: string; log: string } {
  const root = path.join(scratch.dir, name);
  const home = path.join(root, "apisix");
  const log = path.join(root, "calls.log");
  mkdirSync(path.join(home, "bin"), { recursive: true });
  mkdirSync(path.join(home, "conf"), { recursive: true });
  mkdirSync(path.join(root, "openresty", "bin"), { recursive: true });
  writeFileSync(path.join(home, "bin", "apisix"), `#!/usr/bin/env bash\necho "apisix $*" >> "${log}"\n`);
  // Stands in for OpenResty: reads the port from the rendered config.yaml, serves /healthz, exits on SIGQUIT.
  writeFileSync(path.join(root, "openresty", "bin", "openresty"), `#!/usr/bin/env node
const fs = require("node:fs"); const http = require("node:http");
const home = process.argv[process.argv.indexOf("-p") + 1];
fs.appendFileSync(${JSON.stringify(log)}, "openresty " + process.argv.slice(2).join(" ") + "\\n");
const port = Number(/port: (\\d+)/.exec(fs.readFileSync(home + "/conf/config.yaml", "utf8"))[1]);
const server = http.createServer((req, res) => { res.statusCode = req.url === "/healthz" ? 200 : 404; res.end("{}"); }).listen(port, "127.0.0.1");
process.on("SIGQUIT", () => { fs.appendFileSync(${JSON.stringify(log)}, "SIGQUIT\\n"); server.close(); process.exit(0); });
`);
  chmodSync(path.join(home, "bin", "apisix"), 0o755);
  chmodSync(path.join(root, "openresty", "bin", "openresty"), 0o755);
  return { home, log };
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
      const { home } = fakeInstall("choose");
      expect(chooseGateway({ APISIX_HOME: home }, false)).toMatchObject({ kind: "apisix-home", apisixHome: home });
      expect(() => chooseGateway({ APISIX_HOME: scratch.dir }, false)).toThrow(/does not look like an APISIX install/);
    });

    it("falls back to the test stand-in for the demo only", () => {
      expect(chooseGateway({}, true).kind).toBe("standin");
    });
  });
});

describe.skipIf(engine.ok)("spillway start with APISIX_HOME (skipped: a Docker engine answers, start would use it)", () => {
  it("renders into the install, runs init and OpenResty in the foreground, and stops it gracefully", async () => {
    const { home, log } = fakeInstall("start");
    writeFileSync(path.join(home, "conf", "config.yaml"), "# the operator's own config\n");
    const port = await freePort();
    const envFile = path.join(scratch.dir, "start.env");
    writeFileSync(envFile, envFileText({ ...MINIMAL_ENV, SPILLWAY_LISTEN_HOST: "127.0.0.1", SPILLWAY_LISTEN_PORT: String(port), SPILLWAY_METRICS_PORT: String(await freePort()), SPILLWAY_STATUS_PORT: String(await freePort()) }));
    const controller = new AbortController();
    const running = runStart({ envFile: [envFile], processEnv: { APISIX_HOME: home }, build: false, signal: controller.signal });
    const deadline = Date.now() + 15_000;
    let healthy = false;
    while (!healthy && Date.now() < deadline) {
      healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    expect(healthy).toBe(true);
    controller.abort(); // what Ctrl-C does
    await running;
    const calls = readFileSync(log, "utf8");
    expect(calls).toMatch(/^apisix init\nopenresty -p .*apisix -g daemon off;\nSIGQUIT\n$/);
    const config = readFileSync(path.join(home, "conf", "config.yaml"), "utf8");
    expect(config).toContain(`extra_lua_path: ${path.resolve("build/lua")}/?.lua`);
    expect(readFileSync(path.join(home, "conf", "config.yaml.spillway-bak"), "utf8")).toBe("# the operator's own config\n");
    expect(readFileSync(path.join(home, "conf", "apisix.yaml"), "utf8").trimEnd().endsWith("#END")).toBe(true);
  }, 30_000);
});

describe("installConfig", () => {
  it("backs up a foreign config once and overwrites our own files freely", async () => {
    const { home } = fakeInstall("install");
    writeFileSync(path.join(home, "conf", "apisix.yaml"), "routes: []\n#END\n");
    const { rendered } = await renderOnce({ processEnv: MINIMAL_ENV });
    expect(installConfig(home, rendered)).toEqual(["kept your previous apisix.yaml as apisix.yaml.spillway-bak"]);
    expect(installConfig(home, rendered)).toEqual([]);
    expect(readFileSync(path.join(home, "conf", "apisix.yaml.spillway-bak"), "utf8")).toBe("routes: []\n#END\n");
    expect(existsSync(path.join(home, "conf", "config.yaml.spillway-bak"))).toBe(false);
  });
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
