/**
 * Child-process entry for one bench simulator: `node --import tsx scripts/bench/sim-process.ts <options.json>`.
 * Imports only the simulator (not the whole CLI), prints `simulator <name> listening on <url>`, stops on
 * SIGINT/SIGTERM. Its own process keeps it off the event loop of the bench's stream client.
 */
import { readFileSync } from "node:fs";
import { startSimulator, type SimulatorOptions } from "../simulator/index.ts";

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write("usage: sim-process.ts <simulator-options.json>\n");
  process.exit(2);
}
const sim = await startSimulator(JSON.parse(readFileSync(file, "utf8")) as SimulatorOptions);
process.stdout.write(`simulator ${sim.name} listening on ${sim.url}\n`);
const stop = (): void => {
  void sim.stop().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
