/**
 * Child-process entry for one chaos simulator: `node --import tsx scripts/chaos/sim-child.ts <options.json>`, with
 * an IPC channel. Like the bench's sim-process.ts (its own process, off the load generator's event loop), plus two
 * commands: `close` stops the simulator, so its port refuses connections, and `open` starts it again on the same
 * port. Restarting in-process skips Node's and the tokenizer's start-up (seconds of CPU on a loaded 2-core box,
 * enough to make every other backend look slow).
 */
import { readFileSync } from "node:fs";
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from "../simulator/index.ts";

export type ChildCommand = { seq: number; cmd: "close" | "open" };
export type ChildMessage = { event: "listening"; url: string } | { seq: number; ok: boolean; error?: string };

const file = process.argv[2];
if (file === undefined || process.send === undefined) {
  process.stderr.write("usage (with an IPC channel): sim-child.ts <simulator-options.json>\n");
  process.exit(2);
}
const options = JSON.parse(readFileSync(file, "utf8")) as SimulatorOptions;
let sim: SimulatorHandle | undefined = await startSimulator(options);
const send = (m: ChildMessage): void => void process.send!(m);
send({ event: "listening", url: sim.url });

process.on("message", (m: ChildCommand) => {
  const done = (error?: string): void => send({ seq: m.seq, ok: error === undefined, ...(error !== undefined ? { error } : {}) });
  const step =
    m.cmd === "close"
      ? (async () => {
          const s = sim;
          sim = undefined;
          await s?.stop();
        })()
      : (async () => {
          sim ??= await startSimulator(options);
        })();
  step.then(() => done(), (err: unknown) => done(err instanceof Error ? err.message : String(err)));
});

const quit = (): void => {
  void (sim?.stop() ?? Promise.resolve()).then(() => process.exit(0));
};
process.once("SIGINT", quit);
process.once("SIGTERM", quit);
process.once("disconnect", quit);
