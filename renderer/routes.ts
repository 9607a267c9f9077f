/**
 * The routes Spillway serves. Paths use radixtree parameters (`:deployment`), matched one segment each by the
 * `radixtree_uri_with_parameter` router that config.yaml selects: the original's mid-path `*` was greedy, so
 * `/openai/deployments/*\/completions` also caught chat paths. Here no two routes can match the same request.
 */
import { PLUGIN_NAME as AUTH } from "../plugins/azure-openai-auth/schema.ts";
import { PLUGIN_NAME as FAILOVER } from "../plugins/spillway-failover/schema.ts";
import { aiProxyMulti, aiRateLimiting, bodylessBackends, clientBudget, failover, openTelemetry } from "./plugin-confs.ts";
import type { Lane, Secrets, Settings } from "./settings.ts";
import { NOT_FOUND_MESSAGE } from "./error-pages.ts";

export interface RouteSpec {
  id: string;
  /** Route name: the `route` label of APISIX's prometheus metrics (prefer_name). */
  name: string;
  methods: string[];
  uris: string[];
  /** The backend reports token usage, so token limits apply. */
  usage: boolean;
  /**
   * No JSON body (GET/DELETE, POST …/cancel): ai-proxy-multi rejects those (apisix-ai-contract.md §2.1), so
   * spillway-failover proxies them itself, to the `backends` it is given.
   */
  bodyless?: boolean;
}

const DEPLOYMENT = "/openai/deployments/:deployment";
const V1 = "/openai/v1";
/** Azure's preview Responses paths (`/openai/responses?api-version=…`), which the `AzureOpenAI` SDK client calls. */
const PREVIEW = "/openai";

export const API_ROUTES: readonly RouteSpec[] = [
  { id: "spillway-chat", name: "chat", methods: ["POST"], uris: [`${V1}/chat/completions`, `${DEPLOYMENT}/chat/completions`], usage: true },
  { id: "spillway-completions", name: "completions", methods: ["POST"], uris: [`${V1}/completions`, `${DEPLOYMENT}/completions`], usage: true },
  { id: "spillway-embeddings", name: "embeddings", methods: ["POST"], uris: [`${V1}/embeddings`, `${DEPLOYMENT}/embeddings`], usage: true },
  { id: "spillway-responses", name: "responses", methods: ["POST"], uris: [`${V1}/responses`, `${DEPLOYMENT}/responses`, `${PREVIEW}/responses`], usage: true },
  {
    id: "spillway-responses-manage",
    name: "responses-manage",
    methods: ["GET", "DELETE"],
    uris: [
      `${V1}/responses/:response_id`,
      `${V1}/responses/:response_id/input_items`,
      `${DEPLOYMENT}/responses/:response_id`,
      `${DEPLOYMENT}/responses/:response_id/input_items`,
      `${PREVIEW}/responses/:response_id`,
      `${PREVIEW}/responses/:response_id/input_items`,
    ],
    usage: false,
    bodyless: true,
  },
  {
    id: "spillway-responses-cancel",
    name: "responses-cancel",
    methods: ["POST"],
    uris: [`${V1}/responses/:response_id/cancel`, `${DEPLOYMENT}/responses/:response_id/cancel`, `${PREVIEW}/responses/:response_id/cancel`],
    usage: false,
    bodyless: true,
  },
  { id: "spillway-models", name: "models", methods: ["GET"], uris: [`${V1}/models`, `${V1}/models/:model`], usage: false, bodyless: true },
];

export const HEALTH_ROUTE_ID = "spillway-healthz";
export const NOT_FOUND_ROUTE_ID = "spillway-not-found";
export const HEALTH_PATH = "/healthz";
/** Toolkit operations that get test-prefixed copies in E2E mode. */
const E2E_OPERATIONS = ["chat/completions", "completions", "embeddings"] as const;

type Json = Record<string, unknown>;

/** Answered by the gateway itself (mocking plugin): no auth, no backend call. Liveness probe target. */
function healthRoute(): Json {
  return {
    id: HEALTH_ROUTE_ID,
    name: "healthz",
    methods: ["GET", "HEAD"],
    uris: [HEALTH_PATH],
    plugins: {
      mocking: { response_status: 200, content_type: "application/json", response_example: '{"status":"ok"}', with_mock_header: false },
    },
  };
}

/** Every method schema_def.lua allows: the catch-all takes whatever no other route took. */
const ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "PURGE"];

/** The catch-all's answer, in the shape of plugins/lib/openai-error.ts. No `$`: mocking substitutes `$var`s. */
export const NOT_FOUND_BODY = JSON.stringify({
  error: { message: NOT_FOUND_MESSAGE, type: "invalid_request_error", param: null, code: "404" },
});

/**
 * Whatever no route matches: an OpenAI-shaped JSON 404 instead of APISIX's text/plain `{"error_msg":"404 Route Not
 * Found"}`. radixtree tries the longest matching path first, so `/*` is only ever the last candidate (and the lowest
 * priority among any other `/*`). No auth, like APISIX's own 404: the answer is the same whatever key a client sends
 * (it tells nothing about a key), costs no key check, and the paths it denies are public API knowledge anyway.
 */
function notFoundRoute(): Json {
  return {
    id: NOT_FOUND_ROUTE_ID,
    name: "not-found",
    methods: ALL_METHODS,
    uris: ["/*"],
    priority: -1,
    plugins: {
      mocking: { response_status: 404, content_type: "application/json", response_example: NOT_FOUND_BODY, with_mock_header: false },
    },
  };
}

/**
 * The lane rule, the same as plugins/lib/low-reserve.ts laneOf: low when `x-priority` is `low` (any case, spaces
 * around allowed); when the header is absent, when the query's `priority` is. The header wins when present (the
 * plugin answers 400 for any other value, on whichever route). In lua-resty-expr a nil var never matches `~*`, so
 * `["http_x_priority", "!", "~*", ".*"]` holds exactly when the header is absent (".*" matches any value, even "").
 */
export const LOW_LANE_VARS = [
  [
    "OR",
    ["http_x_priority", "~*", "^\\s*low\\s*$"],
    ["AND", ["http_x_priority", "!", "~*", ".*"], ["arg_priority", "~*", "^\\s*low\\s*$"]],
  ],
] as const;

/** Route priority of the low lane: radixtree tries it before the high-lane route of the same paths. */
const LOW_LANE_PRIORITY = 10;

/**
 * Separate low-lane routes only when the lanes differ in what a route carries: a low bucket size or the backend
 * pools. The low reserve alone needs none: spillway-failover reads the lane itself.
 */
function lanesDiffer(settings: Settings): boolean {
  const rl = settings.rateLimit;
  const lowBudget = rl !== undefined && (rl.lowLimit !== undefined || (rl.per === "consumer" && settings.auth.clients.some((c) => c.lowTokenLimit !== undefined)));
  return lowBudget || settings.backends.some((b) => b.lanes.length < 2);
}

function pluginStack(settings: Settings, secrets: Secrets, spec: { usage: boolean; bodyless?: boolean }, lane: Lane, extra: Json = {}): Json {
  const plugins: Json = {};
  if (settings.auth.required) plugins[AUTH] = { hide_credentials: true };
  const rl = settings.rateLimit;
  if (rl && spec.usage) plugins["ai-rate-limiting"] = aiRateLimiting(settings, secrets, rl, lane);
  Object.assign(plugins, extra);
  if (spec.bodyless) {
    // Every backend, whatever its lanes: these calls spend no tokens, and a response lives on the backend that made it.
    plugins[FAILOVER] = { ...failover(settings, secrets, "bodyless"), backends: bodylessBackends(settings, secrets) };
  } else {
    plugins[FAILOVER] = failover(settings, secrets, "api");
    plugins["ai-proxy-multi"] = aiProxyMulti(settings, secrets, lane);
  }
  const otel = openTelemetry(settings);
  if (otel) plugins.opentelemetry = otel;
  plugins.prometheus = { prefer_name: true };
  return plugins;
}

/**
 * The toolkit's helper endpoint for latency-preference routing (plugins/spillway-failover/preference.ts): a prober
 * posts the backends fastest first. Only with client auth: without it anyone could reorder the backends.
 */
function preferenceRoute(settings: Settings, secrets: Secrets): Json {
  const conf: Json = { ...failover(settings, secrets, "bodyless"), helper: "set-preferred-backends" };
  return {
    id: "spillway-helpers",
    name: "helpers",
    methods: ["GET", "POST"],
    uris: ["/helpers/set-preferred-backends", "/config/set-preferred-backends"],
    plugins: { [AUTH]: { hide_credentials: true }, [FAILOVER]: conf },
  };
}

export function buildRoutes(settings: Settings, secrets: Secrets): Json[] {
  const routes: Json[] = [healthRoute()];
  for (const spec of API_ROUTES) {
    routes.push({ id: spec.id, name: spec.name, methods: spec.methods, uris: spec.uris, plugins: pluginStack(settings, secrets, spec, "high") });
  }
  if (lanesDiffer(settings)) {
    // The low lane: same paths, matched first when the request is low priority, with its own bucket and backends.
    for (const spec of API_ROUTES.filter((s) => !s.bodyless)) {
      routes.push({
        id: `${spec.id}-low`,
        name: `${spec.name}-low`,
        methods: spec.methods,
        uris: spec.uris,
        priority: LOW_LANE_PRIORITY,
        vars: LOW_LANE_VARS,
        plugins: pluginStack(settings, secrets, spec, "low"),
      });
    }
  }
  if (settings.e2e.enabled) {
    for (const prefix of settings.e2e.prefixes) {
      for (const op of E2E_OPERATIONS) {
        const rewrite = { "proxy-rewrite": { regex_uri: [`^/${prefix}(/openai/.*)$`, "$1"] } };
        routes.push({
          id: `e2e-${prefix}-${op.replace("/", "-")}`,
          name: `e2e-${prefix}-${op.replace("/", "-")}`,
          labels: { spillway_test_route: "true" },
          methods: ["POST"],
          uris: [`/${prefix}${DEPLOYMENT}/${op}`, `/${prefix}${V1}/${op}`],
          plugins: pluginStack(settings, secrets, { usage: true }, "high", rewrite),
        });
      }
    }
  }
  if (settings.auth.required) routes.push(preferenceRoute(settings, secrets));
  routes.push(notFoundRoute());
  return routes;
}

/** With per-client rate limits, each consumer carries its budget, which the routes' ai-rate-limiting rules read. */
export function buildConsumers(settings: Settings, secrets: Secrets): Json[] {
  const rl = settings.rateLimit?.per === "consumer" ? settings.rateLimit : undefined;
  return settings.auth.clients.map((c) => {
    const conf: Json = { key: secrets[c.keyRef] };
    if (rl) conf.budget = clientBudget(rl, c);
    return { username: c.name, plugins: { [AUTH]: conf } };
  });
}
