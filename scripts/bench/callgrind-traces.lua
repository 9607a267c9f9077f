-- Trace recorder for scripts/bench/callgrind.ts (loaded by the gateway under callgrind through a `location =
-- /__cg/traces` the script adds to the server block; never part of Spillway's build). It maps LuaJIT's machine code
-- back to Lua: for every trace that stops (is compiled), its number, machine-code address and size, parent trace,
-- start location and the Lua functions whose bytecode it recorded (with counts). callgrind names JIT code only by
-- address; the script looks those addresses up here.
--
--   GET /__cg/traces?attach=1      attach the "trace" and "record" event handlers (once; before any warm-up)
--   GET /__cg/traces?stats=1       {"starts":..,"stops":..,"aborts":..,"flushes":..} (JSON)
--   GET /__cg/traces?dump=<file>   write the map, one tab-separated line per compiled trace, in compile order:
--                                  seq, trace, address (hex), size, parent, link, linktype, start, functions
--
-- The handlers cost nothing on the hot path: LuaJIT calls them only while it records or compiles a trace.
local jutil = require("jit.util")
local vmdef = require("jit.vmdef")

local _M = {}
local state = { attached = false, lines = {}, cur = {}, starts = 0, stops = 0, aborts = 0, flushes = 0 }

local function short(source)
  if not source then return "?" end
  source = source:gsub("^@", "")
  -- the last two path components (plugins/ai-proxy-multi.lua, lua/spillway-failover.lua, core/ctx.lua)
  local two = source:match("([^/]+/[^/]+)$")
  return two or source
end

local function describe(func, pc)
  local fi = jutil.funcinfo(func, pc)
  if fi.source then
    local line = fi.currentline or fi.linedefined or 0
    return short(fi.source) .. ":" .. line
  end
  if fi.ffid then return vmdef.ffnames[fi.ffid] or ("ff" .. fi.ffid) end
  if fi.addr then return string.format("C:%x", fi.addr) end
  return "?"
end

local function fname(func)
  local fi = jutil.funcinfo(func)
  if fi.source then return short(fi.source) .. ":" .. (fi.linedefined or 0) end
  if fi.ffid then return vmdef.ffnames[fi.ffid] or ("ff" .. fi.ffid) end
  return "C"
end

local function on_trace(what, tr, func, pc, otr, oex)
  if what == "start" then
    state.starts = state.starts + 1
    state.cur[tr] = { start = describe(func, pc), parent = otr or 0, counts = {}, order = {} }
  elseif what == "stop" then
    state.stops = state.stops + 1
    local t = state.cur[tr]
    state.cur[tr] = nil
    local mcode, addr = jutil.tracemc(tr)
    if t == nil or mcode == nil then return end
    local info = jutil.traceinfo(tr) or {}
    local funcs = {}
    for _, f in ipairs(t.order) do
      funcs[#funcs + 1] = (fname(f):gsub("[,=\t\n]", "_")) .. "=" .. t.counts[f]
    end
    state.lines[#state.lines + 1] = table.concat({
      #state.lines + 1, tr, string.format("%x", addr), #mcode, t.parent, info.link or 0, info.linktype or "?",
      (t.start:gsub("[\t\n]", "_")), table.concat(funcs, ","),
    }, "\t")
  elseif what == "abort" then
    state.aborts = state.aborts + 1
    state.cur[tr] = nil
  elseif what == "flush" then
    state.flushes = state.flushes + 1
  end
end

local function on_record(tr, func)
  local t = state.cur[tr]
  if t == nil then return end
  local n = t.counts[func]
  if n == nil then
    t.order[#t.order + 1] = func
    n = 0
  end
  t.counts[func] = n + 1
end

function _M.handle()
  local args = ngx.req.get_uri_args()
  if args.attach and not state.attached then
    jit.attach(on_trace, "trace")
    jit.attach(on_record, "record")
    state.attached = true
  end
  if args.dump then
    local f = assert(io.open(args.dump, "w"))
    f:write(table.concat(state.lines, "\n"), "\n")
    f:close()
  end
  ngx.header["content-type"] = "application/json"
  ngx.say(string.format('{"attached":%s,"starts":%d,"stops":%d,"aborts":%d,"flushes":%d,"seq":%d}',
    tostring(state.attached), state.starts, state.stops, state.aborts, state.flushes, #state.lines))
end

return _M
