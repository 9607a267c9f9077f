-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- ai-proxy-multi: pick an instance in access (priority, weight, tried set), then before_proxy runs ai-proxy/base's
-- attempt loop with retry_on_error deciding about fallback.
-- contract: apisix-ai-contract.md §2 (ai-proxy-multi 3.18). Not modelled: health checks (`checks` accepted; only
-- the endpoint resolution they trigger is modelled, see resolve_checked), semantic and chash balancers (refused by
-- check_schema), the llm_active_connections gauge.
local core = require("apisix.core")
local plugin = require("apisix.plugin")
local schema = require("apisix.plugins.ai-proxy.schema")
local base = require("apisix.plugins.ai-proxy.base")
local balancer = require("standin.balancer")
local ngx_now = ngx.now
local ipairs = ipairs
local pcall = pcall
local require = require
local type = type

local plugin_name = "ai-proxy-multi"

local _M = {
    version = 0.5,
    priority = 1041,
    name = plugin_name,
    schema = schema.ai_proxy_multi_schema,
}

local ENDPOINT = "^(https?)://([^:/]+):?(%d*)/?.*$"

-- Pickers keep weighted round-robin state across requests, per route and conf version (as APISIX caches them).
local picker_cache = core.lrucache.new({ttl = 300, count = 256})


local function strategy_has(strategy, name)
    if type(strategy) == "string" then
        return strategy == name
    end
    if type(strategy) == "table" then
        for _, v in ipairs(strategy) do
            if v == name then
                return true
            end
        end
    end
    return false
end


-- contract: apisix-ai-contract.md §1.1 (check_schema pcall-requires apisix.plugins.ai-providers.<provider>; the enum
-- is the shared providers table, so a name registered from lua_module_hook passes)
function _M.check_schema(conf)
    local ok, err = core.schema.check(schema.ai_proxy_multi_schema, conf)
    if not ok then
        return false, err
    end
    for _, instance in ipairs(conf.instances) do
        local endpoint = instance.override and instance.override.endpoint
        if endpoint and not endpoint:match(ENDPOINT) then
            return false, "invalid endpoint"
        end
        local loaded, provider_err = pcall(require, "apisix.plugins.ai-providers." .. instance.provider)
        if not loaded then
            core.log.warn("fail to require ai provider: ", instance.provider, ", err", provider_err)
            return false, "ai provider: " .. instance.provider .. " is not supported."
        end
    end
    local algorithm = conf.balancer and conf.balancer.algorithm
    if algorithm == "chash" or algorithm == "semantic" then
        return false, "the stand-in does not support the " .. algorithm .. " balancer"
    end
    return true
end


local function instance_conf(conf, name)
    for _, ins in ipairs(conf.instances) do
        if ins.name == name then
            return ins
        end
    end
end


-- contract: apisix-ai-contract.md §2.1 (several priority values → priority picker, else weighted round-robin)
local function create_picker(conf)
    local by_priority = {_priority_index = {}}
    for _, ins in ipairs(conf.instances) do
        local prio = ins.priority or 0
        if not by_priority[prio] then
            by_priority[prio] = {}
            by_priority._priority_index[#by_priority._priority_index + 1] = prio
        end
        by_priority[prio][ins.name] = ins.weight
    end
    if #by_priority._priority_index > 1 then
        return balancer.priority.new(by_priority)
    end
    return balancer.roundrobin.new(by_priority[by_priority._priority_index[1]])
end


-- An optional ai-rate-limiting (not part of the stand-in) can veto instances, as with fallback_strategy rate_limiting.
local function rate_limit_checker(conf)
    if conf.fallback_strategy ~= "instance_health_and_rate_limiting" and not strategy_has(conf.fallback_strategy, "rate_limiting") then
        return nil
    end
    local ok, mod = pcall(require, "apisix.plugins.ai-rate-limiting")
    if ok and type(mod) == "table" and mod.check_instance_status then
        return mod
    end
    return nil
end


-- contract: apisix-ai-contract.md §2.1 (each pick may be vetoed; a vetoed instance is marked tried and another is
-- picked, up to #instances times; nothing left → "all servers tried")
-- contract: apisix-ai-contract.md §1.2 (host_header, ssl_server_name in extra_opts) and §2.5; ai-proxy-multi.lua
-- resolve_endpoint / use_node_for_request at 3.18.0: an instance with `checks` is resolved to an IP node, and the
-- request goes to that IP with the name as Host and SNI. The stand-in resolves only IP literals and `localhost`
-- (tests stay on loopback); the checker itself is still not modelled.
local function resolve_checked(instance)
    local endpoint = instance.override and instance.override.endpoint
    if not instance.checks or not endpoint then
        return
    end
    local scheme, host, port = endpoint:match("^(https?)://([^:/]+):?(%d*)")
    if not scheme then
        return
    end
    port = tonumber(port) or (scheme == "https" and 443 or 80)
    local ip, domain = host, nil
    if not host:match("^%d+%.%d+%.%d+%.%d+$") then
        if host ~= "localhost" then
            return
        end
        ip, domain = "127.0.0.1", host
    end
    instance._resolved_endpoint = scheme .. "://" .. ip .. ":" .. port
    if domain then
        local default_port = (scheme == "https" and port == 443) or (scheme ~= "https" and port == 80)
        instance._resolved_host_header = default_port and domain or (domain .. ":" .. port)
        instance._resolved_ssl_server_name = domain
    end
end


local function pick_target(ctx, conf)
    local picker = ctx.server_picker
    if not picker then
        picker = picker_cache(ctx.matched_route.key, plugin.conf_version(conf), create_picker, conf)
        ctx.server_picker = picker
    end
    local limiter = rate_limit_checker(conf)
    local name, err
    for _ = 1, #conf.instances do
        name, err = picker.get(ctx)
        if err then
            return nil, nil, err
        end
        if not limiter or limiter.check_instance_status(nil, ctx, name) then
            break
        end
        core.log.warn("ai instance: ", name, " is not available, try to pick another one")
        ctx.balancer_server = name
        picker.after_balance(ctx, true)
        name = nil
    end
    if not name then
        return nil, nil, "all servers tried"
    end
    ctx.balancer_server = name
    local instance = instance_conf(conf, name)
    resolve_checked(instance)
    return name, instance
end


-- contract: apisix-ai-contract.md §2.1 (one instance: used directly, no picker, so no retries)
local function pick_ai_instance(ctx, conf)
    if #conf.instances == 1 then
        return conf.instances[1].name, conf.instances[1]
    end
    return pick_target(ctx, conf)
end


-- contract: apisix-ai-contract.md §2.1 (detect first: 400/413 on a bad body; then pick; a pick error → 503) and
-- §1.5 (picked_ai_instance(_name), balancer_ip = instance name, bypass_nginx_upstream = true)
function _M.access(conf, ctx)
    local err, code = base.detect_request_type(ctx, conf.max_req_body_size)
    if err then
        return code or 400, err
    end
    local name, instance, pick_err = pick_ai_instance(ctx, conf)
    if pick_err then
        return 503, pick_err
    end
    ctx.picked_ai_instance_name = name
    ctx.picked_ai_instance = instance
    ctx.balancer_ip = name
    ctx.bypass_nginx_upstream = true
end


-- contract: apisix-ai-contract.md §2.3 (every failure marks the instance tried; 429 → http_429, 500-599 → http_5xx;
-- a slow failure beyond retry_on_failure_within_ms and the max_retries-th fallback return the last code; nothing
-- left to pick → 502 (hard-coded); no picker or a non-matching code → the code as it is)
local function retry_on_error(ctx, conf, code, body)
    if not ctx.server_picker then
        return code
    end
    ctx.server_picker.after_balance(ctx, true)
    local retryable = (code == 429 and strategy_has(conf.fallback_strategy, "http_429"))
        or (code >= 500 and code < 600 and strategy_has(conf.fallback_strategy, "http_5xx"))
    if not retryable then
        return code
    end
    if conf.retry_on_failure_within_ms and ctx.llm_request_start_time then
        local elapsed_ms = (ngx_now() - ctx.llm_request_start_time) * 1000
        if elapsed_ms > conf.retry_on_failure_within_ms then
            core.log.warn("ai instance failed after ", elapsed_ms, "ms, exceeding retry_on_failure_within_ms ",
                conf.retry_on_failure_within_ms, ", not retrying")
            return code
        end
    end
    if conf.max_retries then
        ctx.ai_retries = (ctx.ai_retries or 0) + 1
        if ctx.ai_retries > conf.max_retries then
            core.log.warn("reached max_retries ", conf.max_retries, ", not retrying")
            return code
        end
    end
    local failed = ctx.picked_ai_instance_name
    local name, instance, err = pick_ai_instance(ctx, conf)
    if err then
        core.log.error("failed to pick new AI instance: ", err)
        return 502
    end
    core.log.warn("ai instance ", failed, " returned status ", code, ", falling back to ", name,
        ". upstream error body: ", body or "")
    ctx.balancer_ip = name
    ctx.picked_ai_instance_name = name
    ctx.picked_ai_instance = instance
end
_M.retry_on_error = retry_on_error


function _M.before_proxy(conf, ctx)
    return base.before_proxy(conf, ctx, retry_on_error)
end


return _M
