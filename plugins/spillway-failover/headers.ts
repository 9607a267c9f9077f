/** Header helpers shared by the provider and the companion plugin (touch no ngx state). */
import type { HeaderTable } from "../lib/header-table";
import { lowerName } from "../lib/header-policy";

/** LuaJIT's table.new (narray, nhash), required by name: it is part of the VM, not a file to bundle. */
export const newTable = require("table.new") as (this: void, narray: number, nhash: number) => LuaTable;

/** Room for a backend's usual response headers: a table grown from empty is rehashed at 1, 2, 4 and 8 entries. */
const HEADER_SLOTS = 16;

/** A header table with room for a request's or an answer's usual headers. */
export function newHeaderTable(this: void): HeaderTable {
  return newTable(0, HEADER_SLOTS) as unknown as HeaderTable;
}

/** Lower-cased copy of an upstream's headers (lua-resty-http keeps the upstream's spelling). */
export function lowerHeaders(this: void, headers: LuaTable<string, string | string[]> | undefined): HeaderTable {
  const out = newHeaderTable();
  if (headers === undefined) return out;
  for (const [name, value] of pairs(headers)) out[lowerName(name)] = value;
  return out;
}
