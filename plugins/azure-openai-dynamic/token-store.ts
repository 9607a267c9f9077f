/**
 * Where Entra ID tokens are kept: the `spillway-identity` shared dict (every worker of the node; the renderer declares
 * it whenever a backend uses Entra ID), or, when a hand-written config.yaml lacks it, a worker-local stand-in with the
 * same calls (each worker then gets its own token). Keys, per identity (client id or "system"):
 *
 *   tk:<id>   "<refresh_at> <usable_until> <expires_at> <token>"   expires when the token may no longer be sent
 *   tf:<id>   "<retry_at> <reason>"                                the last token call failed; expires at retry_at
 *   tl:<id>   true                                                 a token call is running (single flight)
 */
import * as core from "apisix.core";

export const SHARED_DICT = "spillway-identity";

const ngxNow = ngx.now;

/** What the dict offers that we use; a worker-local stand-in takes its place when the dict is not declared. */
export interface TokenStore {
  get(this: TokenStore, key: string): LuaMultiReturn<[string | number | boolean | undefined, number | undefined]>;
  set(this: TokenStore, key: string, value: string, exptime?: number): unknown;
  add(this: TokenStore, key: string, value: boolean, exptime?: number): LuaMultiReturn<[boolean, string | undefined, boolean]>;
  delete(this: TokenStore, key: string): void;
}

/** Without the shared dict: per-worker values with expiry (one token call per worker instead of per node). */
const localValues = new LuaTable<string, { value: string | boolean; until_s: number }>();
const localStore: TokenStore = {
  get(this: TokenStore, key: string) {
    const e = localValues.get(key);
    if (e === undefined || e.until_s <= ngxNow()) return $multi(undefined, undefined);
    return $multi(e.value, undefined);
  },
  set(this: TokenStore, key: string, value: string, exptime?: number) {
    localValues.set(key, { value, until_s: ngxNow() + (exptime ?? 0) });
    return true;
  },
  add(this: TokenStore, key: string, value: boolean, exptime?: number) {
    const e = localValues.get(key);
    if (e !== undefined && e.until_s > ngxNow()) return $multi(false, "exists", false);
    localValues.set(key, { value, until_s: ngxNow() + (exptime ?? 0) });
    return $multi(true, undefined, false);
  },
  delete(this: TokenStore, key: string) {
    localValues.delete(key);
  },
};

let warnedNoDict = false;

export function store(this: void): TokenStore {
  const shared = ngx.shared[SHARED_DICT];
  if (shared !== undefined) return shared as unknown as TokenStore;
  if (!warnedNoDict) {
    core.log.warn("azure-openai-dynamic: lua_shared_dict '", SHARED_DICT, "' is missing; each worker gets its own ",
      "Entra ID token");
    warnedNoDict = true;
  }
  return localStore;
}

