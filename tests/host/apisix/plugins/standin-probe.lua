-- TEST CODE: a plugin that only exists to test the stand-in against real APISIX 3.18.0
-- (tests/integration/shared/standin-*-cases.ts run it on both hosts; real APISIX loads it through the rig's
-- luaPaths). Never in build/lua. Priority 3000 puts it before auth plugins (2500) in rewrite and access.
-- It records what it saw in each phase and reports it in response headers:
--   X-Probe-Trace    "rewrite:<consumer or ->,access:<consumer or ->" (the order the phases ran in)
--   X-Probe-Conf     its conf, JSON-encoded after schema defaults were injected
--   X-Probe-Ctx      conf_type#conf_id (the plugin_ctx cache key) in access
-- conf.exit_in = "rewrite" | "access" makes that phase return conf.code with a JSON body.
-- conf.check = {schema = <a JSON schema>, conf = <a value>}: check_schema also runs core.schema.check(schema, conf)
-- and returns its error, so a route shows the host's JSON-schema messages and default injection.
-- conf.body_prefix: lua_body_filter (called by AI responses through plugin.lua_response_filter) prefixes every
-- non-empty chunk with it.
-- log phase: a warn line "standin-probe log: aborted=<ctx.ai_stream_aborted> picked=<instance> done=<llm_request_done>
-- chunks=<lua_body_filter calls>".
local core = require("apisix.core")

local schema = {
    type = "object",
    properties = {
        greeting = {type = "string", default = "hi"},
        flag = {type = "boolean", default = false},
        exit_in = {type = "string", enum = {"rewrite", "access"}},
        code = {type = "integer", minimum = 200, maximum = 599, default = 418},
        body_prefix = {type = "string"},
        check = {
            type = "object",
            properties = {schema = {type = "object"}},
            required = {"schema"},
        },
    },
    additionalProperties = false,
}

local _M = {version = 0.1, priority = 3000, name = "standin-probe", schema = schema}


function _M.check_schema(conf)
    local ok, err = core.schema.check(schema, conf)
    if not ok or not conf.check then
        return ok, err
    end
    return core.schema.check(conf.check.schema, conf.check.conf)
end


local function record(ctx, phase)
    ctx.probe_trace = ctx.probe_trace or {}
    ctx.probe_trace[#ctx.probe_trace + 1] = phase .. ":" .. (ctx.consumer_name or "-")
end


function _M.rewrite(conf, ctx)
    record(ctx, "rewrite")
    if conf.exit_in == "rewrite" then
        return conf.code, {probe = "rewrite"}
    end
end


function _M.access(conf, ctx)
    record(ctx, "access")
    ctx.probe_ctx = ctx.conf_type .. "#" .. ctx.conf_id
    if conf.exit_in == "access" then
        return conf.code, {probe = "access"}
    end
end


function _M.header_filter(conf, ctx)
    core.response.set_header("X-Probe-Trace", table.concat(ctx.probe_trace or {}, ","))
    local plain = {}
    for k, v in pairs(conf) do
        if k ~= "_meta" then
            plain[k] = v
        end
    end
    core.response.set_header("X-Probe-Conf", core.json.stably_encode(plain))
    if ctx.probe_ctx then
        core.response.set_header("X-Probe-Ctx", ctx.probe_ctx)
    end
end


function _M.lua_body_filter(conf, ctx, _, body)
    ctx.probe_chunks = (ctx.probe_chunks or 0) + 1
    if conf.body_prefix and body ~= "" then
        return nil, conf.body_prefix .. body
    end
end


function _M.log(_, ctx)
    core.log.warn("standin-probe log: aborted=", ctx.ai_stream_aborted or "-", " picked=",
        ctx.picked_ai_instance_name or "-", " done=", tostring(ctx.var.llm_request_done), " chunks=",
        ctx.probe_chunks or 0)
end


return _M
