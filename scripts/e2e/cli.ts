/**
 * `spillway e2e [scenario…]`: the APIM GenAI gateway toolkit's end-to-end scenarios (docs/e2e.md), each asserting
 * its numbers with stated tolerances — on a local stack (simulators and real APISIX 3.18 with 2 workers, rendered
 * by the renderer) or against a deployed gateway (--gateway-url). A table per scenario, an HTML report with a chart
 * per scenario, exit 1 on any miss.
 */
import type { Command } from "commander";
import { processEnv } from "../../renderer/settings.ts";
import { printableEnv } from "./gateway-spec.ts";
import { planFromArgs, type E2eFlags, type E2ePlan } from "./options.ts";

/** Some check failed: the report says which. Exit code 1. */
export class E2eFailed extends Error {
  readonly exitCode = 1;
}

/** Ctrl-C: everything the run started is stopped first. Exit code 130. */
export class E2eInterrupted extends Error {
  readonly exitCode = 130;
}

function listing(plan: E2ePlan): string {
  const width = Math.max(...plan.scenarios.map((s) => s.name.length));
  return `${plan.scenarios.map((s) => `${s.name.padEnd(width)}  ${s.title} (toolkit: ${s.toolkit})`).join("\n")}\n`;
}

function envListing(plan: E2ePlan): string {
  return plan.scenarios.map((s) => `# ${s.name} (--${plan.load})\n${printableEnv(s.gateway(plan.load))}`).join("\n");
}

export async function run(names: string[], flags: E2eFlags): Promise<void> {
  const plan = planFromArgs(names, flags, processEnv());
  if (plan.list) return void process.stdout.write(listing(plan));
  if (plan.printEnv) return void process.stdout.write(envListing(plan));
  const { runE2e } = await import("./run.ts");
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => controller.abort(new E2eInterrupted(`interrupted by ${sig}; everything the run started is stopped`));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const result = await runE2e(plan, (line) => void process.stderr.write(`${line}\n`), controller.signal);
    process.stdout.write(result.report);
    if (!result.passed) throw new E2eFailed(`some e2e checks failed; see the FAIL lines above and ${result.reportFile}`);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export function register(program: Command): void {
  program
    .command("e2e")
    .description(
      "The APIM GenAI gateway toolkit's end-to-end scenarios with numeric checks: round-robin, PTU→PAYG spill-over (retry and breaker), " +
        "priority lanes, token budgets, usage tracking, streaming, sustained load, latency routing; a table per scenario, an HTML report; exit 1 on any miss.",
    )
    .argument("[scenario...]", "scenarios to run (default: all; --list names them)")
    .option("--short", "a few seconds of load per scenario (the default; CI)")
    .option("--long", "the toolkit's users and durations (minutes per scenario; about an hour in all)")
    .option("--report <file>", "the HTML report (default e2e-report.html)")
    .option("--gateway-url <url>", "run against a deployed gateway (keys and simulator URLs from the environment, docs/e2e.md)")
    .option("--metrics-url <url>", "with --gateway-url: the gateway's Prometheus endpoint (default: SPILLWAY_METRICS_HOST/_PORT when set, else none)")
    .option("--print-env", "print the gateway settings each scenario needs (for deploying a gateway to run it against) and stop")
    .option("--list", "list the scenarios and stop")
    .option("--build", "run `npm run build` first (local)")
    .option("--keep-logs", "keep the local gateway's instance folder (logs) after the run")
    .addHelpText(
      "after",
      "\nLocal runs need real APISIX 3.18 (APISIX_HOME, or the apisix-lab kit next to this checkout); exit 4 without it.\n" +
        "Against a deployed gateway: GATEWAY_CLIENT_KEY_0..2 (and _NAME_), SIMULATOR_URL_PTU1/_PAYG1/_PAYG2, SIMULATOR_KEY_<ROLE>\n" +
        "or SIMULATOR_API_KEY. Exit codes: 0 all passed, 1 a check failed, 2 usage, 3 bad environment, 4 APISIX or a simulator missing.\n\n" +
        "Examples:\n  spillway e2e --short\n  spillway e2e round-robin-weighted ptu-payg-breaker --long --report rr.html\n" +
        "  spillway e2e --print-env ptu-payg-retry\n  spillway e2e usage-tracking --gateway-url https://gw.example.net --metrics-url http://10.0.0.4:9091/apisix/prometheus/metrics",
    )
    .action(async (names: string[], flags: E2eFlags) => run(names, flags));
}
