-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.string: plain-text helpers plugins call (has_prefix, has_suffix, find, decode_args, encode_args).
-- contract: apisix-runtime-notes.md §11 (core.string.has_prefix/find)
local find = string.find
local sub = string.sub
local byte = string.byte
local ngx = ngx

local _M = {version = 0.1}

setmetatable(_M, {__index = string})


function _M.has_prefix(s, prefix)
    if type(s) ~= "string" or type(prefix) ~= "string" then
        error("unexpected type: s:" .. type(s) .. ", prefix:" .. type(prefix), 2)
    end
    return sub(s, 1, #prefix) == prefix
end


function _M.has_suffix(s, suffix)
    if type(s) ~= "string" or type(suffix) ~= "string" then
        error("unexpected type: s:" .. type(s) .. ", suffix:" .. type(suffix), 2)
    end
    return #suffix == 0 or sub(s, -#suffix) == suffix
end


-- Plain (non-pattern) find, as APISIX's core.string.find.
function _M.find(haystack, needle, from)
    return find(haystack, needle, from or 1, true)
end


function _M.rfind_char(s, ch, idx)
    local b = byte(ch)
    for i = idx or #s, 1, -1 do
        if byte(s, i, i) == b then
            return i
        end
    end
    return nil
end


function _M.decode_args(args)
    return ngx.decode_args(args, 0)
end


function _M.encode_args(args)
    return ngx.encode_args(args)
end


return _M
