// azure-openai-auth credential logic, run as the transpiled Lua under LuaJIT.
import { describe, expect, it } from "vitest";
import { callLua, callLuaBatch, lua } from "../helpers/lua.ts";

const MOD = "azure-openai-auth.credentials";
const readTable = lua("return function(t, k) return t[k] end");

function find(headers: Record<string, string>): unknown[] {
  return callLua(MOD, "findCredential", headers, readTable);
}

describe("azure-openai-auth credential lookup (LuaJIT)", () => {
  it("takes a Bearer token from Authorization", () => {
    expect(find({ authorization: "Bearer sk-client-1" })).toEqual(["sk-client-1", "authorization"]);
  });

  it("accepts the Bearer scheme in any case and trims blanks", () => {
    expect(find({ authorization: "  bearer   tok-2  " })).toEqual(["tok-2", "authorization"]);
  });

  it("prefers Authorization over api-key over ocp-apim-subscription-key", () => {
    expect(find({ authorization: "Bearer a", "api-key": "b", "ocp-apim-subscription-key": "c" })).toEqual(["a", "authorization"]);
    expect(find({ "api-key": "b", "ocp-apim-subscription-key": "c" })).toEqual(["b", "api-key"]);
    expect(find({ "ocp-apim-subscription-key": "c" })).toEqual(["c", "ocp-apim-subscription-key"]);
  });

  it("falls through a non-Bearer Authorization to api-key", () => {
    expect(find({ authorization: "Basic dXNlcjpwYXNz", "api-key": "k" })).toEqual(["k", "api-key"]);
  });

  it("treats empty or blank values as absent", () => {
    expect(find({ authorization: "Bearer   ", "api-key": "  " })).toEqual([null, null]);
    expect(find({})).toEqual([null, null]);
  });
});

describe("constant-time comparison (LuaJIT)", () => {
  it("compares equal and unequal strings", () => {
    const results = callLuaBatch([
      { module: MOD, fn: "constantTimeEqual", args: ["abcdef", "abcdef"] },
      { module: MOD, fn: "constantTimeEqual", args: ["abcdef", "abcdeg"] },
      { module: MOD, fn: "constantTimeEqual", args: ["abc", "abcd"] },
      { module: MOD, fn: "constantTimeEqual", args: ["", ""] },
    ]);
    expect(results.map((r) => (r.ok ? r.ret[0] : r.err))).toEqual([true, false, false, true]);
  });

  it("finds the matching digest among all entries, first match wins", () => {
    const entries = [
      { digest: "d1", value: "alice" },
      { digest: "d2", value: "bob" },
      { digest: "d2", value: "mallory" },
    ];
    expect(callLua(MOD, "matchDigest", entries, "d2")).toEqual(["bob"]);
    expect(callLua(MOD, "matchDigest", entries, "d3")).toEqual([null]);
  });
});
