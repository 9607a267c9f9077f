/**
 * Programmatic API of the Azure OpenAI simulator (documented in docs/simulator.md; keep both in step):
 *
 *   const sim = await startSimulator({ name: "payg1", apiKey: "k", deployments: { "gpt-4o-mini": { model: "gpt-4o-mini", tpm: 100000 } } });
 *   // sim.url → http://127.0.0.1:<port>; sim.stats(), sim.requests(), sim.setFaults([...]), sim.reset(), await sim.stop()
 */
import { normalizeOptions } from "./config.ts";
import { validateFaults } from "./faults.ts";
import { createInstance } from "./instance.ts";
import { listen } from "./server.ts";
import { loadEncoder } from "./tokens.ts";
import type { DeploymentOptions, FaultSpec, SimulatorHandle, SimulatorOptions } from "./types.ts";
import { ConfigError } from "../../lib/errors.ts";

export type * from "./types.ts";
export { fakeClock, systemClock, type FakeClock } from "./clock.ts";

/** The deployments of the APIM GenAI gateway toolkit's simulators (reference aoai-simulator.md §1.1). */
export const TOOLKIT_DEPLOYMENTS: Record<string, DeploymentOptions> = {
  deployment1: { model: "gpt-3.5-turbo", tpm: 60_000 },
  "gpt-35-turbo-1k-token": { model: "gpt-3.5-turbo", tpm: 1_000 },
  "gpt-35-turbo-2k-token": { model: "gpt-3.5-turbo", tpm: 2_000 },
  "gpt-35-turbo-5k-token": { model: "gpt-3.5-turbo", tpm: 5_000 },
  "gpt-35-turbo-10k-token": { model: "gpt-3.5-turbo", tpm: 10_000 },
  "gpt-35-turbo-20k-token": { model: "gpt-3.5-turbo", tpm: 20_000 },
  "gpt-35-turbo-50k-token": { model: "gpt-3.5-turbo", tpm: 50_000 },
  "gpt-35-turbo-100k-token": { model: "gpt-3.5-turbo", tpm: 100_000 },
  "gpt-35-turbo-100m-token": { model: "gpt-3.5-turbo", tpm: 100_000_000 },
  embedding: { model: "text-embedding-ada-002", tpm: 10_000 },
  embedding100k: { model: "text-embedding-ada-002", tpm: 100_000 },
};

export async function startSimulator(options: SimulatorOptions): Promise<SimulatorHandle> {
  const conf = normalizeOptions(options);
  await loadEncoder();
  const inst = createInstance(conf);
  const running = await listen(inst);
  const host = conf.host.includes(":") ? `[${conf.host}]` : conf.host;
  return {
    url: `http://${host}:${running.port}`,
    port: running.port,
    name: conf.name,
    stop: () => running.close(),
    stats: () => inst.stats.snapshot(),
    requests: () => inst.log.list(),
    setFaults: (faults: FaultSpec[]) => {
      const problems = validateFaults(faults);
      if (problems.length > 0) throw new ConfigError(problems.map((p) => `simulator ${conf.name}: faults${p}`));
      inst.faults.set(faults);
    },
    clearFaults: () => inst.faults.clear(),
    reset: () => inst.reset(),
  };
}

/** Start several instances; if one fails, the ones already started are stopped and the error is rethrown. */
export async function startSimulators(list: SimulatorOptions[]): Promise<SimulatorHandle[]> {
  const names = new Set<string>();
  for (const o of list) {
    if (names.has(o.name)) throw new ConfigError([`simulator ${o.name}: two instances share this name`]);
    names.add(o.name);
  }
  const started: SimulatorHandle[] = [];
  try {
    for (const o of list) started.push(await startSimulator(o));
  } catch (err) {
    await stopSimulators(started);
    throw err;
  }
  return started;
}

export async function stopSimulators(handles: SimulatorHandle[]): Promise<void> {
  await Promise.all(handles.map((h) => h.stop()));
}
