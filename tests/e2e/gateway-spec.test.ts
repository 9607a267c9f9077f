// A scenario's gateway settings as the renderer's environment: locally (with this run's simulators and a suffix per
// scenario) and printed for a deployed gateway; the local config.yaml's one change; the SSE framing and usage reading.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadSettings } from "../../renderer/settings.ts";
import { printableEnv, scenarioEnv } from "../../scripts/e2e/gateway-spec.ts";
import { takeFrames } from "../../scripts/e2e/http-client.ts";
import { SCENARIOS } from "../../scripts/e2e/scenarios/index.ts";
import { ptuPaygRetry } from "../../scripts/e2e/scenarios/ptu-payg.ts";
import { LOCAL_METRICS_REFRESH_S, e2eConfigYaml, localEnv } from "../../scripts/e2e/stack.ts";
import { SimulatorControl, latencyPatch } from "../../scripts/e2e/simulators.ts";
import { usageOf } from "../../scripts/e2e/traffic.ts";

const CLIENTS = [
  { name: "subscription-one", key: "client-one-0123456789abcdef" },
  { name: "subscription-two", key: "client-two-0123456789abcdef" },
  { name: "subscription-three", key: "client-three-0123456789abcdef" },
];
const SIMS = {
  ptu1: new SimulatorControl("ptu1", "http://127.0.0.1:7001", "sim-key"),
  payg1: new SimulatorControl("payg1", "http://127.0.0.1:7002", "sim-key"),
  payg2: new SimulatorControl("payg2", "http://127.0.0.1:7003", "sim-key"),
};
const BASE = { SPILLWAY_LISTEN_HOST: "127.0.0.1", SPILLWAY_LISTEN_PORT: "19080", SPILLWAY_METRICS_HOST: "127.0.0.1", SPILLWAY_METRICS_PORT: "19091", SPILLWAY_ALLOW_HTTP_BACKENDS: "true", SPILLWAY_LUA_PATH: "/tmp/lua" };

describe("scenarioEnv", () => {
  it("ptu-payg-retry: the PTU at priority 10, PAYG at 0 with the deployment mapped to the unlimited one", () => {
    const env = scenarioEnv(ptuPaygRetry.gateway("short"), (r) => ({ url: `http://${r}:8000`, key: `${r}-key`, name: r }), CLIENTS);
    expect(env).toEqual({
      AZURE_OPENAI_ENDPOINT_0: "http://ptu1:8000",
      AZURE_OPENAI_KEY_0: "ptu1-key",
      AZURE_OPENAI_NAME_0: "ptu1",
      AZURE_OPENAI_PRIORITY_0: "10",
      AZURE_OPENAI_ENDPOINT_1: "http://payg1:8000",
      AZURE_OPENAI_KEY_1: "payg1-key",
      AZURE_OPENAI_NAME_1: "payg1",
      AZURE_OPENAI_PRIORITY_1: "0",
      AZURE_OPENAI_DEPLOYMENTS_1: "gpt-35-turbo-10k-token=gpt-35-turbo-100m-token",
      GATEWAY_CLIENT_NAME_0: "subscription-one",
      GATEWAY_CLIENT_KEY_0: "client-one-0123456789abcdef",
    });
  });

  it("--print-env: references to the operator's variables, backends named by role", () => {
    const text = printableEnv(SCENARIOS.find((s) => s.name === "prioritization-token-calculating")!.gateway("long"));
    expect(text.split("\n")).toEqual([
      "AZURE_OPENAI_ENDPOINT_0=${SIMULATOR_URL_PAYG1}",
      "AZURE_OPENAI_KEY_0=${SIMULATOR_KEY_PAYG1}",
      "AZURE_OPENAI_NAME_0=payg1",
      "GATEWAY_CLIENT_NAME_0=${GATEWAY_CLIENT_NAME_0}",
      "GATEWAY_CLIENT_KEY_0=${GATEWAY_CLIENT_KEY_0}",
      "GATEWAY_CLIENT_NAME_1=${GATEWAY_CLIENT_NAME_1}",
      "GATEWAY_CLIENT_KEY_1=${GATEWAY_CLIENT_KEY_1}",
      "ENABLE_AI_RATE_LIMIT=true",
      "AI_RATE_LIMIT_HIGH_LIMIT=5000",
      "AI_RATE_LIMIT_LOW_LIMIT=2000",
      "AI_RATE_LIMIT_WINDOW_SECONDS=60",
      "",
    ]);
  });
});

describe("the local stack's environment", () => {
  it("every scenario's settings render (both loads), with the scenario's suffix on backend names and every client", () => {
    for (const s of SCENARIOS) {
      for (const load of ["short", "long"] as const) {
        const env = localEnv(BASE, s.gateway(load), SIMS, CLIENTS, "-4");
        const { settings } = loadSettings(env);
        expect(settings.backends.map((b) => b.name).every((n) => /^(ptu1|payg1|payg2)-4$/.test(n)), s.name).toBe(true);
        expect(settings.auth.clients.map((c) => c.name)).toEqual(CLIENTS.map((c) => c.name));
      }
    }
  });

  it("config.yaml: the renderer's, the exposition refreshed every second (and the chaos run's access-log fields)", () => {
    const conf = parse(e2eConfigYaml(localEnv(BASE, SCENARIOS[0]!.gateway("short"), SIMS, CLIENTS, "-1"))) as {
      plugin_attr: { prometheus: { refresh_interval: number; export_addr: { port: number } } };
      nginx_config: { http: { access_log_format: string } };
    };
    expect(conf.plugin_attr.prometheus.refresh_interval).toBe(LOCAL_METRICS_REFRESH_S);
    expect(conf.plugin_attr.prometheus.export_addr.port).toBe(19091);
    expect(conf.nginx_config.http.access_log_format).toContain('"chaos_id":"$http_x_chaos_id"');
  });

  it("PATCH /++/config: every mean set, no jitter", () => {
    expect(latencyPatch({ completions: 10 })).toEqual({
      latency: {
        open_ai_chat_completions: { mean: 0, std_dev: 0 },
        open_ai_completions: { mean: 10, std_dev: 0 },
        open_ai_embeddings: { mean: 0, std_dev: 0 },
        open_ai_responses: { mean: 0, std_dev: 0 },
        base_ms: 0,
        stream_interval_ms: 20,
      },
    });
  });
});

describe("reading answers", () => {
  it("SSE frames: split at blank lines (LF or CRLF), any chunk boundary, the rest kept", () => {
    const a = takeFrames('data: {"a":1}\n\nevent: x\ndata: 2\r\n\r\ndata: [DO');
    expect(a.frames).toEqual([{ data: '{"a":1}' }, { data: "2", event: "x" }]);
    expect(a.rest).toBe("data: [DO");
    expect(takeFrames(`${a.rest}NE]\n\n`).frames).toEqual([{ data: "[DONE]" }]);
  });

  it("usage: a body's total_tokens, or a stream's usage chunk (null usage on other chunks ignored)", () => {
    expect(usageOf({ body: '{"usage":{"total_tokens":14}}', frames: [] })).toBe(14);
    expect(usageOf({ body: "", frames: [{ data: '{"usage":null}', atMs: 1 }, { data: '{"usage":{"total_tokens":30}}', atMs: 2 }, { data: "[DONE]", atMs: 2 }] })).toBe(30);
    expect(usageOf({ body: "not json", frames: [] })).toBeUndefined();
  });
});
