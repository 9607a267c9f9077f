/**
 * lua-resty-redis (shipped with APISIX as resty.redis): the commands Spillway uses. Colon-called objects.
 * A command answers `nil, err` when the connection failed (timeout, closed) and `false, err` when Redis answered with
 * an error reply (NOAUTH, WRONGPASS, WRONGTYPE, ...): test the first value for truthiness, not for nil.
 */
declare interface RestyRedis {
  set_timeout(this: RestyRedis, ms: number): void;
  connect(this: RestyRedis, host: string, port: number, options?: { ssl?: boolean; pool?: string }): LuaMultiReturn<[1] | [undefined, string]>;
  auth(this: RestyRedis, password: string): LuaMultiReturn<[string] | [false | undefined, string]>;
  select(this: RestyRedis, db: number): LuaMultiReturn<[string] | [false | undefined, string]>;
  /** A missing key comes back as ngx.null. */
  get(this: RestyRedis, key: string): LuaMultiReturn<[string | LuaUserdata] | [false | undefined, string]>;
  /** Seconds left, -1 without expiry, -2 when the key does not exist. */
  ttl(this: RestyRedis, key: string): LuaMultiReturn<[number] | [false | undefined, string]>;
  set(this: RestyRedis, key: string, value: string, ex: "EX", seconds: number): LuaMultiReturn<[string] | [false | undefined, string]>;
  hset(this: RestyRedis, key: string, field: string, value: string): LuaMultiReturn<[number] | [false | undefined, string]>;
  hdel(this: RestyRedis, key: string, ...fields: string[]): LuaMultiReturn<[number] | [false | undefined, string]>;
  /** Flat array: field, value, field, value, ... */
  hgetall(this: RestyRedis, key: string): LuaMultiReturn<[string[]] | [false | undefined, string]>;
  get_reused_times(this: RestyRedis): LuaMultiReturn<[number] | [undefined, string]>;
  set_keepalive(this: RestyRedis, idleMs: number, poolSize: number): LuaMultiReturn<[1] | [undefined, string]>;
  close(this: RestyRedis): LuaMultiReturn<[1] | [undefined, string]>;
}

/** @noResolution */
declare module "resty.redis" {
  /** @customName new */
  function newRedis(this: void): LuaMultiReturn<[RestyRedis] | [undefined, string]>;
}
