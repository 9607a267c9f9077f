// `spillway demo` end to end on the nginx test stand-in (the same code path the CLI takes when neither Docker nor
// APISIX_HOME is there) and, when APISIX_HOME is set, on that local APISIX: real simulators, the rendered config, the
// official openai SDK, real plugins from build/lua.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { DEMO_BACKENDS, runDemo } from "../../scripts/start/demo.ts";

const hasNginx = spawnSync("sh", ["-c", "command -v nginx"]).status === 0;
const built = ["apisix/plugins/spillway-failover.lua", "apisix/plugins/ai-providers/azure-openai-dynamic.lua", "spillway/hook.lua"].every((f) =>
  existsSync(path.join(repoRoot, "build/lua", f)),
);

/**
 * What the demo shows: every request served, none of the throttled backend's 429s reached the client, every
 * success names a backend the simulators confirm, and at least one request failed over.
 */
function expectThrottlingAbsorbed(report: Awaited<ReturnType<typeof runDemo>>, requests: number): void {
  expect(report.outcomes.filter((o) => o.status === 200)).toHaveLength(requests);
  expect(report.outcomes.filter((o) => o.status === 429)).toHaveLength(0);
  const throttled = report.backends.find((b) => b.name === DEMO_BACKENDS[0].name)!;
  expect(throttled.stats.byStatus["429"] ?? 0).toBeGreaterThanOrEqual(1);
  expect(report.outcomes.every((o) => DEMO_BACKENDS.some((b) => b.name === o.backend))).toBe(true);
  expect(report.outcomes.some((o) => Number(o.attempts) > 1)).toBe(true);
}

describe.skipIf(!hasNginx || !built)(
  `spillway demo on the stand-in${!hasNginx ? " (skipped: nginx is not installed; scripts/setup.sh installs it)" : !built ? " (skipped: build/lua lacks the failover plugin, provider or hook; run npm run build)" : ""}`,
  () => {
    it("serves every request, the client sees no 429, and the throttled backend's 429s were absorbed by failover", async () => {
      const lines: string[] = [];
      const report = await runDemo({ gateway: "standin", build: false, requests: "12", concurrency: "3", say: (l) => lines.push(l) });
      const text = lines.join("\n");
      expect(text).toContain("THIS IS THE SPILLWAY TEST STAND-IN (nginx + ngx_lua), NOT APACHE APISIX.");
      expect(text).toContain("Spillway demo on SPILLWAY TEST STAND-IN (nginx), NOT APISIX");
      // The stand-in runs the rendered files unchanged (/healthz and prometheus included): nothing is left out.
      expect(text).not.toMatch(/left out|not modelled/);
      expectThrottlingAbsorbed(report, 12);
    }, 60_000);
  },
);

const home = process.env.APISIX_HOME?.trim();
const skipReal = !home ? "APISIX_HOME is not set" : !existsSync(path.join(home, "bin", "apisix")) ? `APISIX_HOME=${home} has no bin/apisix` : !built ? "build/lua lacks the failover plugin, provider or hook; run npm run build" : undefined;

describe.skipIf(skipReal !== undefined)(`spillway demo on the local APISIX at APISIX_HOME${skipReal ? ` (skipped: ${skipReal})` : ""}`, () => {
  it("runs on real APISIX, without the stand-in banner: every request served, no 429 for the client, the throttled backend's 429s absorbed", async () => {
    const lines: string[] = [];
    const report = await runDemo({ gateway: "apisix-home", build: false, requests: "12", concurrency: "3", say: (l) => lines.push(l) });
    const text = lines.join("\n");
    expect(text).toMatch(/Spillway demo on APISIX 3\.18\.0 at /);
    expect(text).not.toContain("STAND-IN");
    expectThrottlingAbsorbed(report, 12);
  }, 90_000);
});
