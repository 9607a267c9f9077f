/**
 * TEST CODE. Registers every scenario suite on real APISIX 3.18.0 (Docker image or APISIX_HOME) with a given number
 * of nginx workers. Without either, the suites are reported skipped with the reason in the title, never passed.
 * One test file per worker count (scenarios.apisix.test.ts: 1, scenarios.apisix-2w.test.ts: 2) so vitest runs them
 * side by side.
 */
import { describe, it } from "vitest";
import { AI_PROXY_SUITES } from "./ai-proxy.ts";
import { ANSWER_SUITES } from "./answers.ts";
import { AUTH_SUITES } from "./auth.ts";
import { PROVIDER_SUITES } from "./provider.ts";
import { apisixHostOrSkipReason } from "./hosts/apisix.ts";
import { runScenarioSuites } from "./run.ts";

export const ALL_SUITES = [...AUTH_SUITES, ...AI_PROXY_SUITES, ...PROVIDER_SUITES, ...ANSWER_SUITES];

export async function scenariosOnRealApisix(workers: number): Promise<void> {
  const found = await apisixHostOrSkipReason(workers);
  if ("skip" in found) {
    describe.skip(`real APISIX 3.18.0, ${workers} worker(s) — skipped: ${found.skip}`, () => {
      for (const suite of ALL_SUITES) it(suite.name, () => {});
    });
  } else {
    runScenarioSuites(found.host, ALL_SUITES);
  }
}
