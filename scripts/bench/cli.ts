/** `spillway bench`: gateway vs direct vs raw nginx, the 429 hop and the cooled-backend skip, as ratios of one run. */
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
      "Throughput and added latency through the gateway vs direct to the simulator (and raw nginx), streamed and not, " +
        "and the cost of one 429 hop and of a cooled-backend skip, printed as ratios measured in the same run.",
    )
    .option("--duration <seconds>", "seconds of each wrk throughput run per target per round (default 4; --quick 1)")
    .option("--connections <n>", "wrk connections for the throughput runs (default 32)")
    .option("--rounds <n>", "rounds, targets alternated, medians reported (default 3; --quick 2)")
    .option("--streams <n>", "concurrent streams (default 4)")
    .option("--quick", "a short run (under ~40 s): fewer, shorter rounds and no stock ai-proxy-multi rows; noisier")
    .option("--build", "run `npm run build` first (otherwise build/lua is used as it is)")
    .addHelpText(
      "after",
      "\nNeeds wrk and Debian's nginx + libnginx-mod-http-lua. The gateway rows run on the nginx stand-in of APISIX\n" +
        "(test code in tests/rig), not the official APISIX runtime: only the ratios mean anything. See docs/bench.md.",
    )
    .action(async (flags: BenchFlags) => run(flags));
}
