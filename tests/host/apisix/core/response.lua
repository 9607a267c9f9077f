-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.response: exit (table bodies JSON-encoded + "\n", then ngx.exit), header setters, response source marks.
-- contract: apisix-runtime-notes.md §11 (core.response.exit(code, body_or_table, ...), set_header, add_header,
-- get_upstream_status, hold_body_chunk)
local ngx = ngx
local json = require("apisix.core.json")
local ngx_resp = require("ngx.resp")
local ngx_print = ngx.print
local ngx_exit = ngx.exit
local ngx_header = ngx.header
local ngx_add_header = ngx_resp.add_header
local select = select
local type = type
local error = error
local pairs = pairs
local tonumber = tonumber
local concat = table.concat
local sub = string.sub

local _M = {version = 0.1}


-- exit(code, ...): each table argument is encoded as JSON followed by "\n", strings are printed as they are.
-- A non-number first argument is a body with no status change (APISIX's say()).
local function resp_exit(code, ...)
    local parts = {}
    local n = 0
    if code ~= nil and type(code) ~= "number" then
        n = n + 1
        parts[n] = code
        code = nil
    end
    if code then
        ngx.status = code
    end
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        if type(v) == "table" then
            local body, err = json.encode(v)
            if not body then
                error("failed to encode data: " .. err, 2)
            end
            n = n + 1
            parts[n] = body
            n = n + 1
            parts[n] = "\n"
        elseif v ~= nil then
            n = n + 1
            parts[n] = v
        end
    end
    if n > 0 then
        ngx_print(concat(parts))
    end
    if code then
        local ctx = ngx.ctx.api_ctx
        if ctx and not ctx._resp_source then
            ctx._resp_source = "apisix"
        end
        return ngx_exit(code)
    end
end
_M.exit = resp_exit


function _M.say(...)
    resp_exit(nil, ...)
end


local function set_header(append, ...)
    if ngx.headers_sent then
        error("headers have already been sent", 3)
    end
    local count = select("#", ...)
    if count == 1 then
        local headers = select(1, ...)
        if type(headers) ~= "table" then
            ngx_header[headers] = nil
            return
        end
        for k, v in pairs(headers) do
            if append then
                ngx_add_header(k, v)
            else
                ngx_header[k] = v
            end
        end
        return
    end
    for i = 1, count, 2 do
        if append then
            ngx_add_header(select(i, ...), select(i + 1, ...))
        else
            ngx_header[select(i, ...)] = select(i + 1, ...)
        end
    end
end


function _M.set_header(...)
    set_header(false, ...)
end


function _M.add_header(...)
    set_header(true, ...)
end


function _M.get_upstream_status(ctx)
    return tonumber(sub(ctx.var.upstream_status or "", -3))
end


function _M.set_response_source(ctx, source)
    if ctx then
        ctx._resp_source = source
    end
end


function _M.clear_header_as_body_modified()
    ngx.header.content_length = nil
    ngx.header.content_md5 = nil
    ngx.header.etag = nil
    ngx.header.last_modified = nil
end


-- Collects the body across body_filter calls; returns the whole body on the last chunk, else nil.
function _M.hold_body_chunk(ctx, hold_the_copy, max_resp_body_bytes)
    local body_buffer
    local chunk, eof = ngx.arg[1], ngx.arg[2]
    if not ctx._body_buffer then
        ctx._body_buffer = {}
        ctx._body_buffer_len = 0
    end
    if type(chunk) == "string" and chunk ~= "" then
        local budget = max_resp_body_bytes and (max_resp_body_bytes - ctx._body_buffer_len)
        if not budget or budget > 0 then
            if budget and #chunk > budget then
                chunk = sub(chunk, 1, budget)
            end
            body_buffer = ctx._body_buffer
            body_buffer[#body_buffer + 1] = chunk
            ctx._body_buffer_len = ctx._body_buffer_len + #chunk
        end
    end
    if eof then
        body_buffer = concat(ctx._body_buffer)
        ctx._body_buffer = nil
        ctx._body_buffer_len = nil
        return body_buffer
    end
    if not hold_the_copy then
        ngx.arg[1] = nil
    end
    return nil
end


return _M
