/**
 * A local APISIX install (APISIX_HOME): our rendered config goes into its conf/ (the previous files are kept once as
 * *.spillway-bak), `bin/apisix init` generates nginx.conf, then OpenResty runs in the foreground so its logs show
 * here and Ctrl-C stops it.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { HEADER, type Rendered } from "../../renderer/render.ts";
import { FILES, writeAtomic } from "../../renderer/write.ts";
import { EnvironmentError } from "../../lib/errors.ts";

export interface LocalGateway {
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

export function checkApisixHome(home: string): void {
  if (!existsSync(path.join(home, "bin", "apisix")) || !existsSync(path.join(home, "conf"))) {
    throw new EnvironmentError(`APISIX_HOME=${home} does not look like an APISIX install (no bin/apisix or conf/); point it at the directory that holds them`);
  }
}

/** OpenResty sits next to APISIX in the packaged layout (/usr/local/apisix → /usr/local/openresty). */
function findOpenresty(home: string): string {
  for (const candidate of [path.join(home, "..", "openresty", "bin", "openresty"), "/usr/local/openresty/bin/openresty"]) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync("sh", ["-c", "command -v openresty"], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim() !== "") return which.stdout.trim();
  throw new EnvironmentError("cannot find the openresty binary APISIX runs on (looked in /usr/local/openresty and PATH)");
}

/** Writes our files into APISIX_HOME/conf, keeping a one-time backup of files Spillway did not write. */
export function installConfig(home: string, rendered: Rendered): string[] {
  const notes: string[] = [];
  for (const [name, content, mode] of [[FILES.config, rendered.configYaml, 0o644], [FILES.apisix, rendered.apisixYaml, 0o600]] as const) {
    const file = path.join(home, "conf", name);
    const backup = `${file}.spillway-bak`;
    if (existsSync(file) && !readFileSync(file, "utf8").startsWith(HEADER) && !existsSync(backup)) {
      copyFileSync(file, backup);
      notes.push(`kept your previous ${name} as ${path.basename(backup)}`);
    }
    writeAtomic(file, content, mode);
  }
  return notes;
}

export function runLocalApisix(home: string): LocalGateway {
  const init = spawnSync(path.join(home, "bin", "apisix"), ["init"], { cwd: home, encoding: "utf8", timeout: 60_000 });
  if (init.status !== 0) {
    throw new EnvironmentError(`\`${home}/bin/apisix init\` failed:\n${(init.stderr || init.stdout || String(init.error)).trim()}`);
  }
  // Own process group: Ctrl-C reaches only us, and stop() sends the graceful SIGQUIT.
  const child = spawn(findOpenresty(home), ["-p", home, "-g", "daemon off;"], { cwd: home, stdio: ["ignore", "inherit", "inherit"], detached: true });
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.on("error", () => resolve(null));
  });
  return {
    exited,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGQUIT"); // graceful: in-flight requests finish
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
