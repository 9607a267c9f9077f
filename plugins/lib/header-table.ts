/**
 * Headers as both hosts hand them to us: a table of names to values, where a repeated header is an array
 * (ngx.req.get_headers, ngx.resp.get_headers and lua-resty-http's res.headers all work this way).
 * Portable TS: runs as Lua under OpenResty and as JS under Node (house style §23).
 */
export type HeaderValue = string | string[];

export interface HeaderTable {
  [name: string]: HeaderValue | undefined;
}

/**
 * The value of `name` (give it lower-cased), or the first value of a repeated header. Lookup is by index, so
 * the case-insensitive tables of ngx_lua and lua-resty-http also match other spellings.
 */
export function firstHeader(this: void, headers: HeaderTable | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  const value = headers[name];
  if (typeof value === "string") return value;
  if (typeof value === "object") {
    const first = value[0];
    return typeof first === "string" ? first : undefined;
  }
  return undefined;
}
