-- Test code. Runs transpiled Spillway modules under LuaJIT for the vitest suites (tests/helpers/lua.ts).
-- Reads a JSON array of calls from stdin: {module, fn, args}; writes a JSON array of results:
-- {ok = true, ret = {...all return values...}} or {ok = false, err = "..."}.
-- An argument {"$lua": "<chunk>"} is replaced by what the chunk returns (for callbacks and Lua-only values);
-- JSON null in arguments becomes nil, and nil in return values becomes JSON null.
local cjson = require("cjson")

local function materialize(value)
  if value == cjson.null then
    return nil
  end
  if type(value) ~= "table" then
    return value
  end
  if value["$lua"] then
    local chunk = assert(loadstring(value["$lua"]))
    return chunk()
  end
  local out = {}
  for k, v in pairs(value) do
    out[k] = materialize(v)
  end
  return out
end

local function sanitize(value, seen)
  local t = type(value)
  if t == "nil" then
    return cjson.null
  elseif t == "function" or t == "thread" or t == "userdata" then
    if value == cjson.null then
      return cjson.null
    end
    return "<" .. t .. ">"
  elseif t ~= "table" then
    return value
  end
  seen = seen or {}
  if seen[value] then
    return "<cycle>"
  end
  seen[value] = true
  local out = {}
  for k, v in pairs(value) do
    out[k] = sanitize(v, seen)
  end
  seen[value] = nil
  return out
end

local function pack(...)
  return {n = select("#", ...), ...}
end

local calls = cjson.decode(io.read("*a"))
local results = {}
for i, call in ipairs(calls) do
  local ok, mod = pcall(require, call.module)
  if not ok then
    results[i] = {ok = false, err = tostring(mod)}
  else
    local fn = mod[call.fn]
    local args = {}
    local n = #(call.args or {})
    for j = 1, n do
      args[j] = materialize(call.args[j])
    end
    local packed = pack(pcall(fn, unpack(args, 1, n)))
    if packed[1] then
      local ret = {}
      for j = 2, packed.n do
        ret[j - 1] = sanitize(packed[j])
      end
      results[i] = {ok = true, ret = ret}
    else
      results[i] = {ok = false, err = tostring(packed[2])}
    end
  end
end
cjson.encode_sparse_array(true)
io.write(cjson.encode(results))
