/**
 * Entra ID (managed identity) auth to backends, the ngx part: the token for https://cognitiveservices.azure.com,
 * cached in the `spillway-identity` shared dict for every worker, refreshed ahead of expiry, fetched by one request
 * per node however many wait (an add()-based lock; the others poll the dict), from Container Apps' identity endpoint
 * (IDENTITY_ENDPOINT + IDENTITY_HEADER, which config.yaml's nginx `env` directives pass to the workers) or IMDS.
 * The decisions (URL, parsing, fresh / refresh / expired) are in ../lib/entra-token.ts.
 *
 * Without a token a backend fails like a 5xx: it is cooled until the identity endpoint may be asked again, so the
 * transport wrapper of spillway-failover answers for it without a network call and ai-proxy-multi falls back (a
 * build_request error cannot do that in 3.18.0: retry_on_error logs its table body and raises). One log line per
 * failed token call, never one per request; the token is in no log line, error body or metric.
 */
import * as core from "apisix.core";
import * as cjson from "cjson.safe";
import {
  decodeEntry, decodeFailure, describeSource, encodeEntry, encodeFailure, errorDetail, identitySource,
  parseTokenResponse, tokenRequest, tokenState,
} from "../lib/entra-token";
import type { Failure, IdentitySource, TokenEntry } from "../lib/entra-token";
import type { AttemptTarget } from "../spillway-failover/attempts";
import { cool, cooldownKey } from "../spillway-failover/cooldown-store";
import { requestState } from "../spillway-failover/state";
import { DEFAULT_FAILURE_BACKOFF_MS, DEFAULT_TIMEOUT_MS, entraSchema } from "./entra-schema";
import type { EntraConf } from "./entra-schema";
import { store } from "./token-store";
import type { TokenStore } from "./token-store";

const ngxNow = ngx.now;
const ngxSleep = ngx.sleep;

/** Waiters poll the dict from this step, doubling up to MAX_STEP_S: a local token call takes a few ms. */
const FIRST_STEP_S = 0.005;
const MAX_STEP_S = 0.05;
/** Waiters give up this long after the token call's own timeout (the caller may have died without an answer). */
const WAIT_GRACE_MS = 500;
/** During the refresh window a worker looks at the dict again at most this often (another may have refreshed). */
const RECHECK_MS = 1000;

function nowMs(this: void): number {
  return ngxNow() * 1000;
}

/** Where tokens come from: read once per worker (the platform sets these for the container's lifetime). */
let source: IdentitySource | undefined = undefined;

function tokenSource(this: void): IdentitySource {
  if (source === undefined) {
    source = identitySource(os.getenv("IDENTITY_ENDPOINT"), os.getenv("IDENTITY_HEADER"), os.getenv("SPILLWAY_TEST_IMDS_ENDPOINT"));
  }
  return source;
}

/** Per worker: each identity's header value, until it is worth looking at the dict again. */
interface Held {
  header: string;
  recheck_at_ms: number;
}
const held = new LuaTable<string, Held>();

function identityId(this: void, entra: EntraConf): string {
  return entra.client_id ?? "system";
}

function identityName(this: void, entra: EntraConf): string {
  return entra.client_id !== undefined ? `managed identity ${entra.client_id}` : "the system-assigned managed identity";
}

function hold(this: void, id: string, entry: TokenEntry, nowMsValue: number): string {
  const header = `Bearer ${entry.token}`;
  let recheck = entry.refresh_at_ms;
  if (recheck <= nowMsValue) recheck = nowMsValue + RECHECK_MS < entry.usable_until_ms ? nowMsValue + RECHECK_MS : entry.usable_until_ms;
  held.set(id, { header, recheck_at_ms: recheck });
  return header;
}

function readEntry(this: void, s: TokenStore, id: string): TokenEntry | undefined {
  const [value] = s.get(`tk:${id}`);
  return typeof value === "string" ? decodeEntry(value) : undefined;
}

function recentFailure(this: void, s: TokenStore, id: string, now: number): Failure | undefined {
  const [value] = s.get(`tf:${id}`);
  if (typeof value !== "string") return undefined;
  const failure = decodeFailure(value);
  return failure !== undefined && failure.retry_at_ms > now ? failure : undefined;
}

/** The token call itself. Errors never carry the IDENTITY_HEADER or a token. */
function fetchToken(this: void, src: IdentitySource, entra: EntraConf): LuaMultiReturn<[TokenEntry] | [undefined, string]> {
  const [loaded, mod] = pcall(require, "resty.http");
  if (!loaded || type(mod) !== "table") return $multi(undefined, "resty.http is not available");
  const [httpc, newErr] = (mod as RestyHttpModule).new();
  if (httpc === undefined) return $multi(undefined, `failed to create an HTTP client: ${newErr}`);
  const timeout = entra.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  httpc.set_timeouts(timeout, timeout, timeout);
  const request = tokenRequest(src, entra.client_id);
  const headers = new LuaTable<string, string>();
  headers.set(request.header_name, request.header_value);
  const [res, err] = httpc.request_uri(request.url, { method: "GET", headers, keepalive: false });
  if (res === undefined) return $multi(undefined, `failed to call it: ${err}`);
  const [body] = cjson.decode(res.body ?? "");
  if (res.status !== 200) {
    const detail = errorDetail(body);
    return $multi(undefined, detail !== undefined ? `it answered ${res.status} (${detail})` : `it answered ${res.status}`);
  }
  const parsed = parseTokenResponse(body, nowMs());
  if (!parsed.ok) return $multi(undefined, parsed.reason);
  return $multi(parsed.entry);
}

/** One token call by the lock holder; stores the token or the failure (and says so once, for every waiter). */
function fetchAndStore(
  this: void,
  s: TokenStore,
  id: string,
  entra: EntraConf,
  current: TokenEntry | undefined,
): LuaMultiReturn<[TokenEntry] | [undefined, string, number]> {
  const src = tokenSource();
  const [entry, err] = fetchToken(src, entra);
  const now = nowMs();
  if (entry !== undefined) {
    const ttl = (entry.usable_until_ms - now) / 1000;
    s.set(`tk:${id}`, encodeEntry(entry), ttl > 0.001 ? ttl : 0.001);
    s.delete(`tf:${id}`);
    return $multi(entry);
  }
  const backoff = entra.failure_backoff_ms ?? DEFAULT_FAILURE_BACKOFF_MS;
  const retryAt = now + backoff;
  s.set(`tf:${id}`, encodeFailure({ retry_at_ms: retryAt, reason: err as string }), backoff / 1000);
  if (current !== undefined && now < current.usable_until_ms) {
    core.log.warn("azure-openai-dynamic: refreshing the Entra ID token of ", identityName(entra), " from ",
      describeSource(src), " failed: ", err, "; the current one is used until it expires in ",
      string.format("%d", (current.usable_until_ms - now) / 1000), " s, next try in ", backoff, " ms");
  } else {
    core.log.error("azure-openai-dynamic: no Entra ID token for ", identityName(entra), " from ", describeSource(src),
      ": ", err, "; backends that use it fail over for the next ", backoff, " ms");
  }
  return $multi(undefined, err as string, retryAt);
}

/** The lock outlives a token call that never returns (a worker that died holding it). */
function lockTtlS(this: void, entra: EntraConf): number {
  return ((entra.timeout_ms ?? DEFAULT_TIMEOUT_MS) + WAIT_GRACE_MS) / 1000;
}

/** Holding the lock: look once more (another request may have just stored a token or a failure), else call. */
function callHoldingLock(this: void, s: TokenStore, id: string, entra: EntraConf): LuaMultiReturn<[string] | [undefined, string, number]> {
  const now = nowMs();
  const entry = readEntry(s, id);
  const failure = recentFailure(s, id, now);
  if (tokenState(entry, now) !== "expired") {
    s.delete(`tl:${id}`);
    return $multi(hold(id, entry!, now));
  }
  if (failure !== undefined) {
    s.delete(`tl:${id}`);
    return $multi(undefined, failure.reason, failure.retry_at_ms);
  }
  const [fresh, err, retryAt] = fetchAndStore(s, id, entra, undefined);
  s.delete(`tl:${id}`);
  if (fresh !== undefined) return $multi(hold(id, fresh, nowMs()));
  return $multi(undefined, err as string, retryAt as number);
}

/** No usable token: the lock holder calls, the others poll the dict until it has a token or a failure. */
function waitForToken(this: void, s: TokenStore, id: string, entra: EntraConf): LuaMultiReturn<[string] | [undefined, string, number]> {
  const deadline = nowMs() + (entra.timeout_ms ?? DEFAULT_TIMEOUT_MS) + WAIT_GRACE_MS;
  let step = FIRST_STEP_S;
  while (true) {
    const [locked] = s.add(`tl:${id}`, true, lockTtlS(entra));
    if (locked) return callHoldingLock(s, id, entra);
    ngxSleep(step);
    step = step * 2 < MAX_STEP_S ? step * 2 : MAX_STEP_S;
    const now = nowMs();
    const entry = readEntry(s, id);
    if (tokenState(entry, now) !== "expired") return $multi(hold(id, entry!, now));
    const failure = recentFailure(s, id, now);
    if (failure !== undefined) return $multi(undefined, failure.reason, failure.retry_at_ms);
    if (now >= deadline) {
      return $multi(undefined, "timed out waiting for another request's token call", now + (entra.failure_backoff_ms ?? DEFAULT_FAILURE_BACKOFF_MS));
    }
  }
}

/** The identity's `Authorization` value, or (nil, reason, retry_at_ms). */
function bearer(this: void, entra: EntraConf): LuaMultiReturn<[string] | [undefined, string, number]> {
  const id = identityId(entra);
  const now = nowMs();
  const mine = held.get(id);
  if (mine !== undefined && now < mine.recheck_at_ms) return $multi(mine.header);

  const s = store();
  const entry = readEntry(s, id);
  const state = tokenState(entry, now);
  if (state === "fresh") return $multi(hold(id, entry!, now));
  if (state === "refresh") {
    // Ahead of expiry: one request refreshes, everyone (that one too, if it fails) keeps the current token.
    if (recentFailure(s, id, now) === undefined) {
      const [locked] = s.add(`tl:${id}`, true, lockTtlS(entra));
      if (locked) {
        const [fresh] = fetchAndStore(s, id, entra, entry);
        s.delete(`tl:${id}`);
        if (fresh !== undefined) return $multi(hold(id, fresh, nowMs()));
      }
    }
    return $multi(hold(id, entry!, now));
  }
  const failure = recentFailure(s, id, now);
  if (failure !== undefined) return $multi(undefined, failure.reason, failure.retry_at_ms);
  return waitForToken(s, id, entra);
}

/** Each conf table is checked once (the renderer checked it too; a hand-written one may not be). */
const checked = setmetatable(new LuaTable<EntraConf, string | true>(), { __mode: "k" });

function confProblem(this: void, entra: EntraConf): string | undefined {
  let verdict = checked.get(entra);
  if (verdict === undefined) {
    const [ok, err] = core.schema.check(entraSchema, entra);
    verdict = ok ? true : `invalid entra conf: ${err}`;
    if (!ok) core.log.error("azure-openai-dynamic: ", verdict);
    checked.set(entra, verdict);
  }
  return verdict === true ? undefined : verdict;
}

/**
 * The attempt's backend has no token: cool it until the identity endpoint may be asked again. The picker filter
 * vetted it before that was known, so the vetted key is dropped: the transport wrapper then sees the cooldown and
 * answers for the backend (a skip) instead of sending the request without a credential.
 */
function coolWithoutToken(this: void, backend: string, deployment: string | undefined, retryAtMs: number | undefined): void {
  const now = nowMs();
  const until = retryAtMs !== undefined && retryAtMs > now ? retryAtMs : now + DEFAULT_FAILURE_BACKOFF_MS;
  cool(cooldownKey(backend, deployment), until, "connect_error", now);
  const state = requestState(ngx.ctx["api_ctx"] as ApisixCtx | undefined);
  if (state !== undefined) state.vetted_key = undefined;
}

/**
 * Puts the identity's token on an attempt's headers (`authorization`, and no `api-key`). False when there is no
 * token: the backend is then cooled and the attempt skipped by the transport wrapper, like a backend that failed.
 */
export function authorizeAttempt(
  this: void,
  headers: LuaTable<string, string | string[]>,
  entra: EntraConf,
  backend: string,
  deployment: string | undefined,
): boolean {
  headers.delete("api-key");
  headers.delete("authorization");
  const problem = confProblem(entra);
  if (problem !== undefined) {
    coolWithoutToken(backend, deployment, undefined);
    return false;
  }
  const [value, , retryAt] = bearer(entra);
  if (value === undefined) {
    coolWithoutToken(backend, deployment, retryAt);
    return false;
  }
  headers.set("authorization", value);
  return true;
}

/**
 * build_request's last step for an Entra ID instance: the token on the attempt's headers, or the backend cooled and
 * the attempt left for the transport wrapper to skip. Its backend and deployment come from the attempt the provider
 * has just described (`spillway_attempt`), not from the provider's module-level slots: the token call may yield,
 * and other requests reuse those slots meanwhile.
 */
export function authorizeParams(this: void, params: AiHttpParams, entra: EntraConf): boolean {
  const target = (params as unknown as LuaTable<string, unknown>).get("spillway_attempt") as AttemptTarget | undefined;
  if (target === undefined) {
    core.log.error("azure-openai-dynamic: an Entra ID attempt without its target; sending it without a credential");
    return false;
  }
  return authorizeAttempt(params.headers, entra, target.backend, target.deployment);
}
