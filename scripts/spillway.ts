/**
 * `spillway`: the one CLI. Each command lives in its own module exporting `register(program)`; this file
 * wires them up and is the only place that turns errors into exit codes.
 */
import { Command } from "commander";
import { exitCodeOf } from "../lib/errors.ts";

type Registrar = (program: Command) => void;

/** Command modules, each `export function register(program: Command)`. Missing ones are skipped. */
const COMMAND_MODULES = [
  "./simulator/cli.ts",
  "../renderer/cli.ts",
  "./start/cli.ts",
  "./status/cli.ts",
  "./deploy/cli.ts",
  "./bench/cli.ts",
  "./chaos/cli.ts",
  "./e2e/cli.ts",
];

async function main(argv: string[]): Promise<void> {
  const program = new Command("spillway")
    .description("Azure OpenAI gateway on Apache APISIX: render config, run the gateway, simulate Azure, deploy.")
    .showHelpAfterError();
  for (const modulePath of COMMAND_MODULES) {
    let mod: { register?: Registrar };
    try {
      mod = (await import(modulePath)) as { register?: Registrar };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String(err).includes(modulePath.slice(2))) continue;
      throw err;
    }
    mod.register?.(program);
  }
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`spillway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(exitCodeOf(err));
});
