/** lua-cjson (cjson.safe never raises: failures come back as nil, err). */
/** @noSelfInFile */

/** @noResolution */
declare module "cjson.safe" {
  export function encode(value: unknown): LuaMultiReturn<[string] | [undefined, string]>;
  export function decode(text: string): LuaMultiReturn<[JsonValue] | [undefined, string]>;
  /** JSON null: the sentinel cjson decodes `null` to and encodes back to `null`. */
  /** @customName null */
  export const jsonNull: JsonNull;
  /** A table cjson encodes as [] (an empty Lua table would be {}). */
  export const empty_array: LuaTable;
}
