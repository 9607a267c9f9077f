// TEST CODE. The stand-in's router (tests/host/standin/router.lua, standin/expr.lua) and its plugin stand-ins for
// what the renderer emits (mocking, prometheus, proxy-rewrite; ai-rate-limiting and opentelemetry not modelled).
// Every route answers with its own id through the mocking stand-in, so each case shows which route APISIX's
// radixtree rules pick.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toApisixYaml } from "../rig/apisix-yaml.ts";
import { expectNoErrorLines, reportLogsOnFailure } from "../rig/gateway.ts";
import { startGateway, type StandinGateway } from "../rig/nginx.ts";
import { startUpstream, type FakeUpstream } from "../rig/upstreams.ts";

let dir: string;

function write(name: string, doc: unknown, end: boolean): string {
  const file = path.join(dir, name);
  writeFileSync(file, toApisixYaml(doc, end));
  return file;
}

/** A route that answers 200 with `{"route":"<id>"}` (mocking), so the response names the route that matched. */
function named(id: string, uris: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, uris, plugins: { mocking: { response_example: JSON.stringify({ route: id }), with_mock_header: false } }, ...extra };
}

async function which(gw: StandinGateway, uri: string, init: RequestInit = {}): Promise<string> {
  const res = await fetch(gw.url + uri, init);
  if (res.status === 404) return "404";
  expect(res.status).toBe(200);
  return ((await res.json()) as { route: string }).route;
}

/** GET with a chosen Host header (fetch does not let a caller set Host). */
function routeForHost(gw: StandinGateway, uri: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${uri}`, { headers: { host } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve(res.statusCode === 404 ? "404" : (JSON.parse(body) as { route: string }).route));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "spillway-router-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe("stand-in router: radixtree_uri_with_parameter (config.yaml apisix.router.http)", () => {
  let gw: StandinGateway | undefined;
  beforeAll(async () => {
    const apisixYaml = write("params.yaml", { routes: ROUTES }, true);
    const configYaml = write("params-config.yaml", { apisix: { router: { http: "radixtree_uri_with_parameter" } } }, false);
    gw = await startGateway({ apisixYaml, configYaml });
  });
  afterAll(() => gw?.stop());
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
    const res = await fetch(`${gw!.url}/nowhere`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error_msg: "404 Route Not Found" });
    expectNoErrorLines(gw!);
  });
});

describe("stand-in router: default router (radixtree_host_uri), no parameters", () => {
  let gw: StandinGateway | undefined;
  beforeAll(async () => {
    const apisixYaml = write("default.yaml", {
      routes: [named("literal", ["/a/:b"]), named("host-prefix", ["/h/*"], { hosts: ["api.example"] }), named("any-host", ["/h/x"])],
    }, true);
    gw = await startGateway({ apisixYaml });
  });
  afterAll(() => gw?.stop());
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

describe("stand-in plugins for what the renderer emits", () => {
  let gw: StandinGateway | undefined;
  let echo: FakeUpstream;
  beforeAll(async () => {
    echo = await startUpstream("echo");
    const upstream = { nodes: { [echo.hostPort]: 1 } };
    const apisixYaml = write("plugins.yaml", {
      routes: [
        {
          id: "mock-full",
          uri: "/mock",
          plugins: { mocking: { response_status: 203, content_type: "text/plain; charset=utf-8", response_example: "pong", response_headers: { "x-extra": "1" } } },
        },
        { id: "mock-bad-type", uri: "/bad", plugins: { mocking: { content_type: "image/png", response_example: "x" } } },
        { id: "mock-schema-only", uri: "/schema", plugins: { mocking: { response_schema: { type: "object" } } } },
        { id: "metrics-ok", uri: "/metrics-ok", plugins: { prometheus: { prefer_name: true } }, upstream },
        { id: "metrics-bad", uri: "/metrics-bad", plugins: { prometheus: { prefer_name: "yes" } }, upstream },
        { id: "rewrite", uri: "/e2e/*", plugins: { "proxy-rewrite": { regex_uri: ["^/e2e(/openai/.*)$", "$1"] } }, upstream },
        { id: "rewrite-odd", uri: "/odd", plugins: { "proxy-rewrite": { regex_uri: ["^/a", "/b", "^/c"] } }, upstream },
        { id: "rewrite-uri", uri: "/other", plugins: { "proxy-rewrite": { uri: "/x" } }, upstream },
        { id: "traced", uri: "/traced", plugins: { opentelemetry: { sampler: { name: "always_on" } } }, upstream },
        { id: "bad-vars", uri: "/bad-vars", vars: [["arg_a", "in", ["1"]]], upstream },
      ],
      plugin_metadata: [{ id: "opentelemetry", collector: { address: "127.0.0.1:4318" } }],
    }, true);
    const configYaml = write("plugins-config.yaml", { plugins: ["mocking", "prometheus", "proxy-rewrite", "opentelemetry", "ai-rate-limiting"] }, false);
    gw = await startGateway({ apisixYaml, configYaml });
  });
  afterAll(async () => {
    await gw?.stop();
    await echo.close();
  });
  beforeEach((ctx) => reportLogsOnFailure(ctx, () => gw));

  it("mocking answers with response_status, content_type, response_example, response_headers and x-mock-by by default", async () => {
    const res = await fetch(`${gw!.url}/mock`);
    expect(res.status).toBe(203);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("x-mock-by")).toBe("APISIX/3.18.0");
    expect(res.headers.get("x-extra")).toBe("1");
    expect(await res.text()).toBe("pong");
  });

  it("refuses what APISIX refuses, and what the stand-in does not model, loudly at load", () => {
    const log = gw!.errorLog();
    expect(log).toMatch(/failed to check item data of \[routes\] err:failed to check the configuration of plugin mocking err: unsupported content type!/);
    expect(log).toMatch(/plugin mocking err: the stand-in does not model response_schema/);
    expect(log).toMatch(/plugin prometheus err: property "prefer_name" validation failed: wrong type: expected boolean, got string/);
    expect(log).toMatch(/plugin proxy-rewrite err: The length of regex_uri should be an even number/);
    expect(log).toMatch(/plugin proxy-rewrite err: the stand-in models only regex_uri of proxy-rewrite, not \[uri\]/);
    expect(log).toMatch(/failed to validate the 'vars' expression: operator 'in' is not modelled by the stand-in/);
  });

  it("prometheus accepts prefer_name and the route is served", async () => {
    const res = await fetch(`${gw!.url}/metrics-ok`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { path: string }).path).toBe("/metrics-ok");
  });

  it("proxy-rewrite regex_uri rewrites the upstream uri and keeps the query", async () => {
    const res = await fetch(`${gw!.url}/e2e/openai/v1/models?api-version=1`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { path: string }).path).toBe("/openai/v1/models?api-version=1");
    const unmatched = await fetch(`${gw!.url}/e2e/elsewhere`);
    expect(((await unmatched.json()) as { path: string }).path).toBe("/e2e/elsewhere");
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
