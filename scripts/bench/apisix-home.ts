/**
 * Which real APISIX the bench runs: APISIX_HOME when it is set, else the apisix-lab next to this checkout (built or
 * found by scripts/apisix-lab.sh, about 40 s the first time), else none: the bench stops and says how to get one.
 * The lab is a test fixture (Debian nginx 1.22 + ngx_lua, lua-resty-http), not the official image; the report says so.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { EnvironmentError } from "../../lib/errors.ts";
import { repoRoot } from "../lib/pins.ts";
import { checkApisixHome, installFacts, isApisixHome } from "../start/apisix-instance.ts";

export type ApisixSource = { kind: "home"; home: string } | { kind: "lab"; kit: string } | { kind: "none"; kit: string };

/** Pure: the choice, from the environment and whether the lab kit's build.sh exists. */
export function apisixSource(env: Readonly<Record<string, string | undefined>>, kitExists: (kit: string) => boolean): ApisixSource {
  const home = env.APISIX_HOME?.trim();
  if (home) return { kind: "home", home };
  const kit = env.SPILLWAY_APISIX_LAB?.trim() || path.resolve(repoRoot, "..", "shared", "apisix-lab");
  return kitExists(kit) ? { kind: "lab", kit } : { kind: "none", kit };
}

export function noApisixMessage(kit: string): string {
  return (
    "spillway bench measures on real Apache APISIX 3.18, and none is here: APISIX_HOME is not set and there is no " +
    `apisix-lab kit at ${kit}. Either set APISIX_HOME to an APISIX 3.18 install (with the kit: ` +
    "`export APISIX_HOME=$(bash scripts/apisix-lab.sh)`; SPILLWAY_APISIX_LAB names a kit elsewhere), or pass " +
    "--standin to measure on the nginx test stand-in of APISIX (test code: only its ratios mean anything)."
  );
}

/** Runs scripts/apisix-lab.sh (build or find the lab) and returns the APISIX_HOME it prints last. */
function buildLab(kit: string, say: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [path.join(repoRoot, "scripts", "apisix-lab.sh")], {
      cwd: repoRoot,
      env: { ...process.env, SPILLWAY_APISIX_LAB: kit },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      for (const line of d.toString().split("\n")) if (line.trim() !== "") say(line);
    });
    child.once("error", (e) => reject(new EnvironmentError(`cannot run scripts/apisix-lab.sh: ${e.message}`)));
    child.once("close", (code) => {
      const home = out.trim().split("\n").at(-1)?.trim() ?? "";
      if (code === 0 && isApisixHome(home)) return resolve(home);
      reject(new EnvironmentError(`scripts/apisix-lab.sh could not build the apisix-lab (exit ${code}): ${err.trim().split("\n").slice(-5).join(" / ")}`));
    });
  });
}

export async function locateApisix(env: Readonly<Record<string, string | undefined>>, say: (line: string) => void): Promise<string> {
  const source = apisixSource(env, (kit) => existsSync(path.join(kit, "build.sh")));
  if (source.kind === "none") throw new EnvironmentError(noApisixMessage(source.kit));
  if (source.kind === "home") {
    checkApisixHome(source.home);
    return source.home;
  }
  say(`spillway bench: building or finding the apisix-lab from ${source.kit} (about 40 s the first time)`);
  return buildLab(source.kit, say);
}

/** One line for the report: version, and what the install is (the lab is not the official runtime). */
export function describeApisix(home: string): string {
  const { version, lab: isLab } = installFacts(home);
  let client = "the default ngx_http_ffi_client";
  try {
    const conf = parse(readFileSync(path.join(home, "conf", "config.yaml"), "utf8")) as { plugin_attr?: { "ai-proxy"?: { http_client?: string } } };
    const configured = conf?.plugin_attr?.["ai-proxy"]?.http_client;
    if (configured !== undefined) client = configured;
  } catch {
    // no readable config.yaml: the install's default client
  }
  const lab = isLab
    ? "apisix-lab build: Debian nginx 1.22 + ngx_lua, not the official image's APISIX-Runtime (see the lab README's deviations)"
    : "local install";
  return `real Apache APISIX ${version ?? "(unknown version)"} at ${home} (${lab}; AI client ${client})`;
}
