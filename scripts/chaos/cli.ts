/**
 * `spillway chaos`: faults under load on real APISIX 3.18 with 2 workers — three simulators behind the rendered
 * gateway, 200 concurrent clients (raw node:http, the openai SDK, bad input), one fault kind at a time then mixed,
 * Redis stopped and restarted, a `render --watch` reload; a table per fault kind, and exit 1 on any miss.
 */
import type { Command } from "commander";
import { planFromFlags, type ChaosFlags } from "./options.ts";
import { runChaos } from "./run.ts";

/** Some check failed: the report says which. Exit code 1. */
export class ChaosFailed extends Error {
  readonly exitCode = 1;
}

/** Ctrl-C: everything the run started is stopped first. Exit code 130. */
export class ChaosInterrupted extends Error {
  readonly exitCode = 130;
}

export async function run(flags: ChaosFlags): Promise<void> {
  const plan = planFromFlags(flags);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => controller.abort(new ChaosInterrupted(`interrupted by ${sig}; everything the run started is stopped`));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const result = await runChaos(plan, (line) => void process.stderr.write(`${line}\n`), controller.signal);
    process.stdout.write(result.report);
    if (!result.passed) throw new ChaosFailed("the chaos run found problems; see the FAIL lines above");
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export function register(program: Command): void {
  program
    .command("chaos")
    .description(
      "Faults under load on real APISIX 3.18 with 2 workers (APISIX_HOME or the apisix-lab): 3 simulators behind the rendered gateway, " +
        "200 concurrent clients; each fault kind alone, then mixed; a table per fault kind; exit 1 on any wrong answer.",
    )
    .option("--duration <seconds>", "seconds of fault phases (default 60; --short 20)")
    .option("--short", "a short run (about a minute in all, start-up included): the same phases, each shorter")
    .option("--clients <n>", "concurrent clients (default 200)")
    .option("--no-redis", "no Redis (and no Redis outage phase)")
    .option("--no-reload", "no `spillway render --watch` reload phase")
    .option("--keep-logs", "keep the gateway's instance folder (logs) after the run")
    .option("--dump <file>", "write every request's outcome and the phase timeline as JSON (to investigate a miss)")
    .option("--build", "run `npm run build` first (otherwise build/lua is used as it is)")
    .addHelpText(
      "after",
      "\nNeeds real APISIX 3.18 (APISIX_HOME, or the apisix-lab kit next to this checkout) and redis-server (else the Redis\n" +
        "phase is skipped and said so). See docs/reliability.md.\n\nExamples:\n  spillway chaos --short\n  spillway chaos --duration 120",
    )
    .action(async (flags: ChaosFlags) => run(flags));
}
