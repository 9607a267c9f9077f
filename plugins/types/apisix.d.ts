/**
 * The subset of APISIX 3.18.0's Lua API that Spillway calls, written from the source at tag 3.18.0
 * (apisix/core/*.lua, apisix/plugin.lua, apisix/consumer.lua). All are dot calls.
 */
/** @noSelfInFile */

/** The request context APISIX passes to every phase (api_ctx). Only the fields we read or write. */
declare interface ApisixCtx {
  var: ApisixVar;
  conf_id?: string;
  conf_type?: string;
  consumer?: ApisixConsumer;
  consumer_name?: string;
  consumer_ver?: string | number;
  picked_ai_instance_name?: string;
  picked_ai_instance?: LuaTable<string, unknown>;
  balancer_ip?: string;
  bypass_nginx_upstream?: boolean;
  ai_client_protocol?: string;
  ai_target_protocol?: string;
  ai_token_usage?: AiTokenUsage;
  llm_raw_usage?: JsonObject;
  ai_stream_aborted?: string;
  /** Spillway's own per-request state lives under one key (see plugins/lib/request-state.ts). */
  spillway?: LuaTable<string, unknown>;
  /** The client's request target as first read this request (plugins/spillway-failover/client-path.ts). */
  spillway_client_path?: string;
  spillway_client_query?: string;
}

declare interface AiTokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  reasoning_tokens?: number;
}

/** ctx.var: nginx variables plus APISIX extras (consumer_name, route_id, http_*, arg_*). */
declare type ApisixVar = Record<string, string | number | boolean | undefined>;

declare interface ApisixConsumer {
  username: string;
  consumer_name: string;
  group_id?: string;
  credential_id?: string;
  custom_id?: string;
  auth_conf: LuaTable<string, unknown>;
}

/** consumer.plugin(name): the consumers that carry that auth plugin, versioned. */
declare interface ApisixConsumerConf {
  nodes: ApisixConsumer[];
  len: number;
  conf_version: string | number;
}

/** @noResolution */
declare module "apisix.core" {
  /** @noSelf */
  interface CoreLog {
    emerg(...args: unknown[]): void;
    alert(...args: unknown[]): void;
    crit(...args: unknown[]): void;
    error(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    notice(...args: unknown[]): void;
    info(...args: unknown[]): void;
    debug(...args: unknown[]): void;
  }
  /** @noSelf */
  interface CoreJson {
    encode(value: unknown, force?: boolean): LuaMultiReturn<[string] | [undefined, string]>;
    decode(text: string): LuaMultiReturn<[JsonValue] | [undefined, string]>;
    /** Encodes only if the log line is actually written. */
    delay_encode(value: unknown, force?: boolean): unknown;
    null: JsonNull;
  }
  /** @noSelf */
  interface CoreSchema {
    check(schema: object, conf: unknown): LuaMultiReturn<[true] | [false, string]>;
    TYPE_CONSUMER: 1;
    TYPE_METADATA: 2;
  }
  /** @noSelf */
  interface CoreRequest {
    header(ctx: ApisixCtx, name: string): string | undefined;
    headers(ctx: ApisixCtx): NgxHeaders;
    /** A nil value removes the header from the request forwarded upstream. */
    set_header(ctx: ApisixCtx, name: string, value: string | undefined): void;
    get_uri_args(ctx: ApisixCtx): LuaTable<string, string | boolean | string[]>;
    get_body(maxSize?: number, ctx?: ApisixCtx): LuaMultiReturn<[string | undefined] | [undefined, string]>;
    /** The JSON body, decoded once per request and cached on the request's ctx (ai-proxy-multi's access decodes it first). */
    get_json_request_body_table(maxSize?: number): LuaMultiReturn<[JsonObject] | [undefined, { message: string }]>;
    get_method(): string;
  }
  /** @noSelf */
  interface CoreResponse {
    exit(code: number, body?: unknown, ...rest: unknown[]): never;
    set_header(...nameValuePairs: (string | number | undefined)[]): void;
    add_header(...nameValuePairs: (string | number | undefined)[]): void;
  }
  /** @noSelf */
  interface CoreTable {
    ["new"](narr: number, nrec: number): LuaTable;
    clear(t: object): void;
    nkeys(t: object): number;
    clone<T extends object>(t: T): T;
    deepcopy<T extends object>(t: T): T;
  }
  /** @noSelf */
  interface CoreString {
    has_prefix(s: string, prefix: string): boolean;
    has_suffix(s: string, suffix: string): boolean;
  }
  /** A cache created with core.lrucache.new: (key, version, create, ...args) → value. */
  type LruCache = <T, A extends unknown[]>(
    key: string,
    version: string | number | undefined,
    create: (this: void, ...args: A) => T,
    ...args: A
  ) => LuaMultiReturn<[T] | [undefined, string]>;
  /** @noSelf */
  interface CoreLrucache {
    ["new"](opts: { ttl?: number; count?: number; type?: "plugin"; invalid_stale?: boolean }): LruCache;
    plugin_ctx: <T>(
      lrucache: LruCache,
      ctx: ApisixCtx,
      extraKey: string | undefined,
      create: (this: void, conf: any) => T,
      conf: unknown,
    ) => LuaMultiReturn<[T] | [undefined, string]>;
  }

  const log: CoreLog;
  const json: CoreJson;
  const schema: CoreSchema;
  const request: CoreRequest;
  const response: CoreResponse;
  const table: CoreTable;
  const string: CoreString;
  const lrucache: CoreLrucache;
}

/** @noResolution */
declare module "apisix.consumer" {
  function plugin(pluginName: string): ApisixConsumerConf | undefined;
  /** key value → consumer, with secret references resolved; cached per conf_version. */
  function consumers_kv(pluginName: string, consumerConf: ApisixConsumerConf, keyAttr: string): LuaTable<string, ApisixConsumer>;
  function attach_consumer(ctx: ApisixCtx, consumer: ApisixConsumer, consumerConf: ApisixConsumerConf): void;
}

/** @noResolution */
declare module "apisix.plugin" {
  function plugin_attr(name: string): LuaTable<string, unknown> | undefined;
  function conf_version(conf: object): string;
  /** Runs every plugin's lua_body_filter, prints the body, flushes unless noFlush. */
  function lua_response_filter(ctx: ApisixCtx, headers: LuaTable<string, string>, body: string, noFlush?: boolean, wait?: boolean): void;
}
