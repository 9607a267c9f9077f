/**
 * Picks and launches the gateway for `spillway start` and `spillway demo`, in this order: APISIX in Docker when an
 * engine answers; else the local install at APISIX_HOME; else — demo only — the nginx test stand-in, loudly labelled
 * as not being APISIX.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Rendered } from "../../renderer/render.ts";
import type { Settings } from "../../renderer/settings.ts";
import { FILES, writeRendered } from "../../renderer/write.ts";
import { EnvironmentError } from "../../lib/errors.ts";
import { pins, repoRoot } from "../lib/pins.ts";
import { buildImage, dockerEngine, runGateway } from "./docker.ts";
import { checkApisixHome } from "./apisix-instance.ts";
import { describeInstall, runLocalApisix } from "./local-apisix.ts";

export type GatewayKind = "docker" | "apisix-home" | "standin";

export interface Choice {
  kind: GatewayKind;
  apisixHome?: string;
  /** Why the earlier options were not taken, for the output. */
  why: string;
}

export const STANDIN_BANNER = [
  "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
  "!!  THIS IS THE SPILLWAY TEST STAND-IN (nginx + ngx_lua), NOT APACHE APISIX.  !!",
  "!!  It imitates the parts of APISIX 3.18 our plugins use, for tests and demos.  !!",
  "!!  For the real gateway start Docker or set APISIX_HOME, then run it again.   !!",
  "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
].join("\n");

export function chooseGateway(env: Readonly<Record<string, string | undefined>>, allowStandin: boolean): Choice {
  const engine = dockerEngine();
  if (engine.ok) return { kind: "docker", why: `Docker engine ${engine.version}` };
  const home = env.APISIX_HOME?.trim();
  if (home) {
    checkApisixHome(home);
    return { kind: "apisix-home", apisixHome: home, why: `no Docker engine (${engine.reason}); APISIX_HOME=${home}` };
  }
  if (allowStandin) return { kind: "standin", why: `no Docker engine (${engine.reason}) and APISIX_HOME is not set` };
  throw new EnvironmentError(
    `no way to run APISIX here: no Docker engine answered (${engine.reason}) and APISIX_HOME is not set. ` +
      "Start Docker (the gateway image is built from apisix/Dockerfile), or set APISIX_HOME to an APISIX 3.18 install.",
  );
}

/**
 * Where the gateway loads our Lua from: inside the image, or this checkout's build output (the local install's
 * instance and the stand-in both read build/lua in place, so a rebuild needs only a restart, not a copy).
 */
export function luaPathFor(kind: GatewayKind): string {
  return kind === "docker" ? "/opt/spillway/lua" : path.join(repoRoot, "build", "lua");
}

/** `npm run build`: the Lua the gateway loads must match the sources. */
export function buildLua(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts", "build-lua.ts")], { cwd: repoRoot, stdio: "inherit" });
    child.on("error", (err) => reject(new EnvironmentError(`cannot run the Lua build: ${err.message}`)));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new EnvironmentError(`the Lua build failed (exit ${code}); fix the errors above`))));
  });
}

export interface Launched {
  kind: GatewayKind;
  label: string;
  url: string;
  /** Resolves when the gateway process ends on its own. */
  exited: Promise<unknown>;
  stop(): Promise<void>;
  /** Error-log lines worth showing when requests failed (the stand-in and a local install keep their logs in files). */
  problems?(): string[];
  /** Where `--watch` rewrites apisix.yaml, and with which mode (the gateway's workers must be able to read it). */
  apisixYaml?: { path: string; mode: number };
  /** Lines worth telling the operator once the gateway is up (where its files and logs are). */
  notes?: string[];
}

async function waitHealthy(url: string, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gone) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new EnvironmentError(gone ? "the gateway exited during start-up; see its log above" : `the gateway did not answer ${url}/healthz within ${timeoutMs / 1000} s`);
}

type Standin = typeof import("../../tests/rig/nginx.ts") & Pick<typeof import("../../tests/rig/gateway.ts"), "severeLines">;

/** The stand-in is test code (tests/rig): loaded only when neither Docker nor APISIX_HOME is there. */
async function loadStandin(): Promise<Standin> {
  try {
    const nginx = await import("../../tests/rig/nginx.ts");
    const { severeLines } = await import("../../tests/rig/gateway.ts");
    return { ...nginx, severeLines };
  } catch (err) {
    throw new EnvironmentError(`the test stand-in (tests/rig/nginx.ts) cannot be loaded: ${(err as Error).message}`);
  }
}

export interface LaunchOptions {
  choice: Choice;
  rendered: Rendered;
  settings: Settings;
  /** Scratch directory for rendered files (Docker mount, stand-in input). */
  workDir: string;
  /** Docker: share the host network (the demo's simulators listen on the host loopback). */
  hostNetwork?: boolean;
  /** Local install: follow its error and access logs to stderr / stdout (Docker and the stand-in print their own). */
  followLogs?: boolean;
  say?: (line: string) => void;
}

export async function launch(opts: LaunchOptions): Promise<Launched> {
  const { choice, rendered, settings } = opts;
  const rt = settings.runtime;
  const localUrl = `http://127.0.0.1:${rt.listenPort}`;
  if (choice.kind === "docker") {
    const confDir = path.join(opts.workDir, "conf");
    mkdirSync(confDir, { recursive: true, mode: 0o700 });
    writeRendered(confDir, rendered);
    await buildImage();
    const run = runGateway({ confDir, ports: [rt.listenPort, rt.metricsPort, rt.statusPort], hostNetwork: opts.hostNetwork ?? false, name: `spillway-${process.pid}` });
    const exited = new Promise((resolve) => run.child.on("exit", resolve));
    await waitHealthy(localUrl, exited, 90_000).catch(async (err: unknown) => {
      await run.stop();
      throw err;
    });
    return {
      kind: "docker",
      label: `APISIX ${pins.apisix_version} in Docker (${pins.apisix_image})`,
      url: localUrl,
      exited,
      stop: () => run.stop(),
      apisixYaml: { path: path.join(confDir, FILES.apisix), mode: 0o600 },
    };
  }
  if (choice.kind === "apisix-home") {
    const home = choice.apisixHome!;
    const gw = await runLocalApisix(home, rendered, { luaPath: settings.runtime.luaPath, followLogs: opts.followLogs ?? false });
    await waitHealthy(localUrl, gw.exited, 60_000).catch(async (err: unknown) => {
      const problems = gw.problems().slice(-10);
      await gw.stop();
      throw opts.followLogs || problems.length === 0 ? err : new EnvironmentError(`${(err as Error).message}\nerror log:\n${problems.join("\n")}`);
    });
    return {
      kind: "apisix-home",
      label: describeInstall(home),
      url: localUrl,
      exited: gw.exited,
      stop: () => gw.stop(),
      problems: () => gw.problems(),
      // Workers run as nobody when started as root; the folder is this run's own and removed on stop.
      apisixYaml: { path: gw.apisixYamlPath, mode: 0o644 },
      notes: [`instance folder ${gw.dir} (removed on stop); install ${home} untouched`],
    };
  }
  const rig = await loadStandin();
  const standinDir = path.join(opts.workDir, "standin");
  // The rendered files exactly as `spillway render` writes them: the stand-in loads them unchanged (docs/testing.md).
  writeRendered(standinDir, rendered);
  const files = { apisixYaml: path.join(standinDir, FILES.apisix), configYaml: path.join(standinDir, FILES.config) };
  const gw = await rig.startGateway(files).catch((err: unknown) => {
    throw new EnvironmentError(`the test stand-in did not start (needs nginx + libnginx-mod-http-lua: scripts/setup.sh installs them): ${(err as Error).message}`);
  });
  return {
    kind: "standin",
    label: "SPILLWAY TEST STAND-IN (nginx), NOT APISIX",
    url: gw.url,
    exited: new Promise(() => undefined),
    stop: () => gw.stop(),
    problems: () => rig.severeLines(gw.errorLog()).slice(0, 8),
  };
}
