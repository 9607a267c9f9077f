-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- A stand-in for APISIX 3.18.0's `mocking` plugin, for the fields the renderer writes on the /healthz route
-- (renderer/routes.ts healthRoute: response_status, content_type, response_example, with_mock_header). Written for
-- the stand-in after the schema and access() of apisix/plugins/mocking.lua at tag 3.18.0; no APISIX code is copied.
-- contract (mocking.lua at 3.18.0):
--   schema   delay integer default 0 (seconds); response_status integer default 200, minimum 100; content_type
--            string default "application/json;charset=utf8"; response_example string; response_schema object;
--            with_mock_header boolean default true; response_headers object (string or number values), at least
--            one; anyOf {required response_example} / {required response_schema}. priority 10900, version 0.1.
--   check    the content type up to its last ";" must be application/xml, application/json, text/plain, text/html
--            or text/xml, else "unsupported content type!".
--   access   sets Content-Type, `x-mock-by: APISIX/<version>` when with_mock_header, adds response_headers, sleeps
--            `delay`, then ends the request with response_status and response_example (before any auth: its
--            priority is above every auth plugin's, so /healthz needs no key).
-- Not modelled: response_schema (random bodies) is refused at check time, and `$var` substitution in the body and
-- header values (APISIX's core.utils.resolve_var) is not done; our /healthz body has no `$`.
local core = require("apisix.core")
local ngx = ngx
local pairs = pairs
local match = string.match
local find = string.find

local schema = {
    type = "object",
    properties = {
        delay = {type = "integer", default = 0},
        response_status = {type = "integer", default = 200, minimum = 100},
        content_type = {type = "string", default = "application/json;charset=utf8"},
        response_example = {type = "string"},
        response_schema = {type = "object"},
        with_mock_header = {type = "boolean", default = true},
        response_headers = {
            type = "object",
            minProperties = 1,
            patternProperties = {["^[^:]+$"] = {oneOf = {{type = "string"}, {type = "number"}}}},
        },
    },
    anyOf = {{required = {"response_example"}}, {required = {"response_schema"}}},
}

local SUPPORTED_TYPES = {
    ["application/xml"] = true,
    ["application/json"] = true,
    ["text/plain"] = true,
    ["text/html"] = true,
    ["text/xml"] = true,
}

local _M = {version = 0.1, priority = 10900, name = "mocking", schema = schema}


function _M.check_schema(conf)
    local ok, err = core.schema.check(schema, conf)
    if not ok then
        return false, err
    end
    local ct = conf.content_type
    local base = match(ct, "^(.*);") or ct
    if not SUPPORTED_TYPES[base] then
        return false, "unsupported content type!"
    end
    if conf.response_example == nil then
        return false, "the stand-in does not model response_schema (random bodies); give response_example"
    end
    return true
end


function _M.access(conf, ctx)
    local body = conf.response_example
    if find(body, "$", 1, true) then
        core.log.warn("mocking (stand-in): $var substitution in response_example is not modelled; sent as is")
    end
    ngx.header["Content-Type"] = conf.content_type
    if conf.with_mock_header then
        ngx.header["x-mock-by"] = "APISIX/" .. core.version.VERSION
    end
    if conf.response_headers then
        for name, value in pairs(conf.response_headers) do
            core.response.add_header(name, value)
        end
    end
    if conf.delay > 0 then
        ngx.sleep(conf.delay)
    end
    return conf.response_status, body
end


return _M
