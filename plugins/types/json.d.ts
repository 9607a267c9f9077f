/**
 * Decoded JSON as Lua sees it. Arrays are typed as arrays so that TSTL adds the 0→1 index offset;
 * nothing decoded is ever `any`, so an unchecked `obj.a[0]` cannot compile.
 */
declare type JsonNull = LuaUserdata & { readonly __jsonNullBrand: unique symbol };
declare type JsonValue = string | number | boolean | JsonNull | JsonObject | JsonArray;
declare type JsonArray = JsonValue[];
declare interface JsonObject {
  [key: string]: JsonValue | undefined;
}
