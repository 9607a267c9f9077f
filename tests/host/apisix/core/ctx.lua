-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.ctx: ctx.var, a cached view of nginx variables plus APISIX extras; writes to the variables APISIX declares
-- in its nginx template go through to nginx (so access_log_format sees them); register_var.
-- contract: apisix-runtime-notes.md §11 (ctx.var: cached nginx vars + http_*, arg_*, route_id, consumer_name, ...;
-- assigning an APISIX-declared nginx var writes it through); apisix-ai-contract.md §1.5 (llm_* variables)
local ngx = ngx
local ngx_var = ngx.var
local request = require("apisix.core.request")
local type = type
local error = error
local sub = string.sub
local lower = string.lower
local gsub = string.gsub
local setmetatable = setmetatable

local _M = {version = 0.2}

-- The `set $x` variables of APISIX's location / (cli/ngx_tpl.lua); the stand-in's nginx.conf declares the same.
local NGX_VAR_NAMES = {
    upstream_scheme = true, upstream_host = true, upstream_unresolved_host = true, upstream_upgrade = true,
    upstream_connection = true, upstream_uri = true, request_line = true, llm_content_risk_level = true,
    apisix_request_id = true, request_type = true, apisix_upstream_response_time = true,
    llm_time_to_first_token = true, request_llm_model = true, llm_model = true, llm_prompt_tokens = true,
    llm_completion_tokens = true, llm_total_tokens = true, llm_stream = true, llm_has_tool_calls = true,
    llm_tool_count = true, llm_end_user_id = true, llm_cache_read_input_tokens = true,
    llm_cache_creation_input_tokens = true, llm_reasoning_tokens = true,
    upstream_mirror_host = true, upstream_mirror_uri = true, upstream_mirror_grpc_path = true,
    upstream_cache_zone = true, upstream_cache_zone_info = true, upstream_no_cache = true,
    upstream_cache_key = true, upstream_cache_bypass = true, rate_limiting_info = true,
    original_x_forwarded_for = true,
}
_M.NGX_VAR_NAMES = NGX_VAR_NAMES

local NO_CACHE = {args = true, is_args = true}

-- Read from the api_ctx field of the same name (true) or from a registered getter (function).
local apisix_var_names = {
    balancer_ip = true,
    balancer_port = true,
    consumer_group_id = true,
    consumer_name = true,
    resp_body = function(ctx) return ctx.resp_body or "" end,
    route_id = true,
    route_name = true,
    service_id = true,
    service_name = true,
}

local mt = {
    __index = function(t, key)
        local cached = t._cache[key]
        if cached ~= nil then
            return cached
        end
        if type(key) ~= "string" then
            error("invalid argument, expect string value", 2)
        end

        local val
        if sub(key, 1, 5) == "http_" then
            val = ngx_var[gsub(lower(key), "-", "_")]
        elseif sub(key, 1, 4) == "arg_" then
            local v = request.get_uri_args(t._ctx)[sub(key, 5)]
            if type(v) == "table" then
                v = v[1]
            end
            val = v
        else
            local getter = apisix_var_names[key]
            if getter == true then
                val = t._ctx[key]
            elseif getter then
                val = getter(t._ctx)
            else
                val = ngx_var[key]
            end
        end

        if val ~= nil and not NO_CACHE[key] then
            t._cache[key] = val
        end
        return val
    end,

    __newindex = function(t, key, val)
        if NGX_VAR_NAMES[key] then
            local tv = type(val)
            if tv == "boolean" then
                val = tostring(val)
            end
            if tv == "nil" or tv == "string" or tv == "number" or tv == "boolean" then
                ngx_var[key] = val
            end
        end
        t._cache[key] = val
    end,
}


function _M.set_vars_meta(ctx)
    ctx.var = setmetatable({_cache = {}, _ctx = ctx}, mt)
end


function _M.release_vars(ctx)
    ctx.var = nil
end


-- A custom ctx.var entry computed by getter(ctx); not visible to nginx log formats.
function _M.register_var(name, getter, opts)
    if type(getter) ~= "function" then
        error("the getter of registered var should be a function")
    end
    apisix_var_names[name] = getter
    if opts and opts.no_cacheable then
        NO_CACHE[name] = true
    end
end


return _M
