-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- The AI proxy pipeline shared by ai-proxy(-multi): request detection in access, and the before_proxy attempt loop
-- (route protocol → build_body → build_request → transport → 429/5xx decision or parse) with an on_error hook.
-- contract: apisix-ai-contract.md §1.2 (extra_opts), §1.3 (return conventions), §1.5 (ctx vars), §2.1 (detection
-- runs first in access), §3.2 (protocol routing). Not modelled: prometheus gauges, resty.apisix.upstream state.
local core = require("apisix.core")
local protocols = require("apisix.plugins.ai-protocols")
local ngx = ngx
local ngx_now = ngx.now
local require = require
local pcall = pcall
local pairs = pairs
local type = type
local floor = math.floor
local concat = table.concat

local _M = {}

-- Looked up per call, so a wrapper installed on the module from lua_module_hook sees every attempt.
local function transport()
    return require("apisix.plugins.ai-transport.http")
end


local function resolve_cap(cap, key, provider_conf, ctx)
    local val = cap and cap[key]
    if type(val) == "function" then
        return val(provider_conf, ctx)
    end
    return val
end


local function count_tools(body)
    if type(body) == "table" and type(body.tools) == "table" then
        return #body.tools
    end
    return 0
end


-- Latency vars in ms on the early exits, with the clock the success path uses.
local function set_error_latency_vars(ctx, upstream_responded)
    local ms = floor((ngx_now() - ctx.llm_request_start_time) * 1000)
    ctx.var.apisix_upstream_response_time = ms
    if upstream_responded then
        ctx.var.llm_time_to_first_token = ms
    end
end


-- contract: apisix-ai-contract.md §2.1 (Content-Type must be application/json, a missing one counts as JSON; the body
-- is read once bounded by max_req_body_size, larger → 413; a GET or any empty body → 400) and §1.5 (in access:
-- ctx.ai_client_protocol, ctx.var.request_type ai_chat|ai_stream, ctx.var.request_llm_model)
-- → nil on success, else err[, code] (err is a string or {message = ...}).
function _M.detect_request_type(ctx, max_req_body_size)
    local ct = core.request.header(ctx, "Content-Type") or "application/json"
    if not core.string.has_prefix(ct, "application/json") then
        return "unsupported content-type: " .. ct .. ", only application/json is supported"
    end
    local body, err = core.request.get_json_request_body_table(max_req_body_size)
    if not body then
        local msg = type(err) == "table" and err.message or err
        if type(msg) == "string" and core.string.find(msg, "greater than the maximum size") then
            core.log.error("failed to read request body: ", msg)
            return err, 413
        end
        return err
    end
    if body.model then
        ctx.var.request_llm_model = body.model
    end
    local name = protocols.detect(body, ctx)
    if not name then
        return "no matching AI protocol for the request"
    end
    ctx.ai_client_protocol = name
    local proto = protocols.get(name)
    ctx.var.request_type = (proto and proto.is_streaming(body)) and "ai_stream" or "ai_chat"
end


-- One attempt against ctx.picked_ai_instance. → nil when the response was written, else code[, body].
local function attempt(conf, ctx, ai_provider, request_body, extra_opts, converter, target_proto, client_proto)
    ctx.llm_request_start_time = ngx_now()
    ctx.var.llm_request_body = request_body

    -- contract: apisix-ai-contract.md §1.2 (build_body unchanged → the client's verbatim bytes go out)
    local body, shaped = ai_provider:build_body(request_body, extra_opts)
    if not shaped and not ctx.ai_request_body_changed then
        local raw = core.request.get_body()
        if type(raw) == "string" then
            body = raw
        end
    end

    local params, build_err, code = ai_provider:build_request(conf, body, extra_opts)
    if not params then
        if code then
            return code, {error_msg = build_err}
        end
        core.log.error("failed to build request: ", build_err)
        return 500, {error_msg = build_err}
    end

    ctx.var.llm_stream = ctx.var.request_type == "ai_stream" and "true" or "false"
    ctx.var.llm_tool_count = count_tools(params.body)
    local target_module = protocols.get(extra_opts.target_protocol)
    if target_module and target_module.extract_end_user_id then
        local end_user = target_module.extract_end_user_id(request_body)
        if end_user then
            ctx.var.llm_end_user_id = end_user
        end
    end

    local http = transport()
    local res, err, meta = http.request(params, conf.timeout)
    if not res then
        core.log.warn("failed to send request to LLM server: ", err)
        if meta then
            ctx.var.upstream_uri = meta.upstream_uri
            ctx.var.upstream_host = meta.upstream_host
            ctx.var.upstream_scheme = meta.upstream_scheme
        end
        set_error_latency_vars(ctx, false)
        return http.handle_error(err)
    end
    ctx.var.upstream_uri = res._upstream_uri
    ctx.var.upstream_host = res._upstream_host
    ctx.var.upstream_scheme = res._upstream_scheme
    core.response.set_response_source(ctx, "upstream")

    -- contract: apisix-ai-contract.md §1.3 (upstream 429/5xx: body read and kept, Content-Type copied, socket closed,
    -- `status, error_body` returned; other headers discarded; the provider's parse functions are not called)
    if res.status == 429 or (res.status >= 500 and res.status < 600) then
        local error_body, read_err = res:read_body()
        if not error_body then
            core.log.warn("failed to read upstream error response body: ", read_err)
        else
            res._upstream_bytes = #error_body
        end
        local content_type = res.headers["Content-Type"]
        if content_type then
            core.response.set_header("Content-Type", content_type)
        end
        if res._httpc then
            res._httpc:close()
        end
        set_error_latency_vars(ctx, true)
        return res.status, error_body
    end

    if not res.body_reader then
        core.log.warn("AI service sent no response body")
        if res._httpc then
            res._httpc:close()
        end
        set_error_latency_vars(ctx, true)
        return 500
    end

    local content_type = res.headers["Content-Type"]
    core.response.set_header("Content-Type", content_type)

    local out_code, out_body
    if content_type and (core.string.find(content_type, "text/event-stream")
        or core.string.find(content_type, "application/vnd.amazon.eventstream")) then
        if not target_module then
            core.log.error("no protocol module for streaming target: ", extra_opts.target_protocol)
            return 500
        end
        out_code, out_body = ai_provider:parse_streaming_response(ctx, res, target_module, converter, conf)
    else
        local _, parse_err, parse_status = ai_provider:parse_response(ctx, res, client_proto, converter, conf)
        if parse_err then
            out_code = parse_status or 500
            out_body = parse_err
        end
    end

    if conf.keepalive then
        http.set_keepalive(res, conf.keepalive_timeout, conf.keepalive_pool)
    end
    return out_code, out_body
end


-- contract: apisix-ai-contract.md §1.3 (loop: a non-nil code goes to on_error(ctx, conf, code, body); nil from it means
-- "try the newly picked instance", a number is returned with the body; a raising attempt → 500; a nil code means
-- the response was written) and §2.3 (each retry re-reads and deep-copies the original client body)
function _M.before_proxy(conf, ctx, on_error)
    while true do
        local instance = ctx.picked_ai_instance
        local ai_provider = require("apisix.plugins.ai-providers." .. instance.provider)

        local request_body, err = core.request.get_json_request_body_table()
        if not request_body then
            return 400, err
        end
        request_body = core.table.deepcopy(request_body)

        local override = instance.override or {}
        local extra_opts = {
            name = instance.name,
            endpoint = instance._resolved_endpoint or override.endpoint,
            model_options = instance.options,
            conf = instance.provider_conf or {},
            auth = instance.auth,
            host_header = instance._resolved_host_header,
            ssl_server_name = instance._resolved_ssl_server_name,
            override_llm_options = override.llm_options,
            request_body_override_map = override.request_body,
            request_body_force_override = override.request_body_force_override,
        }

        -- contract: apisix-ai-contract.md §3.2 (provider capability → unconverted; passthrough → target path = uri,
        -- client method and query forwarded; else a converter, or 400 "provider X does not support ...")
        local client_protocol = ctx.ai_client_protocol
        local caps = ai_provider.capabilities or {}
        local target_proto, target_path
        if caps[client_protocol] then
            target_proto = client_protocol
        elseif client_protocol == "passthrough" then
            target_proto = "passthrough"
            target_path = ctx.var.uri
        else
            local supported = {}
            for p in pairs(caps) do
                supported[#supported + 1] = p
            end
            return 400, "provider " .. instance.provider .. " does not support " .. tostring(client_protocol)
                .. " protocol (supported: " .. concat(supported, ", ") .. ")"
        end
        ctx.ai_converter = nil
        ctx.ai_target_protocol = target_proto

        local model = instance.options and instance.options.model or request_body.model
        if model then
            ctx.var.llm_model = model
        end

        extra_opts.target_path = target_path or resolve_cap(caps[target_proto], "path", extra_opts.conf, ctx)
        extra_opts.target_host = resolve_cap(caps[target_proto], "host", extra_opts.conf, ctx)
        extra_opts.target_protocol = target_proto
        extra_opts.client_headers = core.request.headers(ctx)
        if target_proto == "passthrough" then
            extra_opts.client_method = core.request.get_method()
            local args = ctx.var.args and core.string.decode_args(ctx.var.args)
            if type(args) == "table" then
                extra_opts.client_args = args
            end
        end

        local client_proto = protocols.get(client_protocol)
        local ok, code, body = pcall(attempt, conf, ctx, ai_provider, request_body, extra_opts, nil, target_proto,
            client_proto)
        if not ok then
            core.log.error("failed to send request to AI service: ", code)
            return 500
        end
        if code and on_error then
            local abort_code = on_error(ctx, conf, code, body)
            if abort_code then
                return abort_code, body
            end
        else
            return code, body
        end
    end
end


return _M
