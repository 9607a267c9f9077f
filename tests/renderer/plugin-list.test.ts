// The rendered plugin list: prometheus is required (3.18's ai-proxy modules load its exporter; our metrics use it).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { pluginListProblem, SPILLWAY_LOG_VARIABLES } from "../../renderer/config-yaml.ts";

describe("plugin list", () => {
  it("refuses a list without prometheus, naming it and why", () => {
    expect(pluginListProblem(["azure-openai-auth", "spillway-failover", "ai-proxy-multi"])).toMatch(/lacks "prometheus".*exporter/);
  });

  it("accepts a list with it", () => {
    expect(pluginListProblem(["spillway-failover", "ai-proxy-multi", "prometheus"])).toBeUndefined();
  });

  it("declares exactly the access-log fields the plugin sets (an undeclared one would be a Lua error per request)", () => {
    const source = readFileSync(new URL("../../plugins/spillway-failover/access-log.ts", import.meta.url), "utf8");
    const set = new Set([...source.matchAll(/setVar\("(spillway_[a-z_]+)"/g)].map((m) => m[1]));
    expect(set).toEqual(new Set(SPILLWAY_LOG_VARIABLES));
  });
});
