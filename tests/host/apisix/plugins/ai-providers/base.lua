-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- The provider base: new(opts) = setmetatable(opts, {__index = base}); build_body, build_request, parse_response,
-- parse_streaming_response (the SSE loop), request. Any method can be overridden on a provider.
-- contract: apisix-ai-contract.md §1.2 (fields and methods), §1.4 (streaming), §1.5 (ctx and variables)
-- Not modelled: aws-eventstream framing, SigV4, GCP tokens, converters.
local core = require("apisix.core")
local plugin = require("apisix.plugin")
local sse = require("apisix.plugins.ai-transport.sse")
local protocols = require("apisix.plugins.ai-protocols")
local deep_merge = require("apisix.plugins.ai-proxy.merge").deep_merge
local ngx = ngx
local ngx_now = ngx.now
local type = type
local pairs = pairs
local ipairs = ipairs
local next = next
local tonumber = tonumber
local tostring = tostring
local setmetatable = setmetatable
local floor = math.floor
local match = string.match
local concat = table.concat

local _M = {}
local mt = {__index = _M}

-- Looked up per call, so a wrapper installed on the module (lua_module_hook) sees every attempt.
local function transport()
    return require("apisix.plugins.ai-transport.http")
end


function _M.new(opts)
    return setmetatable(opts, mt)
end


-- "scheme://host[:port][/path][?query]" → {scheme, host, port, path, query} or nil.
local function parse_url(endpoint)
    local scheme, rest = match(endpoint, "^(%a[%w+.-]*)://(.*)$")
    if not scheme then
        return nil
    end
    local authority, tail = match(rest, "^([^/?]*)(.*)$")
    local host, port = match(authority, "^%[(.-)%]:?(%d*)$")
    if not host then
        host, port = match(authority, "^([^:]*):?(%d*)$")
    end
    local path, query = match(tail, "^([^?]*)%??(.*)$")
    return {
        scheme = scheme,
        host = host,
        port = tonumber(port),
        path = path ~= "" and path or nil,
        query = query ~= "" and query or nil,
    }
end
_M.parse_url = parse_url


-- contract: apisix-ai-contract.md §1.2 (build_body is pure and returns body, changed; in order: the target protocol's
-- params, instance options (flat overwrite), override.llm_options via the capability's rewrite_request_body,
-- override.request_body[<target protocol>] deep merge, remove_model)
function _M.build_body(self, request_body, opts)
    local changed = false
    local target = opts.target_protocol
    local proto = target and protocols.get(target)
    if proto and proto.prepare_outgoing_request and proto.prepare_outgoing_request(request_body) then
        changed = true
    end
    if opts.model_options then
        for k, v in pairs(opts.model_options) do
            request_body[k] = v
            changed = true
        end
    end
    if opts.override_llm_options then
        local cap = self.capabilities and self.capabilities[target]
        if cap and cap.rewrite_request_body then
            cap.rewrite_request_body(request_body, opts.override_llm_options, true)
            if next(opts.override_llm_options) ~= nil then
                changed = true
            end
        end
    end
    if opts.request_body_override_map then
        local patch = opts.request_body_override_map[target]
        if patch then
            request_body = deep_merge(request_body, patch, opts.request_body_force_override)
            changed = true
        end
    end
    if self.remove_model and request_body.model ~= nil then
        request_body.model = nil
        changed = true
    end
    return request_body, changed
end


-- contract: apisix-ai-contract.md §1.2 (build_request → params {method, scheme, host, port, path, query, headers,
-- body, ssl_verify, ssl_server_name} or nil, err[, code]; an endpoint path wins over the capability path; query =
-- auth.query + endpoint query; client method and query only for passthrough, auth.query not overridable) and §5.3
-- (headers = every client header + auth.header, see construct_forward_headers)
function _M.build_request(self, conf, body, opts)
    local auth = opts.auth or {}
    local parsed = opts.endpoint and parse_url(opts.endpoint)
    local scheme = parsed and parsed.scheme or "https"
    local host = parsed and parsed.host or opts.target_host or self.host
    local port = parsed and parsed.port or (scheme == "https" and 443 or 80)

    local query = {}
    for k, v in pairs(auth.query or {}) do
        query[k] = v
    end
    if parsed and parsed.query then
        local args = core.string.decode_args(parsed.query)
        if type(args) == "table" then
            for k, v in pairs(args) do
                query[k] = v
            end
        end
    end

    local path = parsed and parsed.path or opts.target_path
    if not path then
        return nil, "could not resolve upstream path: ensure the route or request body specifies a model, or that "
            .. "override.endpoint includes a path", 400
    end

    local headers = transport().construct_forward_headers(auth.header or {}, opts.client_headers)
    if opts.host_header then
        headers["Host"] = opts.host_header
    end
    if opts.header_transform then
        opts.header_transform(headers)
    end

    if type(opts.client_args) == "table" then
        for k, v in pairs(opts.client_args) do
            if not (auth.query and auth.query[k] ~= nil) then
                query[k] = v
            end
        end
    end

    return {
        method = opts.client_method or "POST",
        scheme = scheme,
        host = host,
        port = port,
        path = path,
        query = query,
        headers = headers,
        body = body,
        ssl_verify = conf.ssl_verify,
        ssl_server_name = opts.ssl_server_name or (parsed and parsed.host) or opts.target_host or self.host,
    }
end


local function set_usage_vars(ctx)
    local u = ctx.ai_token_usage
    ctx.var.llm_prompt_tokens = u.prompt_tokens or 0
    ctx.var.llm_completion_tokens = u.completion_tokens or 0
    ctx.var.llm_total_tokens = u.total_tokens or 0
    ctx.var.llm_cache_read_input_tokens = u.cache_read_input_tokens or 0
    ctx.var.llm_cache_creation_input_tokens = u.cache_creation_input_tokens or 0
    ctx.var.llm_reasoning_tokens = u.reasoning_tokens or 0
end


local function elapsed_ms(ctx)
    return floor((ngx_now() - ctx.llm_request_start_time) * 1000)
end


local function drop_connection(res)
    if res._httpc then
        res._httpc:close()
        res._httpc = nil
    end
end


-- Reads the body, honouring max_response_bytes chunk by chunk. → body | nil, err, status
local function read_capped(res, max_bytes)
    if not max_bytes or not res.body_reader then
        return res:read_body()
    end
    local parts, total = {}, 0
    while true do
        local chunk, err = res.body_reader()
        if err then
            return nil, err
        end
        if not chunk then
            return concat(parts)
        end
        total = total + #chunk
        if total > max_bytes then
            core.log.warn("aborting AI response: body size exceeds max_response_bytes ", max_bytes)
            drop_connection(res)
            res._upstream_bytes = total
            return nil, "max_response_bytes exceeded", 502
        end
        parts[#parts + 1] = chunk
    end
end


-- contract: apisix-ai-contract.md §1.2 (parse_response: reads the body honouring max_response_bytes, sets
-- ngx.status, extracts usage and text through the client protocol, calls lua_response_filter once; returns the body
-- or nil, err, status) and §1.5 (ai_token_usage, llm_raw_usage, llm_* vars, time to first token)
function _M.parse_response(self, ctx, res, client_proto, converter, conf)
    local headers = res.headers
    local max_bytes = conf and conf.max_response_bytes
    local length = tonumber(headers["Content-Length"])
    if max_bytes and length and length > max_bytes then
        core.log.warn("aborting AI response: Content-Length ", length, " exceeds max_response_bytes ", max_bytes)
        drop_connection(res)
        return nil, "max_response_bytes exceeded", 502
    end
    local raw, err, status = read_capped(res, max_bytes)
    if not raw then
        core.log.warn("failed to read response body: ", err)
        return nil, err, status
    end
    res._upstream_bytes = #raw
    ngx.status = res.status
    ctx.var.llm_time_to_first_token = elapsed_ms(ctx)
    ctx.var.apisix_upstream_response_time = ctx.var.llm_time_to_first_token

    local body, decode_err = core.json.decode(raw, {null_as_nil = true})
    if type(body) ~= "table" then
        core.log.warn("failed to decode response from ai service, err: ", decode_err,
            ", it will cause token usage not available")
        plugin.lua_response_filter(ctx, headers, raw)
        return nil
    end

    ctx.ai_token_usage = {}
    local usage, raw_usage = client_proto.extract_usage(body)
    if usage then
        ctx.llm_raw_usage = raw_usage
        ctx.ai_token_usage = usage
    end
    set_usage_vars(ctx)
    local text = client_proto.extract_response_text and client_proto.extract_response_text(body)
    if text then
        ctx.var.llm_response_text = text
    end
    if client_proto.has_tool_call and client_proto.has_tool_call(body) then
        ctx.var.llm_has_tool_calls = "true"
    end
    plugin.lua_response_filter(ctx, headers, raw)
    return body
end


-- Streams keep merging usage: a later event's non-zero fields win, the total is recomputed if parts exceed it.
local function merge_usage(ctx, parsed)
    if not ctx.ai_token_usage then
        ctx.ai_token_usage = parsed.usage
    else
        for k, v in pairs(parsed.usage) do
            if type(v) == "number" and v > 0 then
                ctx.ai_token_usage[k] = v
            end
        end
        local sum = (ctx.ai_token_usage.prompt_tokens or 0) + (ctx.ai_token_usage.completion_tokens or 0)
        if sum > (ctx.ai_token_usage.total_tokens or 0) then
            ctx.ai_token_usage.total_tokens = sum
        end
    end
    local raw = parsed.raw_usage or parsed.usage
    if not ctx.llm_raw_usage then
        ctx.llm_raw_usage = raw
    else
        for k, v in pairs(raw) do
            if type(v) == "number" and v > 0 then
                ctx.llm_raw_usage[k] = v
            end
        end
    end
end


-- The interval flusher: every N ms, flush what was printed since the last flush.
local function flusher(state, interval_s)
    while true do
        ngx.sleep(interval_s)
        if state.needs_flush then
            state.needs_flush = false
            local ok, err = ngx.flush(false)
            if not ok then
                state.flush_err = err
                return
            end
        end
    end
end


local function stop_flusher(state)
    if state.thread then
        ngx.thread.kill(state.thread)
        state.thread = nil
    end
end


local function abort_on_disconnect(ctx, res, state, err)
    core.log.info("client disconnected during AI streaming, aborting upstream read: ", err)
    ctx.ai_stream_aborted = "client_disconnect"
    stop_flusher(state)
    drop_connection(res)
    res._upstream_bytes = state.bytes
    ctx.var.apisix_upstream_response_time = elapsed_ms(ctx)
    ctx.var.llm_request_done = true
end


local function handle_events(ctx, events, target_proto, contents, sse_state)
    for _, event in ipairs(events) do
        local parsed = target_proto.parse_sse_event(event, ctx, sse_state)
        if parsed and parsed.has_tool_call then
            ctx.var.llm_has_tool_calls = "true"
        end
        if parsed and parsed.type ~= "skip" then
            for _, text in ipairs(parsed.texts or {}) do
                contents[#contents + 1] = text
                ctx.llm_response_contents_in_chunk[#ctx.llm_response_contents_in_chunk + 1] = text
            end
            if parsed.usage then
                merge_usage(ctx, parsed)
                set_usage_vars(ctx)
                ctx.var.llm_response_text = concat(contents, "")
            end
            if parsed.type == "done" or parsed.type == "usage_and_done" then
                ctx.var.llm_request_done = true
            end
        end
    end
end


-- contract: apisix-ai-contract.md §1.4 (sets ngx.status; splits chunks into events parsed by the target protocol;
-- passes the raw upstream chunk to lua_response_filter(ctx, headers, chunk, no_flush, true); flushing by a light
-- thread every streaming_flush_interval_ms, or synchronously per chunk when 0; ngx.sleep(0) after every chunk; a failed
-- print/flush sets ctx.ai_stream_aborted = "client_disconnect" and returns nil; caps: after output a final empty filter
-- pass and a cut, before output 504 (duration) / 502 (bytes); a read error returns handle_error(err) even after
-- output (§2.7); at the end a final lua_response_filter(ctx, headers, "", nil, true) with llm_request_done = true)
function _M.parse_streaming_response(self, ctx, res, target_proto, converter, conf)
    if self.streaming_framing and self.streaming_framing ~= "sse" then
        return 500, "unknown streaming framing: " .. tostring(self.streaming_framing)
    end
    ctx.ai_stream_framing = "sse"
    ctx.ai_stream_aborted = nil
    ngx.status = res.status

    local state = {bytes = 0, needs_flush = false}
    local sse_state = {is_first = true}
    local contents = {}
    local remainder = ""
    local output_sent = false
    local max_bytes = conf and conf.max_response_bytes
    local deadline = conf and conf.max_stream_duration_ms and (ctx.llm_request_start_time + conf.max_stream_duration_ms / 1000)
    local interval_ms = conf and conf.streaming_flush_interval_ms or 0
    local async_flush = interval_ms > 0
    if async_flush then
        state.thread = ngx.thread.spawn(flusher, state, interval_ms / 1000)
    end
    local first_token_set = false

    while true do
        if state.flush_err then
            abort_on_disconnect(ctx, res, state, state.flush_err)
            return
        end
        local chunk, err = res.body_reader()
        if err then
            ctx.ai_stream_aborted = "read_error"
            ctx.var.apisix_upstream_response_time = elapsed_ms(ctx)
            core.log.warn("failed to read response chunk: ", err)
            res._upstream_bytes = state.bytes
            stop_flusher(state)
            return transport().handle_error(err)
        end
        if not chunk then
            if #remainder > 0 then
                core.log.warn("dropping incomplete stream frame at EOF, size: ", #remainder)
            end
            res._upstream_bytes = state.bytes
            ctx.var.apisix_upstream_response_time = elapsed_ms(ctx)
            stop_flusher(state)
            if output_sent and not ctx.var.llm_request_done then
                ctx.var.llm_request_done = true
                plugin.lua_response_filter(ctx, res.headers, "", nil, true)
            end
            if not state.flush_err then
                ngx.flush(true)
            end
            return
        end

        state.bytes = state.bytes + #chunk
        if not first_token_set then
            ctx.var.llm_time_to_first_token = elapsed_ms(ctx)
            first_token_set = true
        end

        local events
        events, remainder = sse.decode_buf(remainder .. chunk)
        if #remainder > sse.max_remainder then
            core.log.warn("stream remainder exceeded ", sse.max_remainder, " bytes, resetting")
            remainder = ""
        end
        ctx.llm_response_contents_in_chunk = {}
        ctx.llm_response_chunk_seq = (ctx.llm_response_chunk_seq or 0) + 1
        handle_events(ctx, events, target_proto, contents, sse_state)

        local ok, print_err = plugin.lua_response_filter(ctx, res.headers, chunk, async_flush or nil, true)
        if not ok then
            abort_on_disconnect(ctx, res, state, print_err)
            return
        end
        output_sent = true
        if async_flush then
            state.needs_flush = true
        end

        local limit_hit
        if deadline and ngx_now() >= deadline then
            limit_hit = "max_stream_duration_ms"
        elseif max_bytes and state.bytes > max_bytes then
            limit_hit = "max_response_bytes"
        end
        if limit_hit then
            ctx.ai_stream_aborted = limit_hit
            stop_flusher(state)
            core.log.warn("aborting AI stream: ", limit_hit, " exceeded; bytes=", state.bytes)
            drop_connection(res)
            ctx.var.apisix_upstream_response_time = elapsed_ms(ctx)
            ctx.var.llm_request_done = true
            res._upstream_bytes = state.bytes
            -- output_sent is always true here (the stand-in has no converter), so the stream is cut after a final
            -- empty filter pass; before any output APISIX would return 504 (duration) or 502 (bytes).
            plugin.lua_response_filter(ctx, res.headers, "", nil, true)
            return
        end

        ngx.sleep(0)
    end
end


-- contract: apisix-ai-contract.md §1.2 (request: a self-contained non-streaming call → status, raw_body[, err])
function _M.request(self, conf, request_table, extra_opts)
    local body = self:build_body(request_table, extra_opts)
    local params, err = self:build_request(conf, body, extra_opts)
    if not params then
        core.log.error("failed to build request: ", err)
        return 500, nil, err
    end
    local http = transport()
    local res, req_err = http.request(params, conf.timeout)
    if not res then
        core.log.warn("failed to send request to LLM server: ", req_err)
        return http.handle_error(req_err), nil, req_err
    end
    local raw, read_err = res:read_body()
    if conf.keepalive then
        http.set_keepalive(res, conf.keepalive_timeout, conf.keepalive_pool)
    end
    if not raw then
        return 500, nil, "failed to read response body: " .. (read_err or "")
    end
    return res.status, raw
end


return _M
