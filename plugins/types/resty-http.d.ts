/**
 * lua-resty-http (shipped with APISIX as resty.http): the calls Spillway makes itself, outside the AI transport
 * (the managed-identity token call, azure-openai-dynamic/identity.ts). Colon-called objects. Written from
 * lua-resty-http 0.17 (lib/resty/http.lua). Required lazily, so no `declare module`: the nginx stand-in of the
 * tests has no resty.http, and the provider must still load there.
 */

declare interface RestyHttpResponse {
  status: number;
  reason?: string;
  headers: LuaTable<string, string | string[]>;
  /** request_uri reads the whole body. */
  body?: string;
}

declare interface RestyHttpRequestParams {
  method?: string;
  headers?: LuaTable<string, string>;
  body?: string;
  ssl_verify?: boolean;
  /** false: close the connection after the answer instead of pooling it. */
  keepalive?: boolean;
}

declare interface RestyHttpClient {
  set_timeouts(this: RestyHttpClient, connectMs: number, sendMs: number, readMs: number): void;
  request_uri(this: RestyHttpClient, uri: string, params?: RestyHttpRequestParams): LuaMultiReturn<[RestyHttpResponse] | [undefined, string]>;
  close(this: RestyHttpClient): LuaMultiReturn<[1] | [undefined, string]>;
}

/** The module table `require("resty.http")` returns. */
declare interface RestyHttpModule {
  /** @noSelf */
  new: (this: void) => LuaMultiReturn<[RestyHttpClient] | [undefined, string]>;
}
