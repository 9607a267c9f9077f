/**
 * Entry point of the renderer inside the gateway image (apisix/Dockerfile bundles this file with esbuild into one
 * .mjs, so the image needs Node but no node_modules or tsx). It carries only `render`; like scripts/spillway.ts it
 * is the single place that turns a typed error into an exit code.
 */
import { Command } from "commander";
import { exitCodeOf } from "../lib/errors.ts";
import { register } from "./cli.ts";

const program = new Command("spillway").description("Spillway gateway image: render the APISIX configuration").showHelpAfterError();
register(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`spillway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(exitCodeOf(err));
});
