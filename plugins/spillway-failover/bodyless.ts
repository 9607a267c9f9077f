/**
 * Body-less Azure OpenAI calls (GET /openai/v1/models, GET/DELETE /openai/v1/responses/{id}, POST …/cancel).
 * ai-proxy-multi refuses any request without a JSON body (apisix-ai-contract.md §2.1), so on those routes this
 * plugin proxies itself, through the same AI transport (and so the same cooldown bookkeeping): backends by
 * priority, cooling ones skipped, 429/5xx/network errors fail over, and a 404 for a response id moves on to the
 * next backend because the response may live on another resource. A response id goes to the backend known to hold
 * it first (affinity.ts); one found by asking around is remembered there.
 */
import * as core from "apisix.core";
import * as transportModule from "apisix.plugins.ai-transport.http";
import { forwardRequestHeaders, gatewayHeaders, relayResponseHeaders } from "../lib/header-policy";
import type { HeaderTable } from "../lib/header-table";
import { classifyStatus } from "../lib/outcome";
import { parseEndpoint, parseResponsesPath, unsafePathReason } from "../lib/upstream-route";
import type { Endpoint } from "../lib/upstream-route";
import { openAiError } from "../lib/openai-error";
import { holderOf, rememberResponse } from "./affinity";
import type { AttemptTarget } from "./attempts";
import { clientPathAndQuery } from "./client-path";
import { lowerHeaders } from "./headers";
import type { BodylessBackend, FailoverConf } from "./schema";
import type { RequestState } from "./state";
import { authorizeAttempt } from "../azure-openai-dynamic/identity";

const lower = string.lower;

/** Backends sorted by priority (highest first) with parsed endpoints; cached per conf version. */
interface Candidate {
  backend: BodylessBackend;
  endpoint: Endpoint;
}

function byPriority(this: void, a: Candidate, b: Candidate): boolean {
  return a.backend.priority > b.backend.priority;
}

function buildCandidates(this: void, backends: BodylessBackend[]): Candidate[] {
  const out: Candidate[] = [];
  for (const backend of backends) {
    const endpoint = parseEndpoint(backend.endpoint);
    if (endpoint.ok) out.push({ backend, endpoint });
    else core.log.error("spillway-failover: backend ", backend.name, " skipped: ", endpoint.reason);
  }
  table.sort(out, byPriority);
  return out;
}

/** Conf tables are replaced when the route changes (as for ai-proxy-multi's instances), so caching on them is safe. */
function candidatesOf(this: void, conf: FailoverConf): Candidate[] {
  const raw = conf as unknown as LuaTable<string, unknown>;
  let cached = raw.get("_candidates") as Candidate[] | undefined;
  if (cached === undefined) {
    cached = buildCandidates(conf.backends ?? []);
    raw.set("_candidates", cached);
  }
  return cached;
}


function requestParams(this: void, ctx: ApisixCtx, candidate: Candidate, path: string, query: string, body: string | undefined): AiHttpParams {
  const headers = forwardRequestHeaders(core.request.headers(ctx) as unknown as HeaderTable) as unknown as
    LuaTable<string, string | string[]>;
  for (const [name, value] of pairs(candidate.backend.auth.header as unknown as LuaTable<string, string>)) {
    headers.set(lower(name), value);
  }
  // An Entra ID backend without a token is cooled, and the transport then skips it (azure-openai-dynamic/identity.ts).
  if (candidate.backend.auth.entra !== undefined) authorizeAttempt(headers, candidate.backend.auth.entra, candidate.backend.name, undefined);
  const params: AiHttpParams = {
    method: core.request.get_method(),
    scheme: candidate.endpoint.scheme,
    host: candidate.endpoint.host,
    port: candidate.endpoint.port,
    path,
    query,
    headers,
    body: body ?? "",
    ssl_verify: true,
    ssl_server_name: candidate.endpoint.host,
  };
  (params as unknown as LuaTable<string, unknown>).set("spillway_attempt", { backend: candidate.backend.name } satisfies AttemptTarget);
  return params;
}

/** The candidates with the backend known to hold the response first (affinity.ts). */
function holderFirst(this: void, candidates: Candidate[], holder: string): Candidate[] {
  const ordered: Candidate[] = [];
  for (const c of candidates) if (c.backend.name === holder) ordered.push(c);
  for (const c of candidates) if (c.backend.name !== holder) ordered.push(c);
  return ordered;
}

/** Sends the backend's answer to the client as it arrives. */
function relay(this: void, state: RequestState, res: AiHttpResponse, name: string): void {
  ngx.status = res.status;
  const relayed = relayResponseHeaders(lowerHeaders(res.headers), true) as unknown as LuaTable<string, string>;
  for (const [header, value] of pairs(relayed)) core.response.set_header(header, value);
  const gw = gatewayHeaders(name, state.called);
  core.response.set_header("x-gw-backend", gw["x-gw-backend"], "x-gw-attempts", gw["x-gw-attempts"], "x-gw-priority", state.lane);
  state.committed = true;
  state.answered = true;
  const reader = res.body_reader;
  if (reader !== undefined) {
    while (true) {
      const [chunk, err] = reader();
      if (err !== undefined) {
        core.log.warn("spillway-failover: reading ", name, "'s answer failed after it started: ", err);
        break;
      }
      if (chunk === undefined) break;
      ngx.print(chunk);
      ngx.flush(true);
    }
  }
  // An answer without a body (e.g. 204) printed nothing: send the headers now, so that ngx_lua ends the request
  // here instead of going on to nginx's proxy_pass (it does that only when access sent nothing).
  if (!ngx.headers_sent) ngx.send_headers();
  if (res._httpc !== undefined) res._httpc.close();
}

function discard(this: void, res: AiHttpResponse): void {
  if (res._httpc !== undefined) res._httpc.close();
}

/**
 * Proxies the request; returns (status, body) only when no backend answered, so that the caller's exhaustion
 * logic can shape the final answer. A relayed answer returns nothing.
 */
export function proxyBodyless(
  this: void,
  conf: FailoverConf,
  ctx: ApisixCtx,
  state: RequestState,
): LuaMultiReturn<[number, unknown] | []> {
  const [path, query] = clientPathAndQuery(ctx);
  const unsafe = unsafePathReason(path);
  if (unsafe !== undefined) return $multi(400, openAiError(unsafe, "invalid_request_error", "400"));
  const responsesPath = parseResponsesPath(path);
  const lookup = responsesPath !== undefined;
  const holder = responsesPath !== undefined ? holderOf(conf, responsesPath.id) : undefined;
  const candidates = holder === undefined ? candidatesOf(conf) : holderFirst(candidatesOf(conf), holder);
  const [body] = core.request.get_body(undefined, ctx);

  let lastStatus = 502;
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i]!;
    const params = requestParams(ctx, candidate, path, query, body);
    const [res] = transportModule.request(params, conf.first_byte_timeout_ms);
    if (res === undefined) continue;
    const kind = classifyStatus(res.status);
    const isLast = i === candidates.length - 1;
    if (kind === "throttled" || kind === "server_error") {
      lastStatus = res.status;
      discard(res);
      continue;
    }
    // The response id may belong to another resource: ask the next backend before answering 404.
    if (res.status === 404 && lookup && !isLast) {
      discard(res);
      continue;
    }
    // Found by asking around (holder unknown or wrong): go straight there next time (polling, cancel, input_items).
    if (responsesPath !== undefined && candidate.backend.name !== holder && res.status >= 200 && res.status < 300) {
      rememberResponse(conf, responsesPath.id, candidate.backend.name);
    }
    relay(state, res, candidate.backend.name);
    return $multi();
  }
  return $multi(lastStatus, undefined);
}
