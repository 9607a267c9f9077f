// `spillway e2e` as a command: listing, --print-env, and the exit codes of the checks that come before any run.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { SCENARIO_NAMES } from "../../scripts/e2e/scenarios/index.ts";

const launcher = path.join(repoRoot, "bin/spillway.mjs");

function e2e(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  // Only PATH and HOME from this process: a developer's GATEWAY_* or SIMULATOR_* must not leak into the cases.
  const res = spawnSync(process.execPath, [launcher, "e2e", ...args], { cwd: repoRoot, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/", ...env } });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe("spillway e2e", () => {
  it("--list names every scenario with the toolkit scenario it reproduces", () => {
    const res = e2e(["--list"]);
    expect(res.status).toBe(0);
    expect(res.stdout.split("\n").filter(Boolean).map((l) => l.split(" ")[0])).toEqual(SCENARIO_NAMES);
    expect(res.stdout).toMatch(/round-robin-simple\s+Round-robin, equal weights \(toolkit: round-robin-simple/);
  });

  it("--print-env prints each chosen scenario's gateway settings, for the --long load when asked", () => {
    const res = e2e(["--print-env", "prioritization-token-tracking", "ptu-payg-breaker", "--long"]);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain("# ptu-payg-breaker (--long)\nAZURE_OPENAI_ENDPOINT_0=${SIMULATOR_URL_PTU1}\n");
    expect(res.stdout).toContain("AZURE_OPENAI_DEPLOYMENTS_1=gpt-35-turbo-100k-token=gpt-35-turbo-100m-token");
    expect(res.stdout).toContain("LOW_PRIORITY_RESERVE_TOKENS=30%");
    expect(res.stdout.indexOf("# ptu-payg-breaker")).toBeLessThan(res.stdout.indexOf("# prioritization-token-tracking"));
  });

  it("usage errors exit 2: an unknown scenario, --short with --long", () => {
    for (const args of [["round-robin"], ["--short", "--long"]]) {
      const res = e2e(args);
      expect(res.status, args.join(" ")).toBe(2);
      expect(res.stderr).toMatch(/^spillway: /);
    }
  });

  it("--gateway-url without the clients' keys and the simulators' addresses exits 3, naming every variable", () => {
    const res = e2e(["streaming", "--gateway-url", "https://gw.example.net"]);
    expect(res.status).toBe(3);
    expect(res.stderr).toContain("GATEWAY_CLIENT_KEY_0: required");
    expect(res.stderr).toContain("SIMULATOR_URL_PAYG1: required");
    expect(res.stderr).toContain("SIMULATOR_KEY_PAYG1: required (or SIMULATOR_API_KEY for all simulators)");
  });

  it("a local run without APISIX exits 4 and says how to get one", () => {
    const res = e2e(["streaming", "--report", path.join(repoRoot, "build", "never-written.html")], { SPILLWAY_APISIX_LAB: "/nonexistent/apisix-lab" });
    expect(res.status).toBe(4);
    expect(res.stderr).toMatch(/APISIX_HOME is not set and there is no apisix-lab kit at \/nonexistent\/apisix-lab/);
  });
});
