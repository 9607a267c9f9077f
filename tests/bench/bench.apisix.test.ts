/**
 * `spillway bench`'s real-APISIX path, once, without timing anything (and without wrk): the simulators, an APISIX
 * instance per row (stock + prometheus, Spillway's rendered route, the cooled skip), the warm-up checks that each row
 * answers as its label says (who answered, attempts, throttled-backend calls), the stream check, and the readings the
 * report is made of (worker RSS, the happy path's quiet error log). Runs on APISIX_HOME (scripts/test.sh sets it from
 * the apisix-lab); skipped with the reason without one, and a failure when SPILLWAY_REQUIRE_APISIX=1 (CI).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isApisixHome } from "../../scripts/start/apisix-instance.ts";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { gatewayStarter, startFleet, targetOf, warmUpAndCheck } from "../../scripts/bench/fleet.ts";
import { planFromFlags, type BenchPlan } from "../../scripts/bench/options.ts";
import { LogWatch, totalRssKiB } from "../../scripts/bench/proc.ts";

const home = process.env.APISIX_HOME?.trim() ?? "";
const available = home !== "" && isApisixHome(home);
const reason = home === "" ? "APISIX_HOME is not set" : `APISIX_HOME=${home} is not an APISIX install`;
if (!available && process.env.SPILLWAY_REQUIRE_APISIX === "1") throw new Error(`real APISIX is required (SPILLWAY_REQUIRE_APISIX=1): ${reason}`);

const plan: BenchPlan = {
  ...planFromFlags({ quick: true }),
  wrkTargets: ["direct", "stock-prom", "gateway", "skip"],
  streamTargets: ["direct", "gateway"],
  warmupRequests: 20,
};

describe.skipIf(!available)(`bench on real APISIX${available ? "" : ` (skipped: ${reason})`}`, () => {
  it("starts one APISIX per row, and each row answers as its label says; the happy path logs nothing", async () => {
    const controller = new AbortController();
    const fleet = await startFleet(plan, gatewayStarter(plan, home, path.join(repoRoot, "build", "lua")));
    try {
      const gateway = targetOf(fleet, "gateway");
      expect(gateway.workerPids).toHaveLength(1);
      expect(targetOf(fleet, "stock-prom").workerPids).toHaveLength(1);
      const log = new LogWatch(gateway.errorLogPath!);
      await warmUpAndCheck(fleet, plan, controller.signal);
      expect(log.take().count).toBe(0);
      expect(totalRssKiB(gateway.workerPids!)).toBeGreaterThan(1024);
    } finally {
      await fleet.stop();
    }
  }, 90_000);
});
