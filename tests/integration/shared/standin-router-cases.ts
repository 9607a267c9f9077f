/**
 * TEST CODE. What the stand-in's router (tests/host/standin/router.lua, standin/expr.lua) and its stand-ins for the
 * plugins the renderer emits (mocking, prometheus, proxy-rewrite) claim to copy from APISIX 3.18.0, written once
 * and run on both hosts: standin-router.test.ts runs it on the stand-in, standin-router.apisix.test.ts on real
 * APISIX. Every route answers with its own id through mocking, so each case shows which route the radixtree rules
 * pick.
 */
import { request } from "node:http";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { expectNoErrorLines, reportLogsOnFailure, type Gateway } from "../../rig/gateway.ts";
import { startUpstream, type FakeUpstream } from "../../rig/upstreams.ts";
import { describeOnHost, NEW_CONNECTION, type HostChoice } from "./hosts.ts";
import { suiteFiles } from "./standin-cases.ts";

/** A route that answers 200 with `{"route":"<id>"}` (mocking), so the response names the route that matched. */
export function named(id: string, uris: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, uris, plugins: { mocking: { response_example: JSON.stringify({ route: id }), with_mock_header: false } }, ...extra };
}

async function which(gw: Gateway, uri: string, init: RequestInit = {}): Promise<string> {
  const res = await fetch(gw.url + uri, { ...init, headers: { ...NEW_CONNECTION, ...(init.headers as Record<string, string>) } });
  if (res.status === 404) return "404";
  expect(res.status).toBe(200);
  return ((await res.json()) as { route: string }).route;
}

/** GET with a chosen Host header (fetch does not let a caller set Host). */
function routeForHost(gw: Gateway, uri: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${uri}`, { headers: { host, ...NEW_CONNECTION } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve(res.statusCode === 404 ? "404" : (JSON.parse(body) as { route: string }).route));
    });
    req.on("error", reject);
    req.end();
  });
}

const ROUTES = [
  named("chat", ["/openai/v1/chat/completions", "/openai/deployments/:deployment/chat/completions"], { methods: ["POST"] }),
  named("chat-low", ["/openai/v1/chat/completions", "/openai/deployments/:deployment/chat/completions"], {
    methods: ["POST"],
    priority: 10,
    vars: [["http_x_priority", "~*", "^\\s*low\\s*$"]],
  }),
  named("completions", ["/openai/deployments/:deployment/completions"], { methods: ["POST"] }),
  named("manage", ["/openai/v1/responses/:response_id", "/openai/v1/responses/:response_id/input_items"], { methods: ["GET", "DELETE"] }),
  named("cancel", ["/openai/v1/responses/:response_id/cancel"], { methods: ["POST"] }),
  named("models", ["/openai/v1/models", "/openai/v1/models/:model"], { methods: ["GET"] }),
  named("files-prefix", ["/files/*"]),
  named("files-deeper", ["/files/a/*"]),
  named("files-exact", ["/files/a/b"]),
  named("files-named-rest", ["/docs/:section/*rest"]),
  named("vars-or", ["/or"], { vars: ["OR", ["arg_a", "==", "1"], ["arg_b", "!", "~~", "^x"]] }),
];

export function parameterRouterSuite(choice: HostChoice): void {
  describeOnHost(choice, "APISIX 3.18 router radixtree_uri_with_parameter (config.yaml apisix.router.http)", (host) => {
    const files = suiteFiles();
    let gw: Gateway | undefined;
    beforeAll(async () => {
      const apisixYaml = files.write("params.yaml", { routes: ROUTES });
      const configYaml = files.write("params-config.yaml", { apisix: { router: { http: "radixtree_uri_with_parameter" } } }, false);
      gw = await host.start({ apisixYaml, configYaml });
    });
    afterAll(async () => {
      await gw?.stop();
      files.cleanup();
    });
    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

    it(":name matches exactly one non-empty segment", async () => {
      expect(await which(gw!, "/openai/deployments/gpt-4o/chat/completions", { method: "POST" })).toBe("chat");
      expect(await which(gw!, "/openai/deployments/gpt-4o/completions", { method: "POST" })).toBe("completions");
      expect(await which(gw!, "/openai/deployments/a/b/chat/completions", { method: "POST" })).toBe("404");
      expect(await which(gw!, "/openai/v1/models/")).toBe("404");
      expect(await which(gw!, "/openai/v1/models/gpt-4o")).toBe("models");
      expect(await which(gw!, "/openai/v1/models")).toBe("models");
      expect(await which(gw!, "/openai/deployments/gpt-4o/chat/completions/x", { method: "POST" })).toBe("404");
    });

    it("routes under one prefix are told apart by their full path and methods", async () => {
      expect(await which(gw!, "/openai/v1/responses/resp_1")).toBe("manage");
      expect(await which(gw!, "/openai/v1/responses/resp_1/input_items", { method: "DELETE" })).toBe("manage");
      expect(await which(gw!, "/openai/v1/responses/resp_1/cancel", { method: "POST" })).toBe("cancel");
      expect(await which(gw!, "/openai/v1/responses/resp_1/cancel")).toBe("404");
      expect(await which(gw!, "/openai/v1/responses/resp_1", { method: "POST" })).toBe("404");
    });

    it("an exact path beats every prefix; the longest prefix is tried first; `*name` takes the rest", async () => {
      expect(await which(gw!, "/files/a/b")).toBe("files-exact");
      expect(await which(gw!, "/files/a/c")).toBe("files-deeper");
      expect(await which(gw!, "/files/a/")).toBe("files-deeper");
      expect(await which(gw!, "/files/z")).toBe("files-prefix");
      expect(await which(gw!, "/docs/intro/a/b")).toBe("files-named-rest");
      expect(await which(gw!, "/docs/intro/")).toBe("files-named-rest");
      expect(await which(gw!, "/docs//x")).toBe("404");
    });

    it("vars: a higher-priority route with `~*` (case-insensitive regex) wins only when its expression holds", async () => {
      const post = (headers: Record<string, string>): RequestInit => ({ method: "POST", headers });
      expect(await which(gw!, "/openai/v1/chat/completions", post({ "x-priority": "low" }))).toBe("chat-low");
      expect(await which(gw!, "/openai/deployments/d/chat/completions", post({ "x-priority": " LoW " }))).toBe("chat-low");
      expect(await which(gw!, "/openai/v1/chat/completions", post({ "x-priority": "lowest" }))).toBe("chat");
      expect(await which(gw!, "/openai/v1/chat/completions", post({}))).toBe("chat");
    });

    it("vars: OR of expressions, and `!` reverses one", async () => {
      expect(await which(gw!, "/or?a=1&b=xyz")).toBe("vars-or");
      expect(await which(gw!, "/or?a=2&b=yes")).toBe("vars-or");
      expect(await which(gw!, "/or?a=2&b=xyz")).toBe("404");
      // a missing variable never matches a regex, so "! ~~" holds
      expect(await which(gw!, "/or?a=2")).toBe("vars-or");
    });

    it("answers APISIX's 404 body and logs no [error] lines", async () => {
      const res = await fetch(`${gw!.url}/nowhere`, { headers: NEW_CONNECTION });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error_msg: "404 Route Not Found" });
      expectNoErrorLines(gw!);
    });
  });
}

export function defaultRouterSuite(choice: HostChoice): void {
  describeOnHost(choice, "APISIX 3.18 default router (radixtree_host_uri), no parameters", (host) => {
    const files = suiteFiles();
    let gw: Gateway | undefined;
    beforeAll(async () => {
      const apisixYaml = files.write("default.yaml", {
        routes: [named("literal", ["/a/:b"]), named("host-prefix", ["/h/*"], { hosts: ["api.example"] }), named("any-host", ["/h/x"])],
      });
      gw = await host.start({ apisixYaml });
    });
    afterAll(async () => {
      await gw?.stop();
      files.cleanup();
    });
    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

    it("treats `:` as plain text", async () => {
      expect(await which(gw!, "/a/:b")).toBe("literal");
      expect(await which(gw!, "/a/x")).toBe("404");
    });

    it("tries routes with a matching host before routes without one", async () => {
      expect(await routeForHost(gw!, "/h/x", "API.example")).toBe("host-prefix");
      expect(await routeForHost(gw!, "/h/y", "other.example")).toBe("404");
      expect(await which(gw!, "/h/x")).toBe("any-host");
      expectNoErrorLines(gw!);
    });
  });
}

export function emittedPluginsSuite(choice: HostChoice): void {
  describeOnHost(choice, "APISIX 3.18 plugins the renderer emits (mocking, prometheus, proxy-rewrite)", (host) => {
    const files = suiteFiles();
    let gw: Gateway | undefined;
    let echo: FakeUpstream;
    beforeAll(async () => {
      echo = await startUpstream("echo");
      // A new object per route: a YAML alias would be one shared table in APISIX (divergence 9).
      const upstream = () => ({ nodes: { [echo.hostPort]: 1 } });
      const apisixYaml = files.write("plugins.yaml", {
        routes: [
          {
            id: "mock-full",
            uri: "/mock",
            plugins: { mocking: { response_status: 203, content_type: "text/plain; charset=utf-8", response_example: "pong", response_headers: { "x-extra": "1" } } },
          },
          { id: "mock-bad-type", uri: "/bad", plugins: { mocking: { content_type: "image/png", response_example: "x" } } },
          { id: "metrics-ok", uri: "/metrics-ok", plugins: { prometheus: { prefer_name: true } }, upstream: upstream() },
          { id: "metrics-bad", uri: "/metrics-bad", plugins: { prometheus: { prefer_name: "yes" } }, upstream: upstream() },
          { id: "rewrite", uri: "/e2e/*", plugins: { "proxy-rewrite": { regex_uri: ["^/e2e(/openai/.*)$", "$1"] } }, upstream: upstream() },
          { id: "rewrite-odd", uri: "/odd", plugins: { "proxy-rewrite": { regex_uri: ["^/a", "/b", "^/c"] } }, upstream: upstream() },
        ],
      });
      const configYaml = files.write("plugins-config.yaml", { plugins: ["mocking", "prometheus", "proxy-rewrite"] }, false);
      gw = await host.start({ apisixYaml, configYaml });
    });
    afterAll(async () => {
      await gw?.stop();
      await echo?.close();
      files.cleanup();
    });
    beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

    it("mocking answers with response_status, content_type, response_example, response_headers and x-mock-by by default", async () => {
      const res = await fetch(`${gw!.url}/mock`, { headers: NEW_CONNECTION });
      expect(res.status).toBe(203);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(res.headers.get("x-mock-by")).toBe("APISIX/3.18.0");
      expect(res.headers.get("x-extra")).toBe("1");
      expect(await res.text()).toBe("pong");
    });

    it("refuses invalid confs at load with APISIX's messages, and does not serve those routes", async () => {
      const log = gw!.errorLog();
      expect(log).toMatch(/failed to check item data of \[routes\] err:failed to check the configuration of plugin mocking err: unsupported content type!/);
      expect(log).toMatch(/plugin prometheus err: property "prefer_name" validation failed: wrong type: expected boolean, got string/);
      expect(log).toMatch(/plugin proxy-rewrite err: The length of regex_uri should be an even number/);
      for (const uri of ["/bad", "/metrics-bad", "/odd"]) expect((await fetch(gw!.url + uri, { headers: NEW_CONNECTION })).status).toBe(404);
    });

    it("prometheus accepts prefer_name and the route is served", async () => {
      const res = await fetch(`${gw!.url}/metrics-ok`, { headers: NEW_CONNECTION });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { path: string }).path).toBe("/metrics-ok");
    });

    it("proxy-rewrite regex_uri rewrites the upstream uri and keeps the query", async () => {
      const res = await fetch(`${gw!.url}/e2e/openai/v1/models?api-version=1`, { headers: NEW_CONNECTION });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { path: string }).path).toBe("/openai/v1/models?api-version=1");
      const unmatched = await fetch(`${gw!.url}/e2e/elsewhere`, { headers: NEW_CONNECTION });
      expect(((await unmatched.json()) as { path: string }).path).toBe("/e2e/elsewhere");
    });

    it("logs no other [error] lines", () => {
      expectNoErrorLines(gw!, [/failed to check item data of \[routes\]/]);
    });
  });
}
