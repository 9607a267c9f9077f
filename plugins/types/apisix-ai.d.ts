/**
 * APISIX 3.18.0's AI layer as a provider sees it (apisix-ai-contract.md §1–§3): ai-providers/base.lua,
 * ai-providers/schema.lua, ai-transport/http.lua, ai-proxy-multi.lua. Written from the source at tag 3.18.0.
 * Provider methods are colon calls (`ai_provider:build_body(...)`), so they take `this`.
 */

/** Parameters ai-transport/http.lua's request() takes (built by build_request). */
declare interface AiHttpParams {
  method: string;
  scheme: string;
  host: string;
  port: number;
  path: string;
  /** A table is encoded by the client; a string goes out as is (the client's own query bytes). */
  query: LuaTable<string, string | boolean> | string;
  headers: LuaTable<string, string | string[]>;
  /** A string goes out verbatim (the client's own bytes); a table is JSON-encoded by the transport. */
  body: string | LuaTable<string, unknown> | undefined;
  ssl_verify?: boolean;
  ssl_server_name?: string;
}

/** Response object the transport returns (lua-resty-http shape plus APISIX's bookkeeping fields). */
declare interface AiHttpResponse {
  status: number;
  reason?: string;
  /** Header names as the upstream sent them; lookups are case-insensitive in lua-resty-http. */
  headers: LuaTable<string, string | string[]>;
  has_body?: boolean;
  body_reader?: (this: void, size?: number) => LuaMultiReturn<[string | undefined] | [undefined, string]>;
  read_body?: (this: AiHttpResponse) => LuaMultiReturn<[string] | [undefined, string]>;
  _httpc?: HttpClient & { close(this: unknown): void; set_keepalive(this: unknown, timeout?: number, pool?: number): LuaMultiReturn<[1] | [undefined, string]> };
  _t0?: number;
  _upstream_bytes?: number;
}

/** extra_opts as ai-proxy/base.lua builds them (contract §1.2). */
declare interface AiExtraOpts {
  name: string;
  endpoint?: string;
  model_options?: LuaTable<string, unknown>;
  conf: LuaTable<string, unknown>;
  auth?: { header?: LuaTable<string, string>; query?: LuaTable<string, string> };
  host_header?: string;
  ssl_server_name?: string;
  target_path?: string;
  target_host?: string;
  target_protocol?: string;
  client_headers?: NgxHeaders;
  client_method?: string;
  client_args?: LuaTable<string, string>;
}

/** ai-proxy(-multi) route conf fields the provider reads. */
declare interface AiProxyConf {
  timeout: number;
  keepalive: boolean;
  keepalive_timeout: number;
  keepalive_pool: number;
  ssl_verify: boolean;
  max_response_bytes?: number;
  max_stream_duration_ms?: number;
  streaming_flush_interval_ms?: number;
}

declare type CapabilityValue = string | ((this: void, providerConf: LuaTable<string, unknown>, ctx: ApisixCtx) => string | undefined);

declare interface AiCapability {
  path?: CapabilityValue;
  host?: CapabilityValue;
  rewrite_request_body?: (this: void, body: LuaTable<string, unknown>, llmOptions: LuaTable<string, unknown>, force: boolean) => void;
}

/** An opaque protocol module (ai-protocols/*.lua) handed to the parse functions. */
declare interface AiProtocolModule {
  readonly __aiProtocolBrand?: never;
}

declare interface AiProvider {
  capabilities: LuaTable<string, AiCapability>;
  host?: string;
  port?: number;
  remove_model?: boolean;
  streaming_framing?: "sse" | "aws-eventstream";
  build_body(this: AiProvider, body: LuaTable<string, unknown>, opts: AiExtraOpts): LuaMultiReturn<[LuaTable<string, unknown>, boolean]>;
  build_request(this: AiProvider, conf: AiProxyConf, body: AiHttpParams["body"], opts: AiExtraOpts): LuaMultiReturn<[AiHttpParams] | [undefined, string, number?]>;
  parse_response(this: AiProvider, ctx: ApisixCtx, res: AiHttpResponse, clientProto: AiProtocolModule, converter: unknown, conf: AiProxyConf): LuaMultiReturn<[unknown] | [undefined, string, number?]>;
  parse_streaming_response(this: AiProvider, ctx: ApisixCtx, res: AiHttpResponse, targetProto: AiProtocolModule, converter: unknown, conf: AiProxyConf): LuaMultiReturn<[number?, unknown?]>;
}

/** @noResolution */
declare module "apisix.plugins.ai-providers.base" {
  /**
   * base.new(opts) = setmetatable(opts, {__index = base}): every base method can be overridden on the returned
   * table. `new` is reserved in TS, hence the custom name.
   * @customName new
   */
  function newProvider<T extends Partial<AiProvider>>(this: void, opts: T): T & AiProvider;
  // Dot-called with the provider as explicit first argument: base.build_body(provider, ...) from an override.
  function build_body(this: void, self: AiProvider, body: LuaTable<string, unknown>, opts: AiExtraOpts): LuaMultiReturn<[LuaTable<string, unknown>, boolean]>;
  function build_request(this: void, self: AiProvider, conf: AiProxyConf, body: AiHttpParams["body"], opts: AiExtraOpts): LuaMultiReturn<[AiHttpParams] | [undefined, string, number?]>;
  function parse_response(this: void, self: AiProvider, ctx: ApisixCtx, res: AiHttpResponse, clientProto: AiProtocolModule, converter: unknown, conf: AiProxyConf): LuaMultiReturn<[unknown] | [undefined, string, number?]>;
  function parse_streaming_response(this: void, self: AiProvider, ctx: ApisixCtx, res: AiHttpResponse, targetProto: AiProtocolModule, converter: unknown, conf: AiProxyConf): LuaMultiReturn<[number?, unknown?]>;
}

/** @noResolution */
declare module "apisix.plugins.ai-providers.schema" {
  /** The provider enum; the same table object is the `enum` of instances[].provider (contract §1.1). */
  const providers: string[];
}

/** @noResolution */
declare module "apisix.plugins.ai-transport.http" {
  /** Looked up per call by ai-proxy/base.lua, so a wrapper installed from lua_module_hook sees every attempt. */
  let request: (this: void, params: AiHttpParams, timeoutMs: number) => LuaMultiReturn<[AiHttpResponse] | [undefined, string, LuaTable<string, unknown>?]>;
  function handle_error(this: void, err: string): number;
  function construct_forward_headers(this: void, extra: LuaTable<string, string> | undefined, clientHeaders: NgxHeaders | undefined): LuaTable<string, string | string[]>;
  function set_keepalive(this: void, res: AiHttpResponse, timeoutMs: number, pool: number): void;
}

/** @noResolution */
declare module "apisix.plugins.ai-proxy-multi" {
  /** Looked up per call by APISIX's plugin runner, so a wrapper installed at init() sees every request. */
  let before_proxy: (this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx) => LuaMultiReturn<[number?, unknown?]>;
  function access(this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx): LuaMultiReturn<[number?, unknown?]>;
}

/** An outbound HTTP client object (lua-resty-http's API; the FFI client has the same object API). */
declare interface HttpClient {
  set_timeout(this: HttpClient, ms: number): void;
  set_timeouts(this: HttpClient, connectMs: number, sendMs: number, readMs: number): void;
}

/** @noResolution */
declare module "apisix.utils.http" {
  /**
   * Looked up per call by ai-transport/http.lua. `new` is reserved in TS, hence the custom name.
   * @customName new
   */
  let new_client: (this: void, name?: string) => LuaMultiReturn<[HttpClient] | [undefined, string]>;
}
