// The pure renderer: golden files, YAML shape, routes, plugin confs and their validation.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { checkAiProxyMulti } from "../../renderer/apisix-shapes.ts";
import { buildApisixDoc, renderConfig, type Rendered } from "../../renderer/render.ts";
import { LOW_LANE_VARS } from "../../renderer/routes.ts";
import { loadSettings } from "../../renderer/settings.ts";
import { validateRendered } from "../../renderer/validate.ts";
import { ConfigError } from "../../lib/errors.ts";
import { FULL_ENV, FULL_SECRETS, MINIMAL_ENV } from "./fixtures.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
type Obj = Record<string, any>;

function render(env: Record<string, string>): Rendered {
  const { settings, secrets } = loadSettings(env);
  return renderConfig(settings, secrets);
}

function doc(env: Record<string, string>): Obj {
  return parse(render(env).apisixYaml, { version: "1.1" }) as Obj;
}

function compareGolden(name: string, file: string, actual: string): void {
  const golden = path.join(here, "golden", name, file);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(golden)) {
    mkdirSync(path.dirname(golden), { recursive: true });
    writeFileSync(golden, actual);
  }
  expect(actual, `${name}/${file} differs from the golden file (UPDATE_GOLDEN=1 to accept a deliberate change)`).toBe(readFileSync(golden, "utf8"));
}

describe("golden files", () => {
  it.each([
    ["minimal", MINIMAL_ENV],
    ["full", FULL_ENV],
  ])("renders the %s env exactly as recorded", (name, env) => {
    const r = render(env);
    compareGolden(name, "apisix.yaml", r.apisixYaml);
    compareGolden(name, "config.yaml", r.configYaml);
    if (r.otelYaml !== undefined) compareGolden(name, "otel-collector.yaml", r.otelYaml);
    expect(r.otelYaml === undefined).toBe(name === "minimal");
  });

  it("gives byte-identical output for the same input", () => {
    expect(render(FULL_ENV)).toEqual(render({ ...FULL_ENV }));
  });
});

describe("apisix.yaml", () => {
  it("parses as YAML, ends with #END, and has no anchors or aliases", () => {
    for (const env of [MINIMAL_ENV, FULL_ENV]) {
      const text = render(env).apisixYaml;
      expect(text.trimEnd().split("\n").at(-1)).toBe("#END");
      expect(text.slice(-10)).toMatch(/#END\s*$/); // what APISIX's loader reads
      const { settings, secrets } = loadSettings(env);
      expect(parse(text, { version: "1.1" })).toEqual(JSON.parse(JSON.stringify(buildApisixDoc(settings, secrets))));
      expect(text).not.toMatch(/[&*]a\d+\b/);
    }
  });

  it.each(["yes", "on", "~", "null", "true", "0x1F", "1e3", "0755", "123", "*a", "&b", "!c", "%d", "@e", "`f", "-g", "a:b", "#h", "'q'", '"dq"', "{x}", "[y]"])(
    "keeps the key %s a string under YAML 1.1 (what APISIX's libyaml applies)",
    (key) => {
      const d = doc({ ...MINIMAL_ENV, AZURE_OPENAI_KEY_0: key });
      expect(d.routes[1].plugins["ai-proxy-multi"].instances[0].auth.header["api-key"]).toBe(key);
    },
  );

  it("has a health route answered by the gateway itself, without auth", () => {
    const health = doc(MINIMAL_ENV).routes.find((r: Obj) => r.id === "spillway-healthz");
    expect(health).toMatchObject({ uris: ["/healthz"], methods: ["GET", "HEAD"] });
    expect(Object.keys(health.plugins)).toEqual(["mocking"]);
  });

  it("renders no test route unless E2E mode is on", () => {
    const isTest = (r: Obj): boolean => r.id.startsWith("e2e-") || r.labels?.spillway_test_route === "true" || r.plugins["proxy-rewrite"] !== undefined;
    expect(doc(MINIMAL_ENV).routes.filter(isTest)).toEqual([]);
    expect(doc({ ...FULL_ENV, GATEWAY_E2E_TEST_MODE: "false" }).routes.filter(isTest)).toEqual([]);
    const e2e = doc(FULL_ENV).routes.filter(isTest);
    expect(e2e.map((r: Obj) => r.id)).toEqual(["e2e-retry-with-payg-chat-completions", "e2e-retry-with-payg-completions", "e2e-retry-with-payg-embeddings"]);
    expect(e2e[0].plugins["proxy-rewrite"]).toEqual({ regex_uri: ["^/retry-with-payg(/openai/.*)$", "$1"] });
  });

  it("puts the auth plugin on every API route and a consumer per client, unless auth is off", () => {
    const d = doc(FULL_ENV);
    const api = d.routes.filter((r: Obj) => r.id !== "spillway-healthz" && r.id !== "spillway-not-found");
    expect(api.every((r: Obj) => r.plugins["azure-openai-auth"]?.hide_credentials === true)).toBe(true);
    expect(d.consumers).toEqual([
      { username: "team-a", plugins: { "azure-openai-auth": { key: FULL_ENV.GATEWAY_CLIENT_KEY_0, budget: { high: 100000, low: 20000 } } } },
      { username: "batch_jobs", plugins: { "azure-openai-auth": { key: FULL_ENV.GATEWAY_CLIENT_KEY_1, budget: { high: 10000, low: 200000 } } } },
    ]);
    const open = doc({ ...MINIMAL_ENV, GATEWAY_REQUIRE_AUTH: "false" });
    expect(open.routes.some((r: Obj) => r.plugins["azure-openai-auth"] !== undefined)).toBe(false);
    expect(open.consumers).toBeUndefined();
  });

  it("renders every backend as an instance of our provider, endpoint scheme+host only, key in auth.header", () => {
    const multi = doc(FULL_ENV).routes.find((r: Obj) => r.id === "spillway-chat").plugins["ai-proxy-multi"];
    expect(multi).toMatchObject({ fallback_strategy: ["http_429", "http_5xx"], balancer: { algorithm: "roundrobin" }, timeout: 90000, max_retries: 2, max_stream_duration_ms: 600000, ssl_verify: true });
    expect(multi.instances.map((i: Obj) => [i.name, i.provider, i.priority, i.weight, i.override.endpoint])).toEqual([
      ["ptu-eastus", "azure-openai-dynamic", 10, 1, "https://contoso-ptu.openai.azure.com"],
      ["payg-westus", "azure-openai-dynamic", 0, 3, "https://contoso-westus.openai.azure.com"],
      ["payg-sweden", "azure-openai-dynamic", 0, 1, "https://contoso-sweden.openai.azure.com:8443"],
    ]);
    expect(multi.instances[1].auth).toEqual({ header: { "api-key": FULL_ENV.AZURE_OPENAI_KEY_1 } });
    expect(multi.instances[1].provider_conf).toEqual({ deployments: { "gpt-4o": "gpt-4o-westus", "text-embedding-3-small": "emb-small" } });
    expect(multi.instances[0].provider_conf).toBeUndefined();
  });

  it("leaves body-less calls (models, responses get/delete/cancel) to spillway-failover's own backends, not ai-proxy-multi", () => {
    const routes = doc(FULL_ENV).routes as Obj[];
    for (const id of ["spillway-models", "spillway-responses-manage", "spillway-responses-cancel"]) {
      const plugins = routes.find((r) => r.id === id)!.plugins;
      expect(plugins["ai-proxy-multi"]).toBeUndefined();
      expect(plugins["spillway-failover"].backends).toEqual([
        { name: "ptu-eastus", endpoint: "https://contoso-ptu.openai.azure.com", priority: 10, auth: { header: { "api-key": FULL_ENV.AZURE_OPENAI_KEY_0 } } },
        { name: "payg-westus", endpoint: "https://contoso-westus.openai.azure.com", priority: 0, auth: { header: { "api-key": FULL_ENV.AZURE_OPENAI_KEY_1 } } },
        { name: "payg-sweden", endpoint: "https://contoso-sweden.openai.azure.com:8443", priority: 0, auth: { header: { "api-key": FULL_ENV.AZURE_OPENAI_KEY_2 } } },
      ]);
      expect(plugins["spillway-failover"].redis.host).toBe("spillway-redis.internal"); // same cooldown state as the AI routes
    }
    expect(routes.filter((r) => r.plugins["ai-proxy-multi"] !== undefined).every((r) => r.plugins["spillway-failover"].backends === undefined)).toBe(true);
  });

  it("renders health checks per instance (where 3.18 reads them), never at plugin level, and no per-instance timeout", () => {
    const multi = doc(FULL_ENV).routes.find((r: Obj) => r.id === "spillway-chat").plugins["ai-proxy-multi"];
    expect(multi.checks).toBeUndefined();
    expect(multi.instances[2].checks.active).toMatchObject({ type: "https", host: "contoso-sweden.openai.azure.com", port: 8443, http_path: "/openai/v1/models" });
    expect(multi.instances[2].checks.active.unhealthy.http_statuses).not.toContain(429);
    expect(multi.instances.every((i: Obj) => i.timeout === undefined)).toBe(true);
    const none = doc(MINIMAL_ENV).routes.find((r: Obj) => r.id === "spillway-chat").plugins["ai-proxy-multi"];
    expect(none.instances[0].checks).toBeUndefined();
  });

  it("renders the failover conf with only the values set, plus Redis", () => {
    expect(doc(MINIMAL_ENV).routes.find((r: Obj) => r.id === "spillway-chat").plugins["spillway-failover"]).toEqual({});
    expect(doc(FULL_ENV).routes.find((r: Obj) => r.id === "spillway-chat").plugins["spillway-failover"]).toEqual({
      default_429_cooldown_ms: 15000, max_cooldown_ms: 60000, error_threshold: 3, first_byte_timeout_ms: 120000, max_wait_ms: 2000,
      low_reserve: { tokens_percent: 30, requests: 20 },
      redis: { host: "spillway-redis.internal", port: 6380, password: FULL_ENV.SPILLWAY_REDIS_PASSWORD, ssl: true },
    });
  });

  it("renders per-consumer token limits (rules on $consumer_name, sized by the consumer's budget) on usage routes, and a low lane matched first", () => {
    const routes = doc(FULL_ENV).routes as Obj[];
    const chat = routes.find((r) => r.id === "spillway-chat")!;
    expect(chat.plugins["ai-rate-limiting"]).toEqual({
      rules: [{ count: "$spillway_budget_high", time_window: 60, key: "$consumer_name", header_prefix: "consumer" }],
      limit_strategy: "total_tokens", show_limit_quota_header: true, rejected_code: 429, policy: "redis",
      redis_host: "spillway-redis.internal", redis_port: 6380, redis_password: FULL_ENV.SPILLWAY_REDIS_PASSWORD, redis_ssl: true,
    });
    const low = routes.find((r) => r.id === "spillway-chat-low")!;
    expect(low).toMatchObject({ priority: 10, uris: chat.uris, methods: chat.methods, vars: LOW_LANE_VARS });
    expect(low.plugins["ai-rate-limiting"].rules[0]).toMatchObject({ count: "$spillway_budget_low", header_prefix: "consumer-low" });
    expect(routes.find((r) => r.id === "spillway-models")!.plugins["ai-rate-limiting"]).toBeUndefined();
    expect(routes.some((r) => r.id === "spillway-models-low")).toBe(false);
  });

  it("renders one gateway-wide bucket with AI_RATE_LIMIT_PER=gateway", () => {
    const d = doc({ ...MINIMAL_ENV, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "5000", AI_RATE_LIMIT_PER: "gateway", AI_RATE_LIMIT_WINDOW_SECONDS: "10" });
    expect(d.routes.find((r: Obj) => r.id === "spillway-embeddings").plugins["ai-rate-limiting"]).toEqual({
      limit: 5000, time_window: 10, limit_strategy: "total_tokens", show_limit_quota_header: true, rejected_code: 429, policy: "local",
    });
  });

  it("adds tracing only when telemetry is on, with the collector in plugin_metadata", () => {
    expect(doc(MINIMAL_ENV).plugin_metadata).toBeUndefined();
    const d = doc(FULL_ENV);
    expect(d.plugin_metadata).toEqual([{ id: "opentelemetry", trace_id_source: "random", resource: { "service.name": "spillway" }, collector: { address: "localhost:4318", request_timeout: 3 } }]);
    expect(d.routes.find((r: Obj) => r.id === "spillway-chat").plugins.opentelemetry).toEqual({
      sampler: { name: "parent_base", options: { root: { name: "trace_id_ratio", options: { fraction: 0.5 } } } },
    });
  });
});

describe("route matching (radixtree_uri_with_parameter: ':x' is one segment)", () => {
  /** The routes other than the catch-all (`/*`, tried last by radixtree) that match. */
  function matches(routes: Obj[], method: string, uri: string): string[] {
    return routes
      .filter((r) => !r.id.endsWith("-low") && r.id !== "spillway-not-found" && r.methods.includes(method))
      .filter((r) => (r.uris as string[]).some((u) => new RegExp(`^${u.replace(/:[a-z_]+/g, "[^/]+")}$`).test(uri)))
      .map((r) => r.id);
  }
  const routes = doc(MINIMAL_ENV).routes as Obj[];

  it.each([
    ["POST", "/openai/v1/chat/completions", "spillway-chat"],
    ["POST", "/openai/deployments/gpt-4o/chat/completions", "spillway-chat"],
    ["POST", "/openai/deployments/gpt-35/completions", "spillway-completions"],
    ["POST", "/openai/v1/completions", "spillway-completions"],
    ["POST", "/openai/deployments/emb/embeddings", "spillway-embeddings"],
    ["POST", "/openai/v1/responses", "spillway-responses"],
    ["GET", "/openai/v1/responses/resp_123", "spillway-responses-manage"],
    ["DELETE", "/openai/v1/responses/resp_123", "spillway-responses-manage"],
    ["GET", "/openai/v1/responses/resp_123/input_items", "spillway-responses-manage"],
    ["POST", "/openai/v1/responses/resp_123/cancel", "spillway-responses-cancel"],
    ["GET", "/openai/v1/models", "spillway-models"],
    ["GET", "/healthz", "spillway-healthz"],
  ])("%s %s → exactly %s", (method, uri, id) => {
    expect(matches(routes, method, uri)).toEqual([id]);
  });

  it.each([
    ["POST", "/openai/deployments/a/b/completions"],
    ["POST", "/openai/deployments/x/chat/completions/extra"],
    ["GET", "/openai/v1/chat/completions"],
    ["POST", "/openai/v1/images/generations"],
  ])("%s %s matches no API route (the catch-all answers it)", (method, uri) => {
    expect(matches(routes, method, uri)).toEqual([]);
  });

  it("ends with a catch-all that answers an OpenAI-shaped JSON 404 itself, for every method, without auth", () => {
    const last = routes[routes.length - 1]!;
    expect(last).toMatchObject({ id: "spillway-not-found", uris: ["/*"], priority: -1 });
    expect(last.methods).toEqual(expect.arrayContaining(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]));
    expect(Object.keys(last.plugins)).toEqual(["mocking"]);
    const mocking = last.plugins.mocking;
    expect(mocking).toMatchObject({ response_status: 404, content_type: "application/json", with_mock_header: false });
    expect(JSON.parse(mocking.response_example)).toEqual({ error: { message: expect.any(String), type: "invalid_request_error", param: null, code: "404" } });
    // mocking substitutes $vars in its body
    expect(mocking.response_example).not.toContain("$");
    expect(doc(FULL_ENV).routes.filter((r: Obj) => r.uris.includes("/*")).map((r: Obj) => r.id)).toEqual(["spillway-not-found"]);
  });

  it("selects the parameter router in config.yaml", () => {
    expect((parse(render(MINIMAL_ENV).configYaml) as Obj).apisix.router).toEqual({ http: "radixtree_uri_with_parameter" });
  });
});

describe("config.yaml and otel-collector.yaml", () => {
  it("runs APISIX as a standalone data plane with our Lua, hook, plugins and shared dict", () => {
    const c = parse(render(MINIMAL_ENV).configYaml) as Obj;
    expect(c.deployment).toEqual({ role: "data_plane", role_data_plane: { config_provider: "yaml" } });
    expect(c.apisix).toMatchObject({ extra_lua_path: "/opt/spillway/lua/?.lua", lua_module_hook: "spillway.hook", enable_admin: false, node_listen: [{ ip: "0.0.0.0", port: 9080 }] });
    expect(c.plugins).toEqual(["azure-openai-auth", "mocking", "ai-rate-limiting", "spillway-failover", "ai-proxy-multi", "proxy-rewrite", "prometheus"]);
    expect(c.nginx_config.http.custom_lua_shared_dict).toEqual({ "spillway-cooldown": "10m" });
    expect(c.plugin_attr.prometheus.export_addr).toEqual({ ip: "0.0.0.0", port: 9091 });
    expect(c.plugin_attr["ai-proxy"]).toBeUndefined(); // the runtime's default client unless asked
  });

  it("sends nginx's own error pages (header too large, malformed request, Lua failure) to OpenAI-shaped JSON", () => {
    const snippet = (parse(render(MINIMAL_ENV).configYaml) as Obj).nginx_config.http_server_configuration_snippet as string;
    const statuses = [400, 404, 408, 411, 413, 414, 494, 500, 501, 502, 503, 504];
    for (const status of statuses) {
      expect(snippet).toContain(`error_page ${status} =${status === 494 ? 431 : status} /spillway-error/${status};`);
      expect(snippet).toContain(`location = /spillway-error/${status} {\n    internal;`);
    }
    // 494 is nginx's internal "request header too large"; the client gets 431.
    const bodies = [...snippet.matchAll(/return (\d{3}) '([^']*)';/g)].map((m) => ({ status: Number(m[1]), body: JSON.parse(m[2]!) }));
    expect(bodies).toHaveLength(statuses.length);
    expect(bodies.map((b) => b.status)).toContain(431);
    expect(bodies.map((b) => b.status)).not.toContain(494);
    for (const b of bodies) {
      expect(b.body).toEqual({ error: { message: expect.any(String), type: expect.stringMatching(/^(invalid_request_error|server_error)$/), param: null, code: String(b.status) } });
    }
    expect(snippet.match(/default_type application\/json;/g)).toHaveLength(statuses.length);
  });

  it("declares the shared dict under the name the failover plugin uses", () => {
    const source = readFileSync(path.join(here, "../../plugins/spillway-failover/cooldown-store.ts"), "utf8");
    const name = /export const SHARED_DICT = "([^"]+)"/.exec(source)?.[1];
    expect(Object.keys((parse(render(MINIMAL_ENV).configYaml) as Obj).nginx_config.http.custom_lua_shared_dict)).toEqual([name]);
  });

  it("selects the AI HTTP client only when SPILLWAY_AI_HTTP_CLIENT is set, and enables opentelemetry with telemetry", () => {
    const c = parse(render(FULL_ENV).configYaml) as Obj;
    expect(c.plugin_attr["ai-proxy"]).toEqual({ http_client: "lua-resty-http" });
    expect(c.plugins).toContain("opentelemetry");
    expect(c.nginx_config.error_log_level).toBe("warn");
  });

  it("keeps secrets out of config.yaml and the collector config", () => {
    const r = render(FULL_ENV);
    for (const s of FULL_SECRETS) {
      expect(r.configYaml).not.toContain(s);
      expect(r.otelYaml).not.toContain(s);
    }
    const otel = parse(r.otelYaml!) as Obj;
    expect(otel.exporters.azuremonitor).toEqual({ connection_string: "${env:APPLICATIONINSIGHTS_CONNECTION_STRING}" });
    expect(otel.service.pipelines).toMatchObject({ traces: { exporters: ["azuremonitor"] }, metrics: { exporters: ["prometheusremotewrite"] } });
    expect(otel.receivers.prometheus.config.scrape_configs[0].static_configs).toEqual([{ targets: ["127.0.0.1:9091"] }]);
  });

  it("falls back to the debug exporter when no Azure exporter is configured", () => {
    const otel = parse(render({ ...MINIMAL_ENV, OTEL_COLLECTOR_ENDPOINT: "collector:4318" }).otelYaml!) as Obj;
    expect(otel.service.pipelines.traces.exporters).toEqual(["debug"]);
    expect(otel.service.pipelines.metrics.exporters).toEqual(["debug"]);
    expect(otel.receivers.otlp.protocols.http.endpoint).toBe("0.0.0.0:4318");
  });
});

describe("validation of rendered confs", () => {
  const base = (): Obj => {
    const { settings, secrets } = loadSettings(MINIMAL_ENV);
    return JSON.parse(JSON.stringify(buildApisixDoc(settings, secrets))) as Obj;
  };

  function problems(d: Obj): string[] {
    try {
      validateRendered(d);
      return [];
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
  }

  it("accepts what the renderer produces", () => {
    expect(problems(base())).toEqual([]);
  });

  it("checks our plugins' confs with ajv against the plugin schema objects", () => {
    const d = base();
    d.routes[1].plugins["spillway-failover"] = { error_threshold: 0, bogus: true };
    d.routes[1].plugins["azure-openai-auth"] = { hide_credentials: "yes" };
    d.consumers[0].plugins["azure-openai-auth"].key = "too-short";
    const out = problems(d).join("\n");
    expect(out).toContain("route spillway-chat plugin spillway-failover/error_threshold: must be >= 1");
    expect(out).toContain("route spillway-chat plugin spillway-failover: must NOT have additional properties");
    expect(out).toContain("route spillway-chat plugin azure-openai-auth/hide_credentials: must be boolean");
    expect(out).toContain("consumer team-a plugin azure-openai-auth/key: must NOT have fewer than 16 characters");
    expect(out).not.toContain("too-short");
  });

  it("checks provider_conf against the provider's schema", () => {
    const d = base();
    d.routes[1].plugins["ai-proxy-multi"].instances[0].provider_conf = { deployments: { "gpt-4o": "" } };
    expect(problems(d).join("\n")).toContain("ai-proxy-multi/instances/0/provider_conf/deployments/gpt-4o: must NOT have fewer than 1 characters");
  });

  it("rejects the original's ignored keys: plugin-level checks and per-instance timeout", () => {
    const conf = base().routes[1].plugins["ai-proxy-multi"];
    conf.checks = { active: {} };
    conf.instances[0].timeout = { connect: 60, send: 300, read: 300 };
    expect(checkAiProxyMulti(conf, "x", "azure-openai-dynamic")).toEqual([
      "x/checks: is not a key APISIX 3.18 reads here",
      "x/instances/0/timeout: is not a key APISIX 3.18 reads here",
    ]);
  });

  it.each([
    ["an endpoint with a path", (c: Obj) => (c.instances[0].override.endpoint = "https://a.b/openai"), "x/instances/0/override/endpoint: must be scheme://host[:port] with no path (a path would replace the client's)"],
    ["a missing weight", (c: Obj) => delete c.instances[0].weight, "x/instances/0/weight: is required"],
    ["an unknown provider", (c: Obj) => (c.instances[0].provider = "azure"), "x/instances/0/provider: must be one of"],
    ["http_400 fallback", (c: Obj) => (c.fallback_strategy = ["http_400"]), "x/fallback_strategy: must be"],
    ["a timeout above 600000", (c: Obj) => (c.timeout = 900000), "x/timeout: must be <= 600000"],
    ["duplicate instance names", (c: Obj) => c.instances.push({ ...c.instances[0] }), "x/instances: instance names must be unique"],
    ["bad health-check statuses", (c: Obj) => (c.instances[0].checks = { active: { healthy: { http_statuses: [100] } } }), "x/instances/0/checks/active/healthy/http_statuses: must be a non-empty list"],
    ["chash without hash_on", (c: Obj) => (c.balancer = { algorithm: "chash" }), "x/balancer/hash_on: is required with chash"],
  ])("the typed ai-proxy-multi check catches %s", (_n, mutate, expected) => {
    const conf = base().routes[1].plugins["ai-proxy-multi"];
    mutate(conf);
    expect(checkAiProxyMulti(conf, "x", "azure-openai-dynamic").join("\n")).toContain(expected);
  });

  it("refuses a value APISIX would substitute as ${{ENV}}", () => {
    expect(() => render({ ...MINIMAL_ENV, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "9", AI_RATE_LIMIT_REJECT_MESSAGE: "slow ${{HOME}}" })).toThrow(ConfigError);
  });
});
