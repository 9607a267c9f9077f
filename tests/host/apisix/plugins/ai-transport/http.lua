-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- The AI HTTP transport: ctx-free; takes params from a provider's build_request and a timeout, returns the response.
-- Callers look `request` up on this module per call, so a wrapper installed from lua_module_hook sees every attempt.
-- contract: apisix-ai-contract.md §1.3 (transport failure → handle_error: 504 when the message has "timeout" or
-- "timed out", else 500), §5.3 (construct_forward_headers: all client headers lower-cased, auth.header overlaid,
-- content-type forced to application/json, host/content-length/accept-encoding dropped), §5.4 (res carries status,
-- headers, body_reader, read_body, _httpc and timing fields), §2.4 (a new client and set_timeout per attempt)
local core = require("apisix.core")
local http_client = require("apisix.utils.http")
local ngx_now = ngx.now
local pairs = pairs
local ipairs = ipairs
local type = type
local lower = string.lower

local _M = {}

local DROPPED = {"host", "content-length", "accept-encoding"}

local attr_schema = {
    type = "object",
    properties = {http_client = http_client.client_schema},
}


local function client_name()
    local attr = core.table.try_read_attr(core.config.local_conf(), "plugin_attr", "ai-proxy") or {}
    local ok, err = core.schema.check(attr_schema, attr)
    if not ok then
        return nil, "invalid plugin_attr.ai-proxy: " .. err
    end
    return attr.http_client or http_client.DEFAULT_CLIENT
end


function _M.handle_error(err)
    if core.string.find(err, "timeout") or core.string.find(err, "timed out") then
        return 504
    end
    return 500
end


function _M.construct_forward_headers(ext_opts_headers, client_headers)
    local headers = {}
    for k, v in pairs(client_headers or {}) do
        headers[lower(k)] = v
    end
    for k, v in pairs(ext_opts_headers or {}) do
        headers[lower(k)] = v
    end
    headers["content-type"] = "application/json"
    for _, h in ipairs(DROPPED) do
        headers[h] = nil
    end
    return headers
end


-- Tables are JSON-encoded with sorted keys, as 3.18 does (canonical encoding for cache hit rates).
local function encode_body(body)
    return core.json.stably_encode(body)
end


-- → res | nil, err, err_meta
function _M.request(params, timeout)
    local name, name_err = client_name()
    if not name then
        return nil, "failed to create http client: " .. name_err
    end
    local httpc, err = http_client.new(name)
    if not httpc then
        return nil, "failed to create http client: " .. (err or "unknown")
    end
    httpc:set_timeout(timeout)

    local meta = {
        upstream_addr = (params.host or "") .. ":" .. (params.port or ""),
        upstream_host = params.host or "",
        upstream_scheme = params.scheme or "http",
        upstream_uri = params.path,
    }
    local t0 = ngx_now()
    meta.t0 = t0
    local ok, conn_err = httpc:connect(params)
    if not ok then
        return nil, "connect: " .. (conn_err or "unknown"), meta
    end
    meta.connect_time = (ngx_now() - t0) * 1000

    if type(params.body) ~= "string" then
        params.body = encode_body(params.body)
    end
    local res, req_err = httpc:request(params)
    if not res then
        httpc:close()
        return nil, "request: " .. (req_err or "unknown"), meta
    end

    res._httpc = httpc
    res._upstream_addr = meta.upstream_addr
    res._upstream_host = meta.upstream_host
    res._upstream_scheme = meta.upstream_scheme
    res._upstream_uri = params.path
    res._connect_time = meta.connect_time
    res._header_time = (ngx_now() - t0) * 1000
    res._t0 = t0
    return res
end


function _M.set_keepalive(res, keepalive_timeout, keepalive_pool)
    if not res or not res._httpc then
        return
    end
    local ok, err = res._httpc:set_keepalive(keepalive_timeout, keepalive_pool)
    if not ok then
        core.log.warn("failed to keepalive connection: ", err)
    end
end


return _M
