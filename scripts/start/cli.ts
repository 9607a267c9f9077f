/**
 * `spillway start`: render the configuration, then run APISIX — in Docker when an engine answers, else the local
 * install at APISIX_HOME (in an instance folder of its own, its logs followed here) — until Ctrl-C.
 * `spillway demo`: see ./demo.ts.
 */
import path from "node:path";
import type { Command } from "commander";
import { intervalMs, renderOnce, type RenderOptions } from "../../renderer/cli.ts";
import { processEnv } from "../../renderer/settings.ts";
import { watchLoop } from "../../renderer/watch.ts";
import { writeAtomic } from "../../renderer/write.ts";
import { repoRoot } from "../lib/pins.ts";
import { runDemo, type DemoOptions } from "./demo.ts";
import { buildLua, chooseGateway, launch, luaPathFor, type Choice } from "./gateway.ts";

export interface StartOptions extends Pick<RenderOptions, "envFile" | "env" | "configDir" | "watch" | "interval" | "processEnv"> {
  build?: boolean;
  /** Programmatic stop (tests); the CLI stops on SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

const log = (line: string): void => void process.stderr.write(`spillway start: ${line}\n`);

export async function runStart(opts: StartOptions): Promise<void> {
  const choice = chooseGateway(opts.processEnv ?? processEnv(), false);
  log(`gateway: ${choice.kind === "docker" ? "APISIX in Docker" : `local APISIX (${choice.why})`}`);
  const { signal } = opts;
  // Listen from the start: a stop requested while the gateway is still coming up must not be lost.
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  if (signal) {
    if (signal.aborted) controller.abort();
    signal.addEventListener("abort", onSignal);
  } else {
    // SIGHUP too: a closed terminal must not leave a daemonised local nginx behind.
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    process.once("SIGHUP", onSignal);
  }
  const stopped = new Promise<void>((resolve) => {
    if (controller.signal.aborted) resolve();
    controller.signal.addEventListener("abort", () => resolve());
  });
  try {
    await serve(opts, choice, controller, stopped);
  } finally {
    signal?.removeEventListener("abort", onSignal);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  }
}

async function serve(opts: StartOptions, choice: Choice, controller: AbortController, stopped: Promise<void>): Promise<void> {
  const { build, signal: _ignored, ...sources } = opts;
  const every = opts.watch ? intervalMs(opts.interval) : 0;
  const renderOpts: RenderOptions = { ...sources, overrides: { SPILLWAY_LUA_PATH: luaPathFor(choice.kind) } };
  // Render first: a bad configuration fails here, with every problem listed, before anything is built or started.
  const { rendered, loaded, gathered } = await renderOnce(renderOpts);
  for (const note of gathered.notes) log(note);
  for (const warning of loaded.warnings) log(`warning: ${warning}`);
  if (build !== false) await buildLua();

  const workDir = path.join(repoRoot, "build", "start");
  const gateway = await launch({ choice, rendered, settings: loaded.settings, workDir, followLogs: true });
  const rt = loaded.settings.runtime;
  log(`up: ${gateway.label}`);
  for (const note of gateway.notes ?? []) log(note);
  log(`API ${gateway.url}/openai/v1/…  health ${gateway.url}/healthz  metrics :${rt.metricsPort}/apisix/prometheus/metrics  ready :${rt.statusPort}/status/ready`);
  log("Ctrl-C stops the gateway");

  const target = gateway.apisixYaml;
  const watching = opts.watch && target !== undefined
    ? watchLoop({
        intervalMs: every,
        load: async () => (await renderOnce(renderOpts)).rendered,
        writeApisix: (r) => writeAtomic(target.path, r.apisixYaml, target.mode),
        log: (line) => log(`watch: ${line}`),
        signal: controller.signal,
        configYaml: rendered.configYaml,
      })
    : Promise.resolve();
  await Promise.race([stopped, gateway.exited.then(() => log("the gateway exited"))]);
  controller.abort();
  log("stopping…");
  await gateway.stop();
  await watching;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  program
    .command("start")
    .description("Render the configuration and run the gateway (Docker, or the APISIX install at APISIX_HOME) until Ctrl-C")
    .option("--env-file <file>", "read variables from a .env file (repeatable; later files win)", collect, [])
    .option("--env <name>", "read config/appsettings.<name>.env and config/secrets.<name>.env")
    .option("--config-dir <dir>", "directory of the --env files", "config")
    .option("--watch", "re-read the inputs every --interval and hot-reload apisix.yaml on change")
    .option("--interval <seconds>", "re-read interval for --watch", "30")
    .option("--no-build", "skip the Lua build (build/lua must be current)")
    .addHelpText("after", "\nExamples:\n  spillway start --env dev\n  spillway start --env-file my.env --watch\n\nDocs: docs/running.md")
    .action(async (opts: StartOptions) => runStart(opts));

  program
    .command("demo")
    .description("Three Azure OpenAI simulators (one quickly throttled), the gateway, a burst of requests, and what happened")
    .option("--requests <n>", "how many requests to send", "30")
    .option("--concurrency <n>", "requests in flight at once", "3")
    .option("--no-build", "skip the Lua build (build/lua must be current)")
    .addHelpText("after", "\nUses Docker if an engine answers, else APISIX_HOME, else the nginx test stand-in (labelled as such).")
    .action(async (opts: DemoOptions) => {
      await runDemo(opts);
    });
}
