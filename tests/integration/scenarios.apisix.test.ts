// TEST CODE. Every scenario suite on host (b): real APISIX 3.18.0 (Docker image or APISIX_HOME). Without either,
// the suite is reported skipped with the reason in its title, never passed.
import { describe, it } from "vitest";
import { AI_PROXY_SUITES } from "../scenarios/ai-proxy.ts";
import { AUTH_SUITES } from "../scenarios/auth.ts";
import { PROVIDER_SUITES } from "../scenarios/provider.ts";
import { apisixHostOrSkipReason } from "../scenarios/hosts/apisix.ts";
import { runScenarioSuites } from "../scenarios/run.ts";

const SUITES = [...AUTH_SUITES, ...AI_PROXY_SUITES, ...PROVIDER_SUITES];
const found = await apisixHostOrSkipReason();

if ("skip" in found) {
  describe.skip(`real APISIX 3.18.0 — skipped: ${found.skip}`, () => {
    for (const suite of SUITES) it(suite.name, () => {});
  });
} else {
  runScenarioSuites(found.host, SUITES);
}
