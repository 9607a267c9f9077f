// The gateway image's entrypoint, run here outside Docker: the renderer bundle the Dockerfile builds (same esbuild
// command), the real apisix/entrypoint.sh with its image paths pointed at a temp dir, and a fake
// /docker-entrypoint.sh that records that APISIX would have been started.
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pins, repoRoot } from "../../scripts/lib/pins.ts";
import { MINIMAL_ENV, tempDir } from "./fixtures.ts";

const scratch = tempDir("spillway-image-");
const conf = path.join(scratch.dir, "conf");
const marker = path.join(scratch.dir, "apisix-started");
const pids = path.join(scratch.dir, "children");
const bundle = path.join(scratch.dir, "spillway-render.mjs");
let entrypoint = "";

beforeAll(async () => {
  const dockerfile = readFileSync(path.join(repoRoot, "apisix/Dockerfile"), "utf8");
  expect(dockerfile).toContain("npx esbuild renderer/image-main.ts --bundle --platform=node --format=esm --target=node20");
  await build({
    entryPoints: [path.join(repoRoot, "renderer/image-main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: bundle,
    logLevel: "warning",
    banner: { js: "import{createRequire}from'node:module';const require=createRequire(import.meta.url);" },
  });
  const fake = path.join(scratch.dir, "docker-entrypoint.sh");
  writeFileSync(fake, `#!/usr/bin/env bash\nps -o pid= --ppid $$ > "${pids}" || true\necho "$1" > "${marker}"\nls "${conf}" >> "${marker}"\n`);
  chmodSync(fake, 0o755);
  mkdirSync(conf, { recursive: true });
  entrypoint = path.join(scratch.dir, "entrypoint.sh");
  const script = readFileSync(path.join(repoRoot, "apisix/entrypoint.sh"), "utf8")
    .replace("CONF_DIR=/opt/spillway/conf", `CONF_DIR=${conf}`)
    .replace("/opt/spillway/renderer/spillway-render.mjs", bundle)
    .replace("exec /docker-entrypoint.sh", `exec ${fake}`);
  expect(script.split("\n").filter((l) => !l.startsWith("#")).join("\n")).not.toContain("/opt/spillway");
  writeFileSync(entrypoint, script);
  chmodSync(entrypoint, 0o755);
}, 30_000);

afterAll(() => {
  if (existsSync(pids)) {
    for (const pid of readFileSync(pids, "utf8").split(/\s+/).filter((p) => p !== "")) {
      try {
        process.kill(Number(pid), "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
  scratch.cleanup();
});

function runEntrypoint(env: Record<string, string>, args: string[] = []): { status: number | null; stderr: string; started: string | undefined } {
  spawnSync("rm", ["-f", marker, pids, path.join(conf, "apisix.yaml"), path.join(conf, "config.yaml")]);
  // Output to a file, not a pipe: with --watch a background renderer keeps the descriptors open after exit.
  const logFile = path.join(scratch.dir, "entrypoint.log");
  const fd = openSync(logFile, "w");
  const res = spawnSync("bash", [entrypoint, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", fd, fd], timeout: 15_000 });
  closeSync(fd);
  return { status: res.status, stderr: readFileSync(logFile, "utf8"), started: existsSync(marker) ? readFileSync(marker, "utf8") : undefined };
}

describe("apisix/Dockerfile", () => {
  it("defaults to the APISIX image and version pinned in apisix/pins.json", () => {
    const dockerfile = readFileSync(path.join(repoRoot, "apisix/Dockerfile"), "utf8");
    expect(dockerfile).toContain(`ARG APISIX_IMAGE=${pins.apisix_image}\n`);
    expect(dockerfile).toContain(`ARG APISIX_VERSION=${pins.apisix_version}\n`);
  });

  it("keeps secrets and local state out of the build context", () => {
    const ignore = readFileSync(path.join(repoRoot, "apisix/Dockerfile.dockerignore"), "utf8");
    expect(ignore.split("\n").filter((l) => l !== "" && !l.startsWith("#"))[0]).toBe("*"); // ignore all, then allow-list
    expect(ignore).not.toMatch(/^!config/m);
  });
});

describe("apisix/spillway.sh", () => {
  it("is `spillway` on the image's PATH: the bundled renderer with its `render` command", () => {
    const dockerfile = readFileSync(path.join(repoRoot, "apisix/Dockerfile"), "utf8");
    expect(dockerfile).toContain("COPY apisix/spillway.sh /usr/local/bin/spillway\n");
    const wrapper = path.join(scratch.dir, "spillway");
    writeFileSync(wrapper, readFileSync(path.join(repoRoot, "apisix/spillway.sh"), "utf8").replace("/opt/spillway/renderer/spillway-render.mjs", bundle));
    chmodSync(wrapper, 0o755);
    const res = spawnSync(wrapper, ["render", "--help"], { cwd: scratch.dir, encoding: "utf8" });
    expect(res.status).toBe(0);
    expect(res.stdout).toContain("Usage: spillway render [options]");
  });
});

describe("apisix/entrypoint.sh", () => {
  it("renders, then hands over to the image's entrypoint (docker-start)", () => {
    const r = runEntrypoint(MINIMAL_ENV);
    expect(r.status).toBe(0);
    expect(r.started).toBe("docker-start\napisix.yaml\nconfig.yaml\n");
    expect(readFileSync(path.join(conf, "apisix.yaml"), "utf8")).toContain("api-key: eastus-key-00000000000000000000");
  });

  it("exits with the renderer's code and message on an invalid configuration, and never starts APISIX", () => {
    const r = runEntrypoint({ ...MINIMAL_ENV, AZURE_OPENAI_ENDPOINT_0: "http://remote.example.com", GATEWAY_CLIENT_KEY_0: "short-key" });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("spillway: invalid configuration, nothing was written (2 problems):");
    expect(r.stderr).toContain("AZURE_OPENAI_ENDPOINT_0: uses http to a non-loopback host");
    expect(r.stderr).not.toContain("short-key");
    expect(r.started).toBeUndefined();
  });

  it("with --no-render, refuses to start when no rendered files were mounted", () => {
    const r = runEntrypoint({}, ["--no-render"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("--no-render given but");
    expect(r.started).toBeUndefined();
  });

  it("passes its arguments to the renderer, and with --watch keeps a renderer running beside APISIX", () => {
    const envFile = path.join(scratch.dir, "mounted.env");
    writeFileSync(envFile, Object.entries(MINIMAL_ENV).map(([k, v]) => `${k}=${v}`).join("\n"));
    const r = runEntrypoint({}, ["--env-file", envFile, "--watch", "--interval", "60"]);
    expect(r.status).toBe(0);
    expect(r.started).toContain("docker-start");
    const cmdlines = readFileSync(pids, "utf8").split(/\s+/).filter((p) => p !== "")
      .map((pid) => (existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0") : []))
      .filter((argv) => argv.includes("render"));
    expect(cmdlines).toHaveLength(1); // the fake entrypoint's own `ps` is the other child
    expect(cmdlines[0]).toEqual(expect.arrayContaining(["render", "--watch", "--env-file", envFile, "--interval", "60"]));
  });
});
