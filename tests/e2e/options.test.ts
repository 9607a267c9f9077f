// spillway e2e options: scenarios, --short/--long, and the environment a deployed gateway's run reads.
import { describe, expect, it } from "vitest";
import { ConfigError, UsageError } from "../../lib/errors.ts";
import { DEFAULT_REPORT, needs, planFromArgs, selectScenarios } from "../../scripts/e2e/options.ts";
import { SCENARIO_NAMES } from "../../scripts/e2e/scenarios/index.ts";

const FULL_ENV = {
  GATEWAY_CLIENT_KEY_0: "k0-0123456789abcdef",
  GATEWAY_CLIENT_KEY_1: "k1-0123456789abcdef",
  GATEWAY_CLIENT_KEY_2: "k2-0123456789abcdef",
  GATEWAY_CLIENT_NAME_0: "team-a",
  GATEWAY_CLIENT_NAME_1: "team-b",
  GATEWAY_CLIENT_NAME_2: "team-c",
  SIMULATOR_URL_PTU1: "https://ptu1.example.net/",
  SIMULATOR_URL_PAYG1: "https://payg1.example.net",
  SIMULATOR_URL_PAYG2: "https://payg2.example.net",
  SIMULATOR_API_KEY: "sim-key",
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("scenarios and load", () => {
  it("runs every scenario, --short, into e2e-report.html, on the local stack when nothing is given", () => {
    const plan = planFromArgs([], {}, {});
    expect(plan.scenarios.map((s) => s.name)).toEqual(SCENARIO_NAMES);
    expect(plan).toMatchObject({ load: "short", reportFile: DEFAULT_REPORT, build: false, keepLogs: false, printEnv: false, list: false });
    expect(plan.remote).toBeUndefined();
  });

  it("takes named scenarios in the run's order, whatever order they are given in", () => {
    expect(selectScenarios(["latency-routing", "round-robin-simple"]).map((s) => s.name)).toEqual(["round-robin-simple", "latency-routing"]);
  });

  it("refuses an unknown scenario, naming it and listing the scenarios (exit 2)", () => {
    expect(() => planFromArgs(["round-robin", "streaming"], {}, {})).toThrow(UsageError);
    expect(() => planFromArgs(["round-robin"], {}, {})).toThrow(/unknown scenario "round-robin"; the scenarios are: round-robin-simple, round-robin-weighted, /);
  });

  it("--long is the toolkit's durations; --short and --long together are a usage error", () => {
    expect(planFromArgs([], { long: true }, {}).load).toBe("long");
    expect(() => planFromArgs([], { short: true, long: true }, {})).toThrow(/--short and --long exclude each other/);
  });

  it("--metrics-url belongs to --gateway-url; --build and --keep-logs to the local stack", () => {
    expect(() => planFromArgs([], { metricsUrl: "http://127.0.0.1:9091/apisix/prometheus/metrics" }, {})).toThrow(UsageError);
    expect(() => planFromArgs([], { gatewayUrl: "https://gw.example.net", build: true }, FULL_ENV)).toThrow(/--build and --keep-logs are for the local gateway/);
    expect(() => planFromArgs([], { report: " " }, {})).toThrow(/--report needs a file name/);
  });

  it("needs: the roles and client count of the chosen scenarios", () => {
    const n = needs(selectScenarios(["round-robin-simple", "prioritization-token-calculating"]), "short");
    expect([...n.roles].sort()).toEqual(["payg1", "payg2"]);
    expect(n.clients).toBe(2);
    expect(needs(selectScenarios(["usage-tracking"]), "long").clients).toBe(3);
  });
});

describe("--gateway-url (a deployed gateway)", () => {
  it("reads the clients, the simulators (one shared key) and no metrics by default", () => {
    const plan = planFromArgs([], { gatewayUrl: "https://gw.example.net/" }, FULL_ENV);
    expect(plan.remote).toEqual({
      gatewayUrl: "https://gw.example.net",
      clients: [
        { name: "team-a", key: "k0-0123456789abcdef" },
        { name: "team-b", key: "k1-0123456789abcdef" },
        { name: "team-c", key: "k2-0123456789abcdef" },
      ],
      simulators: {
        ptu1: { url: "https://ptu1.example.net", key: "sim-key" },
        payg1: { url: "https://payg1.example.net", key: "sim-key" },
        payg2: { url: "https://payg2.example.net", key: "sim-key" },
      },
      workers: 2,
    });
  });

  it("SIMULATOR_KEY_<ROLE> wins over SIMULATOR_API_KEY; SPILLWAY_E2E_WORKERS sets the workers; --metrics-url or SPILLWAY_METRICS_HOST/_PORT the metrics", () => {
    const env = { ...FULL_ENV, SIMULATOR_KEY_PTU1: "ptu-key", SPILLWAY_E2E_WORKERS: "8" };
    const a = planFromArgs([], { gatewayUrl: "http://10.0.0.5:9080", metricsUrl: "http://10.0.0.5:9091/apisix/prometheus/metrics" }, env).remote!;
    expect(a.simulators.ptu1.key).toBe("ptu-key");
    expect(a.simulators.payg1.key).toBe("sim-key");
    expect(a.workers).toBe(8);
    expect(a.metricsUrl).toBe("http://10.0.0.5:9091/apisix/prometheus/metrics");
    const b = planFromArgs([], { gatewayUrl: "http://10.0.0.5:9080" }, { ...env, SPILLWAY_METRICS_HOST: "10.0.0.5", SPILLWAY_METRICS_PORT: "9191" }).remote!;
    expect(b.metricsUrl).toBe("http://10.0.0.5:9191/apisix/prometheus/metrics");
  });

  it("lists every missing or bad variable at once, each named (exit 3)", () => {
    const problems = problemsOf(() => planFromArgs([], { gatewayUrl: "https://gw.example.net" }, { SPILLWAY_E2E_WORKERS: "many" }));
    expect(problems.map((p) => p.split(":")[0])).toEqual([
      "GATEWAY_CLIENT_KEY_0",
      "GATEWAY_CLIENT_KEY_1",
      "GATEWAY_CLIENT_KEY_2",
      "SIMULATOR_URL_PTU1",
      "SIMULATOR_KEY_PTU1",
      "SIMULATOR_URL_PAYG1",
      "SIMULATOR_KEY_PAYG1",
      "SIMULATOR_URL_PAYG2",
      "SIMULATOR_KEY_PAYG2",
      "SPILLWAY_E2E_WORKERS",
    ]);
  });

  it("asks only for what the chosen scenarios use: one client and PAYG1 for streaming", () => {
    const plan = planFromArgs(["streaming"], { gatewayUrl: "https://gw.example.net" }, { GATEWAY_CLIENT_KEY_0: "k0", SIMULATOR_URL_PAYG1: "http://payg1:8000", SIMULATOR_KEY_PAYG1: "s" });
    expect(plan.remote!.clients).toEqual([{ name: "client-0", key: "k0" }]);
    expect(Object.keys(plan.remote!.simulators)).toEqual(["payg1"]);
  });

  it("usage-tracking needs the clients' names (the gateway's metrics label them)", () => {
    const env = { ...FULL_ENV, GATEWAY_CLIENT_NAME_1: "" };
    expect(problemsOf(() => planFromArgs(["usage-tracking"], { gatewayUrl: "https://gw.example.net" }, env))).toEqual([
      expect.stringMatching(/^GATEWAY_CLIENT_NAME_1: required by usage-tracking/),
    ]);
  });

  it("refuses URLs that are not http(s), and a bad simulator URL", () => {
    expect(() => planFromArgs([], { gatewayUrl: "gw.example.net" }, FULL_ENV)).toThrow(/--gateway-url must be an http:\/\/ or https:\/\/ URL/);
    expect(() => planFromArgs([], { gatewayUrl: "ftp://gw.example.net" }, FULL_ENV)).toThrow(UsageError);
    expect(() => planFromArgs([], { gatewayUrl: "https://gw", metricsUrl: "localhost:9091" }, FULL_ENV)).toThrow(/--metrics-url must be/);
    expect(problemsOf(() => planFromArgs([], { gatewayUrl: "https://gw" }, { ...FULL_ENV, SIMULATOR_URL_PAYG2: "payg2:8000" }))).toEqual([
      expect.stringMatching(/^SIMULATOR_URL_PAYG2: must be an http/),
    ]);
  });

  it("--print-env and --list need no environment", () => {
    expect(planFromArgs([], { gatewayUrl: "https://gw", printEnv: true }, {}).remote).toBeUndefined();
    expect(planFromArgs([], { gatewayUrl: "https://gw", list: true }, {}).list).toBe(true);
  });
});
