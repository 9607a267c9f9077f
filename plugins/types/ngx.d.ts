/**
 * The subset of ngx_lua (lua-nginx-module 0.10.x + lua-resty-core) that Spillway uses.
 * Written from the lua-nginx-module README; every function is a dot call unless it takes `this`.
 */
/** @noSelfInFile */

declare interface NgxSharedDict {
  get(this: NgxSharedDict, key: string): LuaMultiReturn<[string | number | boolean | undefined, number | undefined]>;
  set(this: NgxSharedDict, key: string, value: string | number | boolean | undefined, exptime?: number, flags?: number): LuaMultiReturn<[boolean, string | undefined, boolean]>;
  add(this: NgxSharedDict, key: string, value: string | number | boolean, exptime?: number): LuaMultiReturn<[boolean, string | undefined, boolean]>;
  incr(this: NgxSharedDict, key: string, delta: number, init?: number, initTtl?: number): LuaMultiReturn<[number] | [undefined, string]>;
  delete(this: NgxSharedDict, key: string): void;
  ttl(this: NgxSharedDict, key: string): LuaMultiReturn<[number] | [undefined, string]>;
  expire(this: NgxSharedDict, key: string, exptime: number): LuaMultiReturn<[boolean] | [undefined, string]>;
  flush_all(this: NgxSharedDict): void;
}

declare interface NgxTcpSocket {
  connect(this: NgxTcpSocket, host: string, port: number, options?: { pool?: string; pool_size?: number; backlog?: number }): LuaMultiReturn<[1] | [undefined, string]>;
  sslhandshake(this: NgxTcpSocket, reused: boolean | undefined, serverName?: string, verify?: boolean): LuaMultiReturn<[unknown] | [undefined, string]>;
  send(this: NgxTcpSocket, data: string | string[]): LuaMultiReturn<[number] | [undefined, string]>;
  receive(this: NgxTcpSocket, pattern?: string | number): LuaMultiReturn<[string] | [undefined, string, string | undefined]>;
  receiveany(this: NgxTcpSocket, max: number): LuaMultiReturn<[string] | [undefined, string]>;
  settimeouts(this: NgxTcpSocket, connectMs: number, sendMs: number, readMs: number): void;
  settimeout(this: NgxTcpSocket, ms: number): void;
  setkeepalive(this: NgxTcpSocket, idleMs?: number, poolSize?: number): LuaMultiReturn<[1] | [undefined, string]>;
  getreusedtimes(this: NgxTcpSocket): LuaMultiReturn<[number] | [undefined, string]>;
  close(this: NgxTcpSocket): LuaMultiReturn<[1] | [undefined, string]>;
}

/** Request headers as ngx.req.get_headers returns them: lower-cased names, repeated headers as arrays. */
declare type NgxHeaders = LuaTable<string, string | string[]>;

/** @noSelf */
declare interface NgxReq {
  get_headers(maxHeaders?: number, raw?: boolean): LuaMultiReturn<[NgxHeaders, string | undefined]>;
  set_header(name: string, value: string | string[] | undefined): void;
  clear_header(name: string): void;
  get_method(): string;
  get_uri_args(max?: number): LuaMultiReturn<[LuaTable<string, string | boolean | string[]>, string | undefined]>;
  set_uri_args(args: string | LuaTable<string, string>): void;
  set_uri(uri: string, jump?: boolean): void;
  read_body(): void;
  get_body_data(): string | undefined;
  get_body_file(): string | undefined;
  start_time(): number;
  http_version(): number;
}

/** @noSelf */
declare interface NgxResp {
  get_headers(maxHeaders?: number, raw?: boolean): LuaMultiReturn<[NgxHeaders, string | undefined]>;
}

declare interface NgxShared {
  [name: string]: NgxSharedDict | undefined;
}

/** @noSelf */
declare interface NgxTimer {
  at(delaySeconds: number, callback: (this: void, premature: boolean, ...args: any[]) => void, ...args: unknown[]): LuaMultiReturn<[true] | [undefined, string]>;
  every(delaySeconds: number, callback: (this: void, premature: boolean, ...args: any[]) => void, ...args: unknown[]): LuaMultiReturn<[true] | [undefined, string]>;
}

/** @noSelf */
declare interface NgxThread {
  spawn(fn: (this: void, ...args: any[]) => unknown, ...args: unknown[]): LuaThread;
  wait(...threads: LuaThread[]): LuaMultiReturn<[boolean, ...unknown[]]>;
  kill(thread: LuaThread): LuaMultiReturn<[true] | [undefined, string]>;
}

/** @noSelf */
declare interface NgxSocketApi {
  tcp(): NgxTcpSocket;
}

/** @noSelf */
declare interface NgxWorker {
  id(): number | undefined;
  pid(): number;
  exiting(): boolean;
}

/** @noSelf */
declare interface NgxRe {
  match(subject: string, regex: string, options?: string): LuaMultiReturn<[LuaTable<number | string, string>] | [undefined, string | undefined]>;
  find(subject: string, regex: string, options?: string): LuaMultiReturn<[number, number] | [undefined, undefined, string | undefined]>;
}

/** Variables readable as ngx.var.<name>; writable ones are declared by nginx.conf. */
declare type NgxVar = Record<string, string | undefined>;

/** @noSelf */
declare interface Ngx {
  /** In body_filter: [chunk, eof]. Declared as a tuple so that TS index 0 becomes Lua index 1. */
  arg: [string, boolean];
  var: NgxVar;
  ctx: Record<string, unknown>;
  header: Record<string, string | string[] | undefined>;
  status: number;
  req: NgxReq;
  resp: NgxResp;
  shared: NgxShared;
  timer: NgxTimer;
  thread: NgxThread;
  socket: NgxSocketApi;
  worker: NgxWorker;
  re: NgxRe;
  headers_sent: boolean;
  null: LuaUserdata;

  OK: 0;
  ERROR: -1;
  AGAIN: -2;
  DONE: -4;
  DECLINED: -5;
  HTTP_OK: 200;
  HTTP_BAD_REQUEST: 400;
  HTTP_UNAUTHORIZED: 401;
  HTTP_NOT_FOUND: 404;
  HTTP_TOO_MANY_REQUESTS: 429;
  HTTP_INTERNAL_SERVER_ERROR: 500;
  HTTP_BAD_GATEWAY: 502;
  HTTP_SERVICE_UNAVAILABLE: 503;
  HTTP_GATEWAY_TIMEOUT: 504;

  STDERR: number;
  EMERG: number;
  ALERT: number;
  CRIT: number;
  ERR: number;
  WARN: number;
  NOTICE: number;
  INFO: number;
  DEBUG: number;

  log(level: number, ...args: unknown[]): void;
  say(...args: unknown[]): LuaMultiReturn<[1] | [undefined, string]>;
  print(...args: unknown[]): LuaMultiReturn<[1] | [undefined, string]>;
  flush(wait?: boolean): LuaMultiReturn<[1] | [undefined, string]>;
  send_headers(): LuaMultiReturn<[1] | [undefined, string]>;
  exit(status: number): never;
  eof(): LuaMultiReturn<[1] | [undefined, string]>;
  sleep(seconds: number): void;
  now(): number;
  time(): number;
  update_time(): void;
  sha1_bin(text: string): string;
  md5(text: string): string;
  crc32_short(text: string): number;
  encode_base64(text: string, noPadding?: boolean): string;
  decode_base64(text: string): string | undefined;
  escape_uri(text: string): string;
  unescape_uri(text: string): string;
  encode_args(args: LuaTable<string, string | number | boolean>): string;
  decode_args(text: string, max?: number): LuaTable<string, string | boolean | string[]>;
  get_phase(): string;
  http_time(seconds: number): string;
  parse_http_time(text: string): number | undefined;
}

declare const ngx: Ngx;

/** lua-resty-core's ngx.resp (ngx/resp.lua). */
/** @noResolution */
declare module "ngx.resp" {
  /** Adds a response header line without replacing one of the same name (nginx skips its scan for it). */
  export function add_header(this: void, name: string, value: string | string[]): void;
}
