/**
 * azure-openai-dynamic: an APISIX 3.18 ai-provider for Azure OpenAI (apisix-ai-contract.md §1). One instance
 * per Azure resource serves every deployment and API: the client's path and query (`/openai/v1/*`,
 * `/openai/deployments/{d}/*?api-version=`) are forwarded as sent, to the instance's endpoint host, with an
 * optional deployment alias map (provider_conf.deployments).
 *
 * On top of base: the client's credentials and hop-by-hop headers never go upstream; the upstream's headers
 * (x-ratelimit-*, x-ms-region, apim-request-id, ...) reach the client; a stream is held until its first content
 * event so that an early failure can still fail over, and once a byte went to the client no other backend is
 * ever called (§2.7); a 200 that is not an answer (not JSON, or no event stream for a stream) fails over like a 5xx.
 */
import * as base from "apisix.plugins.ai-providers.base";
import * as core from "apisix.core";
import * as resp from "ngx.resp";
import { connectionTokensOfLower, forwardRequestHeaders, headerSafeCached, relayed } from "../lib/header-policy";
import { parseEndpoint, upstreamRoute } from "../lib/upstream-route";
import { isCompletionsPath } from "../lib/usage";
import { intText } from "../lib/access-fields";
import { usageFromBody } from "../spillway-failover/usage";
import { createdResponseId, rememberResponse } from "../spillway-failover/affinity";
import { notHeldAnswer } from "../spillway-failover/holder-retry";
import type { DeploymentAliases, Endpoint, Route } from "../lib/upstream-route";
import { requestState } from "../spillway-failover/state";
import type { RequestState } from "../spillway-failover/state";
import { clientPathAndQuery } from "../spillway-failover/client-path";
import { remainingHeader } from "../lib/low-reserve";
import { lowerHeaders, newHeaderTable } from "../spillway-failover/headers";
import { reviseLastAttempt } from "../spillway-failover/attempts";
import type { AttemptTarget } from "../spillway-failover/attempts";
import type { HeaderTable } from "../lib/header-table";
import { holdPreamble, streamBrokeAfterCommit } from "./stream";
import { forgetHeld, unusableAnswer } from "./answer-check";
import { authorizeParams } from "./identity";
import type { EntraConf } from "./entra-schema";

const lower = string.lower;
const addHeader = resp.add_header;
const ngxNow = ngx.now;

/**
 * The route resolved for the attempt being built. ai-proxy/base.lua resolves the capability path (which gets
 * ctx), then calls build_body and build_request (which do not) with no I/O in between, so no other request can
 * run on this worker between the write and the read: a module-level slot is safe.
 */
let pendingRoute: Route | undefined = undefined;
/** The deployment the attempt is for (cooldown key); same lifetime as pendingRoute. */
let pendingDeployment: string | undefined = undefined;
/** The request's failover state, handed to the transport wrapper with the attempt; same lifetime as pendingRoute. */
let pendingState: RequestState | undefined = undefined;


function resolvePath(this: void, providerConf: LuaTable<string, unknown>, ctx: ApisixCtx): string | undefined {
  const [path, query] = clientPathAndQuery(ctx);
  const aliases = providerConf.get("deployments") as DeploymentAliases | undefined;
  const model = ctx.var["request_llm_model"];
  const bodyModel = typeof model === "string" ? model : undefined;
  const route = upstreamRoute(path, query, aliases, bodyModel);
  if (!route.ok) {
    core.log.warn("azure-openai-dynamic: refusing path: ", route.reason);
    pendingRoute = undefined;
    pendingState = undefined;
    return undefined;
  }
  pendingRoute = route;
  pendingDeployment = route.deployment ?? bodyModel;
  pendingState = requestState(ctx);
  return route.path;
}

const CAPABILITY = { path: resolvePath };

const provider = base.newProvider({
  capabilities: {
    "openai-chat": CAPABILITY,
    "openai-responses": CAPABILITY,
    "openai-embeddings": CAPABILITY,
    // Declared so that every other JSON API (completions, images, ...) also resolves its path here.
    passthrough: CAPABILITY,
  } as unknown as LuaTable<string, AiCapability>,
});

provider.build_body = function (this: AiProvider, body, opts) {
  const [shaped, shapedChanged] = base.build_body(this, body, opts);
  let changed = shapedChanged;
  const route = pendingRoute;
  if (route !== undefined && route.model !== undefined) {
    shaped.set("model", route.model);
    changed = true;
  }
  // 3.18 asks for stream usage only for the protocols it knows; legacy completions need it too (§3.4).
  if (opts.target_protocol === "passthrough" && route !== undefined && isCompletionsPath(route.path) &&
    shaped.get("stream") === true && shaped.get("stream_options") === undefined) {
    shaped.set("stream_options", { include_usage: true });
    changed = true;
  }
  return $multi(shaped, changed);
};

/**
 * Parsed endpoints (scheme, host, port) by endpoint string: an instance's endpoint rarely changes, parsing it per
 * attempt is what base.build_request does (net.url). Bounded: cleared when a config churns through many.
 */
let endpoints = new LuaTable<string, Endpoint | false>();
let endpointCount = 0;
const MAX_ENDPOINTS = 512;

function endpointOf(this: void, url: string): Endpoint | undefined {
  let parsed = endpoints.get(url);
  if (parsed === undefined) {
    const result = parseEndpoint(url);
    parsed = result.ok ? result : false;
    if (endpointCount >= MAX_ENDPOINTS) {
      endpoints = new LuaTable<string, Endpoint | false>();
      endpointCount = 0;
    }
    endpoints.set(url, parsed);
    endpointCount++;
  }
  return parsed === false ? undefined : parsed;
}

/**
 * The attempt's request, built here rather than by base.build_request: base parses the endpoint URL, copies the
 * client's headers and builds a query table on every attempt, and all three would be replaced below anyway.
 * An endpoint that is not plain scheme://host[:port] goes through base as before.
 */
provider.build_request = function (this: AiProvider, conf, body, opts) {
  const route = pendingRoute;
  pendingRoute = undefined;
  if (route === undefined) {
    return $multi(undefined, "the request path cannot be forwarded to Azure OpenAI", 400);
  }
  const endpoint = opts.endpoint === undefined ? undefined : endpointOf(opts.endpoint);
  let params: AiHttpParams;
  if (endpoint === undefined) {
    const [built, err, code] = base.build_request(this, conf, body, opts);
    if (built === undefined) return $multi(undefined, err as string, code);
    params = built;
  } else {
    params = {
      method: "POST",
      scheme: endpoint.scheme,
      host: endpoint.host,
      port: endpoint.port,
      path: route.path,
      query: "",
      headers: undefined as unknown as AiHttpParams["headers"],
      body,
      ssl_verify: conf.ssl_verify,
      ssl_server_name: opts.ssl_server_name ?? endpoint.host,
    };
  }

  // Client headers minus credentials, x-gw-*, hop-by-hop; then this backend's own auth.
  const headers = forwardRequestHeaders((opts.client_headers ?? {}) as unknown as HeaderTable, newHeaderTable()) as unknown as
    LuaTable<string, string | string[]>;
  const auth = opts.auth?.header;
  if (auth !== undefined) {
    for (const [name, value] of pairs(auth)) headers.set(lower(name), value);
  }
  headers.set("content-type", "application/json");
  // With health checks, ai-proxy-multi resolves the endpoint to an IP and passes the real host name here (§1.2).
  if (opts.host_header !== undefined) headers.set("host", opts.host_header);
  params.headers = headers;
  params.path = route.path;
  params.query = route.query ?? "";
  if (opts.client_method !== undefined) params.method = opts.client_method;
  // Read (and removed) by the transport wrapper: which backend and deployment this attempt is for.
  (params as unknown as LuaTable<string, unknown>).set("spillway_attempt", {
    backend: opts.name,
    deployment: pendingDeployment,
    state: pendingState,
  } satisfies AttemptTarget);
  pendingState = undefined;
  // Entra ID backends (docs/provider.md, "Managed identity"): a Bearer token instead of an api-key. Last, because
  // getting a token may yield to other requests, which reuse the module-level slots above.
  const entra = opts.conf.get("entra") as EntraConf | undefined;
  if (entra !== undefined) authorizeParams(params, entra);
  return $multi(params);
};

function replaceHeader(this: void, name: string, value: string | undefined): void {
  ngx.header[name] = value;
}

/** ngx.resp.add_header, which refuses nil: an absent figure is no header. */
function addHeaderOnce(this: void, name: string, value: string | undefined): void {
  if (value !== undefined) addHeader(name, value);
}

/** Relays the backend's headers and says which backend answered; called before the first byte goes out. */
function relayHeaders(this: void, state: RequestState | undefined, res: AiHttpResponse, name: string | undefined): void {
  // The transport wrapper already lower-cased this response's headers for its own bookkeeping.
  const upstream = state?.upstream_headers ?? lowerHeaders(res.headers);
  // One pass, no intermediate table: this runs on every answer.
  const listed = connectionTokensOfLower(upstream);
  // ngx.header directly, after one check: core.response.set_header re-checks headers_sent on every call.
  if (ngx.headers_sent) {
    core.log.error("azure-openai-dynamic: response headers already sent; the backend's headers are not relayed");
    return;
  }
  const out = ngx.header;
  for (const [header, value] of pairs(upstream as unknown as LuaTable<string, string | string[]>)) {
    if (header !== "content-type" && relayed(header, true, listed)) out[header] = value;
  }
  if (state === undefined || name === undefined) return;
  // Added, not set, the first time: nginx then skips its scan of the response's headers for one of the same name.
  // None is there yet (a backend's x-gw-* are never relayed, nothing else sets them before the answer); a second
  // answer in one request (base could not read the first one's body) replaces what the first set.
  const put = state.answered === true ? replaceHeader : addHeaderOnce;
  put("x-gw-backend", headerSafeCached(name));
  put("x-gw-attempts", intText(state.called));
  put("x-gw-priority", state.lane);
  put("x-gw-remaining-tokens", remainingHeader(upstream, "tokens"));
  put("x-gw-remaining-requests", remainingHeader(upstream, "requests"));
  state.answered = true;
}

/** A created response (non-streamed): its id now lives on this backend. */
function rememberCreated(this: void, state: RequestState, ctx: ApisixCtx, parsed: unknown): void {
  if (type(parsed) !== "table" || ctx.picked_ai_instance_name === undefined) return;
  const body = parsed as JsonObject;
  const id = body["id"];
  if (body["object"] === "response" && typeof id === "string") rememberResponse(state.conf, id, ctx.picked_ai_instance_name);
}

provider.parse_response = function (this: AiProvider, ctx, res, clientProto, converter, conf) {
  const state = requestState(ctx);
  // A follow-up that reached a backend without its previous response: ask the holder (or the others) instead.
  if ((res.status === 400 || res.status === 404) && state !== undefined && ctx.ai_client_protocol === "openai-responses" &&
    notHeldAnswer(ctx, state, res)) return $multi(undefined, "previous response not held by this backend", 502);
  // A 200 that is not an answer (not JSON, or no event stream for a stream): fail over, as for a 5xx.
  if (res.status >= 200 && res.status < 300) {
    const failed = unusableAnswer(ctx, state, res, conf);
    if (failed !== undefined) return $multi(undefined, "the backend's answer is unusable", failed);
  }
  relayHeaders(state, res, ctx.picked_ai_instance_name);
  const [parsed, err, status] = base.parse_response(this, ctx, res, clientProto, converter, conf);
  forgetHeld();
  if (err !== undefined) {
    // base reads the whole body before printing any of it: nothing reached the client, fallback is still safe.
    return $multi(undefined, err as string, status as number | undefined);
  }
  if (state !== undefined) state.committed = true;
  // base could not decode a body that looked like JSON and relayed it (its warn line): too late to fail over, but
  // it counts against the backend.
  if (parsed === undefined && res.status >= 200 && res.status < 300 && state !== undefined) {
    reviseLastAttempt(state, "server_error", ngxNow() * 1000);
  }
  if (ctx.ai_client_protocol === "passthrough") usageFromBody(ctx, parsed);
  if (state !== undefined && ctx.ai_client_protocol === "openai-responses") rememberCreated(state, ctx, parsed);
  return $multi(parsed);
};

provider.parse_streaming_response = function (this: AiProvider, ctx, res, targetProto, converter, conf) {
  const state = requestState(ctx);
  const [failCode, held] = holdPreamble(ctx, state, res);
  if (failCode !== undefined) return $multi(failCode);
  if (state !== undefined && ctx.ai_client_protocol === "openai-responses" && ctx.picked_ai_instance_name !== undefined) {
    const id = createdResponseId(held!);
    if (id !== undefined) rememberResponse(state.conf, id, ctx.picked_ai_instance_name);
  }

  relayHeaders(state, res, ctx.picked_ai_instance_name);
  if (state !== undefined) {
    state.committed = true;
    state.streamed = true;
  }
  const [code] = base.parse_streaming_response(this, ctx, res, targetProto, converter, conf);
  if (code !== undefined) {
    // Bytes already went out: another backend must not be called (APISIX would re-send, §2.7).
    streamBrokeAfterCommit(ctx, code);
  }
  return $multi();
};

export = provider;
