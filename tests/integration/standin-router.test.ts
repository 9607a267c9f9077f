// TEST CODE. The stand-in's router (tests/host/standin/router.lua, standin/expr.lua) and its plugin stand-ins for
// what the renderer emits. The APISIX 3.18 behaviours they copy are shared cases (shared/standin-router-cases.ts)
// that standin-router.apisix.test.ts runs on real APISIX 3.18.0 too. Below them, stand-in only: what it refuses or
// skips because it does not model it (real APISIX serves all of these).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectNoErrorLines, reportLogsOnFailure } from "../rig/gateway.ts";
import { startGateway, type StandinGateway } from "../rig/nginx.ts";
import { startUpstream, type FakeUpstream } from "../rig/upstreams.ts";
import { defaultRouterSuite, emittedPluginsSuite, parameterRouterSuite } from "./shared/standin-router-cases.ts";
import { suiteFiles } from "./shared/standin-cases.ts";
import { standin } from "./shared/hosts.ts";

const host = standin();
parameterRouterSuite(host);
defaultRouterSuite(host);
emittedPluginsSuite(host);

describe("stand-in only: what it does not model is refused or skipped loudly at load", () => {
  const files = suiteFiles();
  let gw: StandinGateway | undefined;
  let echo: FakeUpstream;
  beforeAll(async () => {
    echo = await startUpstream("echo");
    const upstream = () => ({ nodes: { [echo.hostPort]: 1 } });
    const apisixYaml = files.write("not-modelled.yaml", {
      routes: [
        { id: "mock-schema-only", uri: "/schema", plugins: { mocking: { response_schema: { type: "object" } } } },
        { id: "rewrite-uri", uri: "/other", plugins: { "proxy-rewrite": { uri: "/x" } }, upstream: upstream() },
        { id: "traced", uri: "/traced", plugins: { opentelemetry: { sampler: { name: "always_on" } } }, upstream: upstream() },
        { id: "bad-vars", uri: "/bad-vars", vars: [["arg_a", "in", ["1"]]], upstream: upstream() },
      ],
      plugin_metadata: [{ id: "opentelemetry", collector: { address: "127.0.0.1:4318" } }],
    });
    const configYaml = files.write("not-modelled-config.yaml", { plugins: ["mocking", "prometheus", "proxy-rewrite", "opentelemetry", "ai-rate-limiting"] }, false);
    gw = await startGateway({ apisixYaml, configYaml });
  });
  afterAll(async () => {
    await gw?.stop();
    await echo?.close();
    files.cleanup();
  });
  beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

  it("refuses mocking response_schema, proxy-rewrite fields other than regex_uri and vars operators it lacks", () => {
    const log = gw!.errorLog();
    expect(log).toMatch(/plugin mocking err: the stand-in does not model response_schema/);
    expect(log).toMatch(/plugin proxy-rewrite err: the stand-in models only regex_uri of proxy-rewrite, not \[uri\]/);
    expect(log).toMatch(/failed to validate the 'vars' expression: operator 'in' is not modelled by the stand-in/);
  });

  it("serves a route that uses a plugin it does not model, and says so at warn", async () => {
    const res = await fetch(`${gw!.url}/traced`);
    expect(res.status).toBe(200);
    const log = gw!.errorLog();
    expect(log).toMatch(/\[warn\].*routes \[traced\]: skipping plugin \[opentelemetry\]: not modelled by the stand-in/);
    expect(log).toMatch(/\[warn\].*plugin_metadata \[opentelemetry\]: skipping it: not modelled by the stand-in/);
    expect(log).toMatch(/\[warn\].*plugin \[ai-rate-limiting\] is enabled but not modelled by the stand-in/);
  });

  it("logs no other [error] lines", () => {
    expectNoErrorLines(gw!, [/failed to check item data of \[routes\]/]);
  });
});
