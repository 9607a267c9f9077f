/**
 * `spillway render`: env files + process env + Key Vault → apisix.yaml, config.yaml (+ otel-collector.yaml).
 * Exit codes (lib/errors.ts): 0 ok, 2 bad usage, 3 invalid configuration (every problem listed),
 * 4 Key Vault or filesystem unavailable, 70 Spillway bug.
 */
import path from "node:path";
import type { Command } from "commander";
import { UsageError } from "../lib/errors.ts";
import { formatDryRun, redactedSecrets } from "./redact.ts";
import { renderConfig, type Rendered } from "./render.ts";
import { processEnv, loadSettings, type LoadedSettings } from "./settings.ts";
import { gatherEnv, type Gathered, type SourceOptions } from "./sources.ts";
import { watchLoop } from "./watch.ts";
import { FILES, writeAtomic, writeRendered } from "./write.ts";

export interface RenderOptions {
  envFile?: string[];
  env?: string;
  configDir?: string;
  out?: string;
  dryRun?: boolean;
  watch?: boolean;
  interval?: string;
  /** Programmatic only (spillway start/demo): applied on top of every other source. */
  overrides?: Record<string, string>;
  /** Programmatic only: the environment to read instead of process.env (tests). */
  processEnv?: Record<string, string | undefined>;
  keyVault?: SourceOptions["keyVault"];
  /** Where messages go; defaults to stderr. */
  log?: (line: string) => void;
  stdout?: (text: string) => void;
  signal?: AbortSignal;
}

export interface RenderResult {
  rendered: Rendered;
  loaded: LoadedSettings;
  gathered: Gathered;
}

export const DEFAULT_OUT = "build/conf";

/** One full pass: gather inputs, load and validate settings, render and validate the output. Writes nothing. */
export async function renderOnce(opts: RenderOptions): Promise<RenderResult> {
  const gathered = await gatherEnv({
    processEnv: opts.processEnv ?? processEnv(),
    envFiles: opts.envFile ?? [],
    ...(opts.env !== undefined ? { envName: opts.env } : {}),
    ...(opts.configDir !== undefined ? { configDir: opts.configDir } : {}),
    ...(opts.keyVault !== undefined ? { keyVault: opts.keyVault } : {}),
  });
  Object.assign(gathered.env, opts.overrides ?? {});
  const loaded = loadSettings(gathered.env);
  return { rendered: renderConfig(loaded.settings, loaded.secrets), loaded, gathered };
}

export function intervalMs(raw: string | undefined): number {
  const seconds = raw === undefined ? 30 : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) throw new UsageError("--interval must be a number of seconds from 1 to 3600");
  return Math.round(seconds * 1000);
}

export async function run(opts: RenderOptions): Promise<RenderResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`spillway render: ${line}\n`));
  const stdout = opts.stdout ?? ((text: string) => process.stdout.write(text));
  if (opts.dryRun && opts.watch) throw new UsageError("--dry-run and --watch cannot be combined");
  const every = intervalMs(opts.interval);
  const result = await renderOnce(opts);
  for (const note of result.gathered.notes) log(note);
  for (const warning of result.loaded.warnings) log(`warning: ${warning}`);
  if (opts.dryRun) {
    const { settings, secrets } = result.loaded;
    stdout(formatDryRun(renderConfig(settings, redactedSecrets(secrets)), secrets));
    return result;
  }
  const out = opts.out ?? DEFAULT_OUT;
  const report = writeRendered(out, result.rendered);
  const s = result.loaded.settings;
  log(`${s.backends.length} backend(s), ${s.auth.required ? `${s.auth.clients.length} client(s)` : "NO client auth"}; ` +
    `wrote ${report.written.map((f) => path.basename(f)).join(", ") || "nothing"}` +
    (report.unchanged.length > 0 ? `, unchanged ${report.unchanged.map((f) => path.basename(f)).join(", ")}` : "") + ` in ${out}`);
  if (!opts.watch) return result;

  const controller = new AbortController();
  const stop = (): void => controller.abort();
  opts.signal?.addEventListener("abort", stop);
  if (!opts.signal) {
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  }
  log(`watching: re-reading the inputs every ${every / 1000} s`);
  await watchLoop({
    intervalMs: every,
    load: async () => (await renderOnce(opts)).rendered,
    writeApisix: (r) => writeAtomic(path.join(out, FILES.apisix), r.apisixYaml, 0o600),
    log,
    signal: controller.signal,
    configYaml: result.rendered.configYaml,
  });
  return result;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  program
    .command("render")
    .description("Render APISIX standalone config (apisix.yaml, config.yaml) from env, env files and Key Vault")
    .option("--env-file <file>", "read variables from a .env file (repeatable; later files win)", collect, [])
    .option("--env <name>", "read config/appsettings.<name>.env and config/secrets.<name>.env")
    .option("--config-dir <dir>", "directory of the --env files", "config")
    .option("--out <dir>", "output directory", DEFAULT_OUT)
    .option("--dry-run", "print the rendered files with every secret redacted; write nothing")
    .option("--watch", "keep running: re-read inputs every --interval and rewrite apisix.yaml when it changes")
    .option("--interval <seconds>", "re-read interval for --watch", "30")
    .addHelpText("after", "\nExamples:\n  spillway render --env dev --dry-run\n  spillway render --env-file config/appsettings.dev.env --out /opt/spillway/conf --watch\n\nExit codes: 0 ok, 2 usage, 3 invalid configuration, 4 Key Vault/filesystem unavailable, 70 bug.\nVariables: docs/configuration.md")
    .action(async (opts: RenderOptions) => {
      await run(opts);
    });
}
