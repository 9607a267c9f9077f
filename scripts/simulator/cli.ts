/** `spillway simulator`: run one or more Azure OpenAI simulator instances in the foreground until SIGINT/SIGTERM. */
import { Command, Option } from "commander";
import { startSimulators, stopSimulators, type SimulatorHandle } from "./index.ts";
import { simulatorOptionsFromFlags, type SimulatorFlags } from "./load-config.ts";

export interface RunHooks {
  /** Stops the instances like SIGINT/SIGTERM would (tests). */
  signal?: AbortSignal;
  onReady?: (handles: SimulatorHandle[]) => void;
}

export async function run(flags: SimulatorFlags, hooks: RunHooks = {}): Promise<void> {
  const { signal, onReady } = hooks;
  const handles = await startSimulators(simulatorOptionsFromFlags(flags));
  for (const h of handles) process.stdout.write(`simulator ${h.name} listening on ${h.url}\n`);
  onReady?.(handles);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
    signal?.addEventListener("abort", done, { once: true });
  });
  await stopSimulators(handles);
  process.stdout.write("simulators stopped\n");
}

export function register(program: Command): void {
  program
    .command("simulator")
    .description("Run Azure OpenAI simulator instances (chat, completions, embeddings, Responses; rate limits; faults).")
    .option("--config <file>", 'JSON config: one instance, or {"apiKey", "instances": [{"name", "port", "deployments", ...}]}')
    .option("--instance <name>", "instance name (default sim), or the one instance of --config to start")
    .option("--port <port>", "port (default 8000; config instances without a port take consecutive ports)")
    .option("--host <address>", "address to bind (default 127.0.0.1)")
    .addOption(new Option("--api-key <key>", "key clients must send (api-key or Bearer)").env("SIMULATOR_API_KEY"))
    .option("--deployments <file>", "aoai-api-simulator deployment JSON {name: {model, tokensPerMinute}} (default: toolkit set)")
    .option("--region <name>", "x-ms-region header value")
    .option("--base-latency <ms>", "delay before the first byte of every successful response")
    .option("--per-token-latency <ms>", "extra delay per completion token (chat, completions, responses)")
    .option("--stream-interval <ms>", "gap between streamed chunks (default 20)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  SIMULATOR_API_KEY=dev spillway simulator --port 8000\n" +
        "  spillway simulator --config sims.json          # e.g. ptu1, payg1, payg2 on 8001-8003\n" +
        "Control API (api-key required): GET|PATCH /++/config, GET /++/stats, GET /++/requests, POST|DELETE /++/faults",
    )
    .action(async (flags: SimulatorFlags) => run(flags));
}
