/**
 * `spillway status`: a running gateway's backends from its Prometheus metrics — cooling or not, what Azure says is
 * left, and per-minute attempts, 429s, failures and failovers over two scrapes — once, or every interval (--watch).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Command, CommanderError } from "commander";
import { UsageError } from "../../lib/errors.ts";
import { processEnv } from "../../renderer/settings.ts";
import { scrape } from "../lib/prometheus-text.ts";
import { planFromFlags, type StatusFlags, type StatusPlan } from "./options.ts";
import { formatStatus, statusReport, type Scrape, type StatusReport } from "./table.ts";

/** APISIX renders its metrics in well under a second; longer means the address is wrong or the gateway is stuck. */
const SCRAPE_TIMEOUT_MS = 5000;

export interface StatusIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  /** Progress and retried failures (stdout stays the table or the JSON). */
  err: (line: string) => void;
  /** Clear the screen before each --watch table (a terminal). */
  clear: boolean;
  /** Stops --watch (Ctrl-C). */
  signal?: AbortSignal;
}

function processIo(signal: AbortSignal | undefined): StatusIo {
  return {
    env: processEnv(),
    out: (text) => void process.stdout.write(text),
    err: (line) => void process.stderr.write(`${line}\n`),
    clear: process.stdout.isTTY === true,
    ...(signal !== undefined ? { signal } : {}),
  };
}

/** False when stopped during the wait. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
    return true;
  } catch (err) {
    if (signal?.aborted === true) return false;
    throw err;
  }
}

function print(report: StatusReport, plan: StatusPlan, io: StatusIo): void {
  if (plan.json) {
    io.out(plan.watch ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  io.out(`${plan.watch && io.clear ? "\x1b[2J\x1b[H" : ""}${formatStatus(report, plan.metricPrefix)}`);
}

/** Ctrl-C ends --watch: prints nothing more, exit code 0. */
async function watch(plan: StatusPlan, io: StatusIo, take: () => Promise<Scrape>, first: Scrape): Promise<void> {
  let before: Scrape | undefined = first;
  while (await pause(plan.intervalMs, io.signal)) {
    let after: Scrape;
    try {
      after = await take();
    } catch (err) {
      if (io.signal?.aborted === true) return;
      // A gateway restart or reload is no reason to stop watching; its counters restart, so rates start over too.
      io.err(`spillway status: ${err instanceof Error ? err.message : String(err)}; trying again in ${plan.intervalMs / 1000} s`);
      before = undefined;
      continue;
    }
    print(statusReport(plan.metricsUrl, plan.metricPrefix, after, before), plan, io);
    before = after;
  }
}

export async function runWith(flags: StatusFlags, io: StatusIo): Promise<void> {
  const plan = planFromFlags(flags, io.env);
  const take = async (): Promise<Scrape> => ({ samples: await scrape(plan.metricsUrl, SCRAPE_TIMEOUT_MS, io.signal), at: Date.now() });
  let first: Scrape;
  try {
    first = await take();
  } catch (err) {
    if (io.signal?.aborted === true) return;
    throw err;
  }
  if (plan.once || plan.watch) print(statusReport(plan.metricsUrl, plan.metricPrefix, first), plan, io);
  if (plan.once) return;
  if (plan.watch) return watch(plan, io, take, first);
  io.err(`scraping again in ${plan.intervalMs / 1000} s for the rates (--once: one scrape, no rates)`);
  if (!(await pause(plan.intervalMs, io.signal))) return;
  print(statusReport(plan.metricsUrl, plan.metricPrefix, await take(), first), plan, io);
}

export async function run(flags: StatusFlags): Promise<void> {
  // Without --watch, Ctrl-C keeps its default meaning (stop now, exit 130).
  if (flags.watch !== true) return runWith(flags, processIo(undefined));
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await runWith(flags, processIo(controller.signal));
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Commander's own usage errors (unknown flag, missing value) become exit 2 like ours; --help still exits 0. */
function usageExit(err: CommanderError): void {
  if (err.exitCode === 0) return;
  throw new UsageError(`${err.message.replace(/^error: /, "").replace(/\.$/, "")}; see \`spillway status --help\``);
}

export function register(program: Command): void {
  program
    .command("status")
    .description(
      "A running gateway's backends from its Prometheus metrics: cooling or not, the tokens and requests Azure says are left, " +
        "attempts, 429s, 5xx/timeouts/connect errors and failovers per minute, exhausted requests and budget rejections.",
    )
    .option("--metrics-url <url>", "the gateway's metrics (default: SPILLWAY_METRICS_HOST and _PORT as the renderer reads them, else http://127.0.0.1:9091/apisix/prometheus/metrics)")
    .option("--interval <seconds>", "seconds between the two scrapes the rates are taken over; with --watch, between tables (default 10)")
    .option("--once", "one scrape: state and what is left, no rates")
    .option("--watch", "a new table every interval until Ctrl-C")
    .option("--json", "the same rows as JSON (with --watch, one document per line)")
    .option("--metric-prefix <prefix>", "the prometheus exporter's metric_prefix (default apisix_)")
    .addHelpText(
      "after",
      "\nReads one gateway node (each node counts for itself). Exit 1 when the metrics cannot be read, 2 on bad usage.\n\n" +
        "Examples:\n  spillway status --once\n  spillway status --watch --interval 5\n  spillway status --json --metrics-url http://10.0.0.4:9091/apisix/prometheus/metrics",
    )
    .showHelpAfterError(false)
    .configureOutput({ outputError: () => undefined })
    .exitOverride(usageExit)
    .action(async (flags: StatusFlags) => run(flags));
}
