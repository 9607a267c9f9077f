-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.table: LuaJIT table extensions plus try_read_attr/deepcopy/merge/array_find/insert_tail.
-- contract: apisix-runtime-notes.md §11 (core.table.new/clear/nkeys/insert/concat/clone/deepcopy/merge/try_read_attr/
-- array_find/isarray)
local new_tab = require("table.new")
local nkeys = require("table.nkeys")
local isarray = require("table.isarray")
local select = select
local pairs = pairs
local ipairs = ipairs
local type = type
local tostring = tostring
local getmetatable = getmetatable
local setmetatable = setmetatable
local sub = string.sub

local _M = {
    version = 0.2,
    new = new_tab,
    clear = require("table.clear"),
    nkeys = nkeys,
    insert = table.insert,
    concat = table.concat,
    sort = table.sort,
    remove = table.remove,
    clone = require("table.clone"),
    isarray = isarray,
    isempty = require("table.isempty"),
}

setmetatable(_M, {__index = table})


function _M.insert_tail(tab, ...)
    local idx = #tab
    for i = 1, select("#", ...) do
        idx = idx + 1
        tab[idx] = select(i, ...)
    end
    return idx
end


function _M.try_read_attr(tab, ...)
    for i = 1, select("#", ...) do
        if type(tab) ~= "table" then
            return nil
        end
        tab = tab[select(i, ...)]
    end
    return tab
end


function _M.array_find(array, val)
    if type(array) ~= "table" then
        return nil
    end
    for i, v in ipairs(array) do
        if v == val then
            return i
        end
    end
    return nil
end


-- opts.shallow_prefix: paths ("self.value.plugins") whose children are copied by reference, as APISIX does for
-- plugin confs when merging consumer plugins into a route.
local function under_prefix(path, prefix)
    return sub(path, 1, #prefix) == prefix and (#path == #prefix or sub(path, #prefix + 1, #prefix + 1) == ".")
end

local function copy(orig, seen, path, opts)
    local out = new_tab(#orig, 0)
    seen[orig] = out
    for k, v in pairs(orig) do
        local child = path .. "." .. tostring(k)
        if type(v) == "table" and not (opts and opts.shallow_prefix and under_prefix(path, opts.shallow_prefix)) then
            out[k] = seen[v] or copy(v, seen, child, opts)
        else
            out[k] = v
        end
    end
    local mt = getmetatable(orig)
    if mt ~= nil then
        setmetatable(out, mt)
    end
    return out
end

function _M.deepcopy(orig, opts)
    if type(orig) ~= "table" then
        return orig
    end
    return copy(orig, {}, "self", opts)
end


local function merge(origin, extend)
    for k, v in pairs(extend) do
        if type(v) == "table" then
            if type(origin[k]) == "table" and not isarray(origin[k]) and not isarray(v) then
                merge(origin[k], v)
            else
                origin[k] = v
            end
        elseif v == ngx.null then
            origin[k] = nil
        else
            origin[k] = v
        end
    end
    return origin
end
_M.merge = merge


return _M
