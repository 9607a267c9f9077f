/**
 * `spillway bench`: Spillway's rendered chat route against stock ai-proxy-multi on real APISIX 3.18 in the same run
 * (worker CPU per request, req/s, latency, streams, RSS, error-log lines), the 429 hop and the cooled-backend skip.
 */
import type { Command } from "commander";
import { planFromFlags, type BenchFlags } from "./options.ts";
import { runBench } from "./run.ts";

export async function run(flags: BenchFlags): Promise<void> {
  const plan = planFromFlags(flags);
  await runBench(
    plan,
    (line) => void process.stderr.write(`${line}\n`),
    (text) => void process.stdout.write(text),
  );
}

export function register(program: Command): void {
  program
    .command("bench")
    .description(
      "Spillway's chat route vs stock ai-proxy-multi on real APISIX 3.18 (APISIX_HOME or the apisix-lab), in the same run: " +
        "worker CPU per request, req/s, latency, streams, worker RSS and error-log lines; plus the 429 hop and the cooled-backend skip.",
    )
    .option("--duration <seconds>", "seconds of each wrk throughput run per target per round (default 4; --quick 1)")
    .option("--connections <n>", "wrk connections for the throughput runs (default 32)")
    .option("--rounds <n>", "rounds, targets alternated, medians reported (default 3; --quick 2)")
    .option("--streams <n>", "concurrent streams (default 4)")
    .option("--workers <n>", "nginx worker processes per gateway (default 1); CPU and RSS are summed over them")
    .option("--soak <requests>", "after the rounds, send this many requests (e.g. 200000) to Spillway's route; worker RSS before/after")
    .option("--quick", "a short run (about 1 min): 2 rounds of 1 s, no raw nginx row; noisier")
    .option("--build", "run `npm run build` first (otherwise build/lua is used as it is)")
    .option("--no-pin", "do not pin the gateway workers and the load generator to separate CPUs (pinned by default when they fit)")
    .option("--standin", "measure on the nginx test stand-in of APISIX (test code, ratios only) instead of real APISIX")
    .addHelpText(
      "after",
      "\nNeeds wrk, Debian's nginx, and real APISIX 3.18: APISIX_HOME, or the apisix-lab kit next to this checkout\n" +
        "(built on first use by scripts/apisix-lab.sh). Without one it stops (exit 4) and says how to get one.\n" +
        "--standin needs libnginx-mod-http-lua instead of APISIX. See docs/bench.md.\n\n" +
        "Examples:\n  spillway bench --quick\n  spillway bench --workers 2\n  spillway bench --soak 200000",
    )
    .action(async (flags: BenchFlags) => run(flags));
}
