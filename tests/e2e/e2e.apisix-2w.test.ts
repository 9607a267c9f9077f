// `spillway e2e --short` on real APISIX 3.18.0 with 2 workers (about a minute): the APIM GenAI gateway toolkit's
// scenarios, each on its own rendered settings, one gateway reloaded by `render --watch` between them. One case per
// scenario, so a failure names the scenario and carries its failed checks; the whole report goes to stdout. Runs on
// APISIX_HOME (the run starts a local APISIX instance); skipped with the reason without it, and a failure under
// SPILLWAY_REQUIRE_APISIX=1 (CI).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planFromArgs } from "../../scripts/e2e/options.ts";
import { runE2e, type E2eResult } from "../../scripts/e2e/run.ts";
import { SCENARIO_NAMES } from "../../scripts/e2e/scenarios/index.ts";
import { apisixAvailability } from "../rig/apisix.ts";

const availability = await apisixAvailability();
const home = availability.ok && availability.mode === "local" ? availability.home : undefined;
const reason = !availability.ok ? availability.reason : "the e2e run starts a local APISIX: set APISIX_HOME (a Docker engine alone is not enough)";
if (home === undefined && process.env.SPILLWAY_REQUIRE_APISIX === "1") throw new Error(`real APISIX is required (SPILLWAY_REQUIRE_APISIX=1): ${reason}`);

/** Start-up, ten scenarios of a few seconds each with a reload before each, on a busy 2-core machine. */
const RUN_TIMEOUT_MS = 240_000;

describe.skipIf(home === undefined)(`spillway e2e --short on real APISIX 3.18.0, 2 workers${home === undefined ? ` (skipped: ${reason})` : ""}`, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "spillway-e2e-test-"));
  const reportFile = path.join(dir, "e2e-report.html");
  let result: E2eResult;

  beforeAll(async () => {
    result = await runE2e(planFromArgs([], { short: true, report: reportFile }, {}), (line) => void process.stderr.write(`${line}\n`));
    process.stdout.write(result.report);
  }, RUN_TIMEOUT_MS);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of SCENARIO_NAMES) {
    it(`scenario "${name}" passes`, () => {
      const r = result.results.find((x) => x.name === name);
      expect(r, `the run made no "${name}" scenario`).toBeDefined();
      const failed = r!.checks.filter((c) => c.status === "fail").map((c) => `${c.name}: required ${c.expected}, measured ${c.actual}`);
      expect(failed, `${name}: failed checks`).toEqual([]);
    });
  }

  it("the gateway's error log has no Lua error, and the HTML report holds a chart per scenario", () => {
    expect(result.runChecks.filter((c) => c.status === "fail")).toEqual([]);
    const html = readFileSync(reportFile, "utf8");
    for (const name of SCENARIO_NAMES) expect(html).toContain(`<section id="${name}">`);
    expect(html).toContain("echarts");
  });
});
