/** Header helpers shared by the provider and the companion plugin (touch no ngx state). */
import type { HeaderTable } from "../lib/header-table";
import { lowerName } from "../lib/header-policy";

/** Lower-cased copy of an upstream's headers (lua-resty-http keeps the upstream's spelling). */
export function lowerHeaders(this: void, headers: LuaTable<string, string | string[]> | undefined): HeaderTable {
  const out: HeaderTable = {};
  if (headers === undefined) return out;
  for (const [name, value] of pairs(headers)) out[lowerName(name)] = value;
  return out;
}
