-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.request: headers, header rewriting, args, body. Behaves like APISIX 3.18 *without* apisix-runtime's
-- resty.apisix.request (headers are re-read from nginx on each call, so a set_header is visible at once).
-- contract: apisix-runtime-notes.md §11 (core.request.header/headers/set_header/add_header/get_uri_args/get_body/
-- get_json_request_body_table; nil value removes a header)
local ngx = ngx
local ngx_req = require("ngx.req")
local log = require("apisix.core.log")
local json = require("apisix.core.json")
local get_headers = ngx.req.get_headers
local req_set_header = ngx.req.set_header
local req_add_header = ngx_req.add_header
local req_read_body = ngx.req.read_body
local req_get_body_data = ngx.req.get_body_data
local req_get_body_file = ngx.req.get_body_file
local type = type
local tonumber = tonumber
local error = error
local lower = string.lower
local find = string.find
local io_open = io.open

local _M = {}


local function headers(ctx)
    -- max 0 = no limit, as APISIX's callers expect every header.
    local h = get_headers(0)
    return h
end
_M.headers = headers


function _M.header(ctx, name)
    local value = headers(ctx)[name]
    if type(value) == "table" then
        return value[1]
    end
    return value
end


local function modify_header(ctx, name, value, override)
    if type(name) ~= "string" then
        error("invalid header name: expected string, got " .. type(name), 3)
    end
    if override then
        req_set_header(name, value)
    else
        req_add_header(name, value)
    end
    if ctx and ctx.var then
        -- ctx.var caches http_* lookups; drop the stale entry as APISIX does.
        ctx.var["http_" .. lower(name)] = nil
    end
end


function _M.set_header(ctx, name, value)
    if type(ctx) == "string" then
        -- deprecated (name, value) form
        return modify_header(nil, ctx, name, true)
    end
    modify_header(ctx, name, value, true)
end


function _M.add_header(ctx, name, value)
    if type(ctx) == "string" then
        return modify_header(nil, ctx, name, false)
    end
    modify_header(ctx, name, value, false)
end


function _M.get_uri_args(ctx)
    ctx = ctx or ngx.ctx.api_ctx
    if not ctx.req_uri_args then
        ctx.req_uri_args = ngx.req.get_uri_args(0)
    end
    return ctx.req_uri_args
end


function _M.set_uri_args(ctx, args)
    ctx = ctx or ngx.ctx.api_ctx
    ctx.req_uri_args = nil
    return ngx.req.set_uri_args(args)
end


function _M.get_post_args(ctx)
    ctx = ctx or ngx.ctx.api_ctx
    if not ctx.req_post_args then
        req_read_body()
        local args, err = ngx.req.get_post_args(0)
        if not args then
            log.error("the post form is too large: ", err)
            args = {}
        end
        ctx.req_post_args = args
    end
    return ctx.req_post_args
end


local function check_size(size, max_size)
    if max_size and size > max_size then
        return nil, "request size " .. size .. " is greater than the maximum size " .. max_size .. " allowed"
    end
    return true
end


-- Returns the raw body (also when nginx buffered it to a file), nil when there is none.
function _M.get_body(max_size, ctx)
    if max_size then
        local var = ctx and ctx.var or ngx.var
        local content_length = tonumber(var.http_content_length)
        if content_length then
            local ok, err = check_size(content_length, max_size)
            if not ok then
                return nil, err
            end
        end
    end

    req_read_body()
    local body = req_get_body_data()
    if body then
        local ok, err = check_size(#body, max_size)
        if not ok then
            return nil, err
        end
        return body
    end

    local file_name = req_get_body_file()
    if not file_name then
        return nil
    end
    local f, err = io_open(file_name, "rb")
    if not f then
        return nil, err
    end
    body = f:read("*a")
    f:close()
    local ok, size_err = check_size(#body, max_size)
    if not ok then
        return nil, size_err
    end
    return body
end


local CONTENT_TYPE_JSON = "application/json"

-- JSON only: the stand-in has no form or multipart parser (APISIX's also handles those).
function _M.get_request_body_table(ctx, content_type, max_size)
    ctx = ctx or ngx.ctx.api_ctx
    if ctx._request_body_table ~= nil then
        if content_type and ctx._request_body_type ~= content_type then
            return nil, "request body type mismatch: cached type is " .. (ctx._request_body_type or "unknown")
                .. ", expected " .. content_type
        end
        return ctx._request_body_table
    end

    local ct = content_type or _M.header(ctx, "Content-Type") or ""
    if not find(ct, CONTENT_TYPE_JSON, 1, true) then
        return nil, "unsupported content-type: " .. ct .. ", supported types are: " .. CONTENT_TYPE_JSON
    end
    local body, body_err = _M.get_body(max_size, ctx)
    if not body then
        return nil, "could not get body: " .. (body_err or "request body is empty")
    end
    local result, err = json.decode(body)
    if not result then
        return nil, "could not parse JSON request body: " .. (err or "invalid JSON")
    end
    ctx._request_body_table = result
    ctx._request_body_type = CONTENT_TYPE_JSON
    return result
end


-- contract: apisix-runtime-notes.md §11 (get_json_request_body_table: nil, {message=...} on error)
function _M.get_json_request_body_table(max_size)
    local ctx = ngx.ctx.api_ctx
    local body, err = _M.get_request_body_table(ctx, CONTENT_TYPE_JSON, max_size)
    if not body then
        return nil, {message = err}
    end
    return body
end


function _M.get_ip(ctx)
    ctx = ctx or ngx.ctx.api_ctx
    return ctx.var.realip_remote_addr or ctx.var.remote_addr or ""
end


function _M.get_remote_client_ip(ctx)
    ctx = ctx or ngx.ctx.api_ctx
    return ctx.var.remote_addr or ""
end


function _M.get_host(ctx)
    ctx = ctx or ngx.ctx.api_ctx
    return ctx.var.host or ""
end


function _M.get_scheme(ctx)
    ctx = ctx or ngx.ctx.api_ctx
    return ctx.var.scheme or ""
end


function _M.get_port(ctx)
    ctx = ctx or ngx.ctx.api_ctx
    return tonumber(ctx.var.server_port)
end


_M.get_method = ngx.req.get_method
_M.get_http_version = ngx.req.http_version


return _M
