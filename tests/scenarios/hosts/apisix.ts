/**
 * TEST CODE. Scenario host (b): real APISIX 3.18.0, through Docker (the pinned image) or a local install
 * (APISIX_HOME). Use apisixHostOrSkipReason() at the top of a test file: when neither exists the suite must be
 * reported skipped with the reason, never passed.
 */
import { APISIX_VERSION, apisixAvailability, startApisix } from "../../rig/apisix.ts";
import type { ScenarioHost } from "../run.ts";

/** `workers`: nginx worker_processes for every suite (cooldowns and affinity must hold across workers). */
export async function apisixHostOrSkipReason(workers = 1): Promise<{ host: ScenarioHost } | { skip: string }> {
  const availability = await apisixAvailability();
  if (!availability.ok) return { skip: availability.reason };
  return {
    host: {
      name: "apisix",
      title: `real APISIX ${APISIX_VERSION} (${availability.mode}, ${workers} worker${workers === 1 ? "" : "s"})`,
      workers,
      start: (opts) => startApisix({ workers, ...opts }, availability),
    },
  };
}
