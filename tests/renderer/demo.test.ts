// `spillway demo` end to end on the nginx test stand-in (the same code path the CLI takes when neither Docker nor
// APISIX_HOME is there): real simulators, the rendered config, the official openai SDK, real plugins from build/lua.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { renderOnce } from "../../renderer/cli.ts";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { DEMO_BACKENDS, runDemo } from "../../scripts/start/demo.ts";
import { adaptForStandin } from "../../scripts/start/standin.ts";
import { MINIMAL_ENV } from "./fixtures.ts";

const hasNginx = spawnSync("sh", ["-c", "command -v nginx"]).status === 0;
const built = ["apisix/plugins/spillway-failover.lua", "apisix/plugins/ai-providers/azure-openai-dynamic.lua", "spillway/hook.lua"].every((f) =>
  existsSync(path.join(repoRoot, "build/lua", f)),
);

describe("adapting the rendered files for the stand-in", () => {
  it("leaves out only what the stand-in does not model (mocking /healthz, prometheus), and says so", async () => {
    const { rendered } = await renderOnce({ processEnv: MINIMAL_ENV });
    const { rendered: adapted, leftOut } = adaptForStandin(rendered);
    expect(leftOut).toEqual(["route spillway-healthz (answered by the mocking plugin)", "the prometheus plugin (metrics) on every route"]);
    const before = parse(rendered.apisixYaml, { version: "1.1" });
    const after = parse(adapted.apisixYaml, { version: "1.1" });
    for (const route of before.routes.filter((r: { id: string }) => r.id !== "spillway-healthz")) delete route.plugins.prometheus;
    expect(after).toEqual({ ...before, routes: before.routes.filter((r: { id: string }) => r.id !== "spillway-healthz") });
    expect(adapted.apisixYaml.trimEnd().endsWith("#END")).toBe(true);
    expect(parse(adapted.configYaml).plugins).toEqual(["azure-openai-auth", "ai-rate-limiting", "spillway-failover", "ai-proxy-multi", "proxy-rewrite"]);
  });
});

describe.skipIf(!hasNginx || !built)(
  `spillway demo on the stand-in${!hasNginx ? " (skipped: nginx is not installed; scripts/setup.sh installs it)" : !built ? " (skipped: build/lua lacks the failover plugin, provider or hook; run npm run build)" : ""}`,
  () => {
    it("serves every request, the client sees no 429, and the throttled backend's 429s were absorbed by failover", async () => {
      const lines: string[] = [];
      const report = await runDemo({ gateway: "standin", build: false, requests: "12", concurrency: "3", say: (l) => lines.push(l) });
      const text = lines.join("\n");
      expect(text).toContain("THIS IS THE SPILLWAY TEST STAND-IN (nginx + ngx_lua), NOT APACHE APISIX.");
      expect(text).toContain("Spillway demo on SPILLWAY TEST STAND-IN (nginx), NOT APISIX");
      expect(report.outcomes.filter((o) => o.status === 200)).toHaveLength(12);
      expect(report.outcomes.filter((o) => o.status === 429)).toHaveLength(0);
      const throttled = report.backends.find((b) => b.name === DEMO_BACKENDS[0].name)!;
      expect(throttled.stats.byStatus["429"] ?? 0).toBeGreaterThanOrEqual(1);
      // Every success names the backend that served it, and it is one the simulators confirm.
      expect(report.outcomes.every((o) => DEMO_BACKENDS.some((b) => b.name === o.backend))).toBe(true);
      expect(report.outcomes.some((o) => Number(o.attempts) > 1)).toBe(true);
    }, 60_000);
  },
);
