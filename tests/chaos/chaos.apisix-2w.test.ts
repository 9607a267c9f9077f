// `spillway chaos --short` on real APISIX 3.18.0 with 2 workers (about a minute): every fault kind under 200
// concurrent clients, bad input alongside, Redis stopped and restarted, a `render --watch` reload. One case per
// check of the run, so a failure names the check and carries its figures; the whole report goes to stdout. Runs on
// APISIX_HOME (the chaos run starts a local APISIX instance); skipped with the reason without it, and a failure under
// SPILLWAY_REQUIRE_APISIX=1 (CI).
import { beforeAll, describe, expect, it } from "vitest";
import { CHECK_IDS } from "../../scripts/chaos/judge.ts";
import { planFromFlags } from "../../scripts/chaos/options.ts";
import { runChaos, type ChaosResult } from "../../scripts/chaos/run.ts";
import { apisixAvailability } from "../rig/apisix.ts";

const availability = await apisixAvailability();
const home = availability.ok && availability.mode === "local" ? availability.home : undefined;
const reason = !availability.ok ? availability.reason : "the chaos run starts a local APISIX: set APISIX_HOME (a Docker engine alone is not enough)";
if (home === undefined && process.env.SPILLWAY_REQUIRE_APISIX === "1") throw new Error(`real APISIX is required (SPILLWAY_REQUIRE_APISIX=1): ${reason}`);

/** Start-up, ~45 s of phases under load, the drain of the last answers and the checks, on a busy 2-core machine. */
const RUN_TIMEOUT_MS = 240_000;

describe.skipIf(home === undefined)(`spillway chaos --short on real APISIX 3.18.0, 2 workers${home === undefined ? ` (skipped: ${reason})` : ""}`, () => {
  let result: ChaosResult;

  beforeAll(async () => {
    result = await runChaos(planFromFlags({ short: true }), (line) => void process.stderr.write(`${line}\n`));
    process.stdout.write(result.report);
  }, RUN_TIMEOUT_MS);

  for (const id of CHECK_IDS) {
    it(`check "${id}" passes`, () => {
      const check = result.checks.find((c) => c.id === id);
      expect(check, `the run made no "${id}" check`).toBeDefined();
      expect(check!.pass, `${check!.name}: ${check!.detail}`).toBe(true);
    });
  }
});
