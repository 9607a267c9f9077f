/**
 * Docker adapter for `spillway start` / `spillway demo`: is an engine answering, build the gateway image, run it.
 * Always `spawn` with argument arrays; no secret is ever put on a command line (the rendered files are mounted).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { userInfo } from "node:os";
import path from "node:path";
import { EnvironmentError } from "../../lib/errors.ts";
import { pins, repoRoot } from "../lib/pins.ts";

export const IMAGE_TAG = `spillway-gateway:${pins.apisix_version}-local`;

/** Whether a Docker engine answers (not just whether the CLI exists). Returns the reason when it does not. */
export function dockerEngine(): { ok: true; version: string } | { ok: false; reason: string } {
  const res = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8", timeout: 10_000 });
  if (res.error) return { ok: false, reason: (res.error as NodeJS.ErrnoException).code === "ENOENT" ? "the docker CLI is not installed" : res.error.message };
  if (res.status !== 0) return { ok: false, reason: (res.stderr || res.stdout).trim().split("\n").at(-1) ?? `docker info exited ${res.status}` };
  return { ok: true, version: res.stdout.trim() };
}

function runInherit(args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { cwd: repoRoot, stdio: "inherit" });
    child.on("error", (err) => reject(new EnvironmentError(`${what}: ${err.message}`)));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new EnvironmentError(`${what} failed (docker exited ${code}); see the output above`))));
  });
}

export async function buildImage(): Promise<string> {
  await runInherit(
    ["build", "-f", path.join("apisix", "Dockerfile"), "--build-arg", `APISIX_IMAGE=${pins.apisix_image}`, "-t", IMAGE_TAG, "."],
    `docker build of ${IMAGE_TAG}`,
  );
  return IMAGE_TAG;
}

export interface RunOptions {
  /** Directory holding the rendered apisix.yaml + config.yaml, mounted at /opt/spillway/conf. */
  confDir: string;
  /** host port → container port; ignored with hostNetwork. */
  ports: number[];
  /** Share the host's network (the demo: simulators listen on the host's loopback). */
  hostNetwork?: boolean;
  name: string;
}

export interface RunningContainer {
  child: ChildProcess;
  name: string;
  stop(): Promise<void>;
}

export function runGateway(opts: RunOptions): RunningContainer {
  const { uid } = userInfo();
  const args = ["run", "--rm", "--name", opts.name, "-v", `${path.resolve(opts.confDir)}:/opt/spillway/conf`];
  // Run as the host user (group 0, which the image grants APISIX's directories) so it can read the owner-only
  // apisix.yaml we rendered; still not root.
  if (uid > 0) args.push("--user", `${uid}:0`);
  if (opts.hostNetwork) args.push("--network", "host");
  else for (const p of opts.ports) args.push("-p", `${p}:${p}`);
  args.push(IMAGE_TAG, "--no-render");
  // Own process group: Ctrl-C reaches only us, and we stop the container gracefully (docker stop → SIGQUIT).
  const child = spawn("docker", args, { stdio: ["ignore", "inherit", "inherit"], detached: true });
  let exited = false;
  const done = new Promise<void>((resolve) => child.on("exit", () => ((exited = true), resolve())));
  child.on("error", () => undefined);
  return {
    child,
    name: opts.name,
    async stop() {
      if (exited) return;
      // STOPSIGNAL is SIGQUIT: APISIX finishes in-flight requests, then exits.
      spawnSync("docker", ["stop", "--time", "10", opts.name], { stdio: "ignore", timeout: 20_000 });
      await done;
    },
  };
}
