-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.schema: check(schema, conf) → true | false, err, with default injection (standin/jsonschema.lua), plus the
-- schema-type constants and the `_meta` schema APISIX injects into every plugin schema.
-- contract: apisix-runtime-notes.md §10 (check_schema(conf, schema_type): TYPE_CONSUMER = 1, TYPE_METADATA = 2;
-- properties._meta injected) and §11 (core.schema.check)
local jsonschema = require("standin.jsonschema")
local pcall = pcall

local _M = {
    version = 0.3,
    TYPE_CONSUMER = 1,
    TYPE_METADATA = 2,
}


-- The fields APISIX injects under properties._meta (apisix/schema_def.lua plugin_injected_schema), trimmed to
-- what the stand-in honours: disable and priority are acted on; the rest is accepted and ignored.
_M.plugin_injected_schema = {
    ["$comment"] = "this is a mark for our injected plugin schema",
    _meta = {
        type = "object",
        properties = {
            disable = {type = "boolean"},
            error_response = {oneOf = {{type = "string"}, {type = "object"}}},
            priority = {type = "integer", description = "priority of plugins by customized order"},
            filter = {type = "array", description = "filter determines whether the plugin needs to be executed"},
            pre_function = {type = "string"},
        },
    },
}


-- Returns true, or false + the validator's message. A schema the validator cannot handle is reported, not raised.
function _M.check(schema, json)
    local ok, valid, err = pcall(jsonschema.validate, schema, json)
    if not ok then
        return false, "failed to validate with the stand-in schema checker: " .. tostring(valid)
    end
    if valid then
        return true
    end
    return false, err
end


return _M
