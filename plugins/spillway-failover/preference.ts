/**
 * Latency-preference routing (the toolkit's `POST /helpers/set-preferred-backends`, aoai-simulator.md §1.5): an
 * ordered list of backend names, fastest first, set by a prober outside the gateway. While it is set, a request's
 * first attempt goes to the first backend of the list that is on its route and not cooling, and each retry to the
 * next one; backends the list does not name come after, by the route's own priorities and weights.
 *
 * Kept in the shared dict for PREFERENCE_TTL_S (the toolkit's cache duration) and, with Redis, under
 * `<prefix>:pref` for the other replicas (redis-sync.ts pulls it each second). Each worker reads the shared dict at
 * most once a second: a new order reaches every worker within a second, at no cost per request.
 */
import * as core from "apisix.core";
import * as cjson from "cjson.safe";
import { openAiError } from "../lib/openai-error";
import type { OpenAiErrorBody } from "../lib/openai-error";
import { SHARED_DICT } from "./cooldown-store";
import type { FailoverConf } from "./schema";
import { PREFERENCE_KEY, sharePreference } from "./redis-sync";

/** The toolkit stores the list for 12000 s. */
export const PREFERENCE_TTL_S = 12000;
const MAX_BACKENDS = 32;
/** A backend name (Lua pattern), at most MAX_NAME bytes. */
const NAME = "^[%w._-]+$";
const MAX_NAME = 64;
const REFRESH_S = 1;

let cached: string[] | undefined = undefined;
let cachedAt = -REFRESH_S;

/** "a,b,c" → names; the stored form has no commas in names (NAME). */
function parseList(this: void, text: string): string[] {
  const names: string[] = [];
  for (const [name] of string.gmatch(text, "[^,]+")) names.push(name as string);
  return names;
}

/** The order now in force on this node, or undefined (none set, or expired). */
export function preferredBackends(this: void): string[] | undefined {
  const now = ngx.now();
  if (now - cachedAt < REFRESH_S) return cached;
  cachedAt = now;
  const value = storedPreference();
  cached = value !== undefined && value !== "" ? parseList(value) : undefined;
  return cached;
}

/** Stores an order on this node (from the endpoint, or from Redis); `ttl` seconds. */
export function storePreference(this: void, list: string, ttl: number): void {
  ngx.shared[SHARED_DICT]?.set(PREFERENCE_KEY, list, ttl);
  cachedAt = -REFRESH_S;
}

/** The stored form on this node, for the Redis pull to compare. */
export function storedPreference(this: void): string | undefined {
  const shared = ngx.shared[SHARED_DICT];
  if (shared === undefined) return undefined;
  const [value] = shared.get(PREFERENCE_KEY);
  return typeof value === "string" ? value : undefined;
}

function refuse(this: void, message: string): LuaMultiReturn<[number, OpenAiErrorBody]> {
  core.response.set_header("Content-Type", "application/json");
  return $multi(400, openAiError(message, "invalid_request_error", "400", "preferredBackends"));
}

/**
 * The endpoint: POST sets the order (`{"preferredBackends": ["payg1", "payg2"]}`), GET says what it is. The route
 * carries the client auth plugin: only a client with a gateway key gets here.
 */
export function preferenceEndpoint(this: void, conf: FailoverConf, ctx: ApisixCtx): LuaMultiReturn<[number, unknown]> {
  core.response.set_header("Content-Type", "application/json");
  const method = ctx.var["request_method"];
  if (method === "GET") {
    const current = preferredBackends();
    return $multi(200, { preferredBackends: current ?? cjson.empty_array });
  }
  if (method !== "POST") {
    return $multi(405, openAiError("Use POST to set the preferred backends, or GET to read them.", "invalid_request_error", "405"));
  }
  const [body] = core.request.get_json_request_body_table();
  const list = body === undefined ? undefined : (body as JsonObject)["preferredBackends"];
  if (type(list) !== "table") return refuse('The body must be {"preferredBackends": ["<backend name>", ...]}, fastest first.');
  const names: string[] = [];
  for (const name of list as unknown as unknown[]) {
    if (typeof name !== "string" || name.length > MAX_NAME || string.find(name, NAME)[0] === undefined) {
      return refuse("Each preferred backend must be a backend name: letters, digits, '.', '_' or '-', at most 64.");
    }
    names.push(name);
  }
  if (names.length > MAX_BACKENDS) return refuse(`At most ${MAX_BACKENDS} preferred backends.`);
  const stored = names.join(",");
  storePreference(stored, PREFERENCE_TTL_S);
  if (conf.redis !== undefined) sharePreference(conf.redis, stored, PREFERENCE_TTL_S);
  core.log.info("spillway-failover: preferred backends set: ", stored);
  return $multi(200, { message: "preferred backends are set successfully" });
}
