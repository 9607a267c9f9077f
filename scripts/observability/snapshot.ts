/**
 * Renders docs/dashboard.png: the Grafana dashboard's panels over a minute or two of real traffic. Run by hand:
 *
 *   node --import tsx scripts/observability/snapshot.ts --metrics-url http://127.0.0.1:9091/apisix/prometheus/metrics
 *   APISIX_HOME=$(bash scripts/apisix-lab.sh) node --import tsx scripts/observability/snapshot.ts --traffic
 *
 * The only place that turns errors into exit codes; the work is in ./run.ts. See docs/observability.md.
 */
import { Command } from "commander";
import { exitCodeOf } from "../../lib/errors.ts";
import { runSnapshot, type SnapshotOptions } from "./run.ts";

const say = (line: string): void => void process.stderr.write(`snapshot: ${line}\n`);

const program = new Command("snapshot")
  .description("Scrape a gateway with a throwaway Prometheus, then draw every dashboard panel into one PNG")
  .option("--metrics-url <url>", "the gateway's Prometheus endpoint, e.g. http://127.0.0.1:9091/apisix/prometheus/metrics")
  .option("--traffic", "start the demo's simulators and gateway (Docker or APISIX_HOME) and drive traffic through them")
  .option("--seconds <n>", "how long to scrape (10-3600)", "90")
  .option("--rate-interval <duration>", "what $__rate_interval becomes (default 30s: two of APISIX's 15 s exposition refreshes)")
  .option("--out <file>", "PNG to write (default: docs/dashboard.png in this checkout)")
  .option("--svg <file>", "also write the composed SVG")
  .option("--no-build", "with --traffic: skip the Lua build (build/lua must be current)")
  .addHelpText(
    "after",
    "\nNeeds Debian's prometheus binary (apt-get install prometheus).\n\nExamples:\n" +
      "  node --import tsx scripts/observability/snapshot.ts --metrics-url http://127.0.0.1:9091/apisix/prometheus/metrics --seconds 120\n" +
      "  APISIX_HOME=$(bash scripts/apisix-lab.sh) node --import tsx scripts/observability/snapshot.ts --traffic",
  )
  .action(async (opts: SnapshotOptions) => {
    await runSnapshot(opts, say);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  say(err instanceof Error ? err.message : String(err));
  process.exit(exitCodeOf(err));
});
