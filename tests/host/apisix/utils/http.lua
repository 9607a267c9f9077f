-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Outbound HTTP client selection (apisix/utils/http.lua): plugin_attr.ai-proxy.http_client names the client.
-- Neither of APISIX's clients exists here (resty.ngx_http_ffi_client is C in apisix-runtime; lua-resty-http is not
-- packaged), so the stand-in serves both names with its own cosocket client, standin.httpc, which has their API.
-- contract: apisix-ai-contract.md §5.4 (http_client: ngx_http_ffi_client (default) | lua-resty-http; an unknown name
-- is an error, never a silent switch)
local FFI_CLIENT = "ngx_http_ffi_client"
local LUA_RESTY_HTTP = "lua-resty-http"

local _M = {
    version = 0.1,
    FFI_CLIENT = FFI_CLIENT,
    LUA_RESTY_HTTP = LUA_RESTY_HTTP,
    DEFAULT_CLIENT = FFI_CLIENT,
}

_M.client_schema = {
    type = "string",
    enum = {FFI_CLIENT, LUA_RESTY_HTTP},
    default = FFI_CLIENT,
}


function _M.new(name)
    name = name or _M.DEFAULT_CLIENT
    if name ~= FFI_CLIENT and name ~= LUA_RESTY_HTTP then
        return nil, "unknown http client: " .. tostring(name)
    end
    return require("standin.httpc").new()
end


return _M
