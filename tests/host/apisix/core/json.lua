-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.json over cjson.safe: encode/decode/delay_encode/stably_encode.
-- contract: apisix-runtime-notes.md §11 (core.json.encode(t, force), decode (cjson.safe), delay_encode, stably_encode)
--
-- Debian ships upstream lua-cjson, not OpenResty's fork: it escapes '/' as '\/' and has no
-- encode_escape_forward_slash switch (tstl-openresty.md §7). APISIX turns that escaping off, so encode() undoes it:
-- cjson escapes every '/' and writes every '\' as '\\', hence each '\/' in its output is an escaped slash.
local cjson = require("cjson.safe")
local json_encode = cjson.encode
local json_decode = cjson.decode
local cjson_null = cjson.null
local gsub = string.gsub
local type = type
local pairs = pairs
local tostring = tostring
local setmetatable = setmetatable
local sort = table.sort
local concat = table.concat
local format = string.format

local _M = {
    version = 0.1,
    null = cjson_null,
    -- upstream cjson has no array_mt; setmetatable(t, nil) is then a no-op, and [] still encodes as {}.
    array_mt = cjson.array_mt,
}


local function unescape_slashes(text)
    if text == nil then
        return nil
    end
    return (gsub(text, "\\/", "/"))
end
_M.unescape_slashes = unescape_slashes


local function strip_nulls(t)
    for k, v in pairs(t) do
        if v == cjson_null then
            t[k] = nil
        elseif type(v) == "table" then
            strip_nulls(v)
        end
    end
    return t
end


function _M.decode(text, opts)
    local obj, err = json_decode(text)
    if obj ~= nil and opts and opts.null_as_nil then
        if obj == cjson_null then
            return nil, err
        end
        if type(obj) == "table" then
            strip_nulls(obj)
        end
    end
    return obj, err
end


-- force: serialise functions, userdata and cycles with tostring instead of failing (for log lines).
local function serialisable(data, seen)
    local t = type(data)
    if t == "function" or t == "userdata" or t == "cdata" or t == "thread" then
        if data == cjson_null then
            return data
        end
        return tostring(data)
    end
    if t ~= "table" then
        return data
    end
    if seen[data] then
        return tostring(data)
    end
    seen[data] = true
    local out = {}
    for k, v in pairs(data) do
        local key = k
        if type(k) ~= "string" and type(k) ~= "number" then
            key = tostring(k)
        end
        out[key] = serialisable(v, seen)
    end
    seen[data] = nil
    return out
end


function _M.encode(data, force)
    if force then
        data = serialisable(data, {})
    end
    local text, err = json_encode(data)
    if not text then
        return nil, err
    end
    return unescape_slashes(text)
end


local delay_mt = {
    __tostring = function(self)
        local text, err = _M.encode(self.data, self.force)
        if not text then
            return "failed to encode: " .. tostring(err)
        end
        return text
    end,
}

-- Encodes only when the log line is written.
function _M.delay_encode(data, force)
    return setmetatable({data = data, force = force}, delay_mt)
end


-- Sorted-key encoder, so equal tables give equal text (APISIX uses dkjson for this; plugin.conf_version hashes it).
local function is_sequence(t)
    local n = #t
    local count = 0
    for _ in pairs(t) do
        count = count + 1
    end
    return count == n and (n > 0 or next(t) == nil)
end

local function stable(value, out)
    local t = type(value)
    if value == cjson_null or value == nil then
        out[#out + 1] = "null"
    elseif t == "boolean" then
        out[#out + 1] = value and "true" or "false"
    elseif t == "number" then
        if value == math.floor(value) and value > -1e15 and value < 1e15 then
            out[#out + 1] = format("%d", value)
        else
            out[#out + 1] = format("%.14g", value)
        end
    elseif t == "string" then
        out[#out + 1] = json_encode(value)
    elseif t == "table" then
        if next(value) ~= nil and is_sequence(value) then
            out[#out + 1] = "["
            for i = 1, #value do
                if i > 1 then
                    out[#out + 1] = ","
                end
                stable(value[i], out)
            end
            out[#out + 1] = "]"
        else
            local keys = {}
            for k in pairs(value) do
                keys[#keys + 1] = tostring(k)
            end
            sort(keys)
            out[#out + 1] = "{"
            for i, k in ipairs(keys) do
                if i > 1 then
                    out[#out + 1] = ","
                end
                out[#out + 1] = json_encode(k)
                out[#out + 1] = ":"
                local v = value[k]
                if v == nil then
                    v = value[tonumber(k)]
                end
                stable(v, out)
            end
            out[#out + 1] = "}"
        end
    else
        out[#out + 1] = json_encode(tostring(value))
    end
end

function _M.stably_encode(value)
    local out = {}
    stable(value, out)
    return unescape_slashes(concat(out))
end


return _M
