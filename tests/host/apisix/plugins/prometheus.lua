-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- A stand-in for APISIX 3.18.0's `prometheus` plugin: its route-level schema only, so routes rendered with
-- `prometheus: {prefer_name: true}` (renderer/routes.ts) load and are checked as APISIX checks them. Written for the
-- stand-in after apisix/plugins/prometheus.lua at tag 3.18.0; no APISIX code is copied.
-- contract (prometheus.lua at 3.18.0): schema {prefer_name: boolean, default false}; priority 500; version 0.2;
-- run_policy "prefer_route"; metadata_schema {disabled_labels: object} (checked with schema type TYPE_METADATA).
-- Not modelled: the metrics themselves (the log phase is a no-op), the export server that plugin_attr.prometheus
-- (export_addr, enable_export_server, export_uri) would start, and metric_prefix.
local core = require("apisix.core")

local schema = {
    type = "object",
    properties = {
        prefer_name = {type = "boolean", default = false},
    },
}

local metadata_schema = {
    type = "object",
    properties = {
        disabled_labels = {type = "object"},
    },
}

local _M = {
    version = 0.2,
    priority = 500,
    name = "prometheus",
    schema = schema,
    metadata_schema = metadata_schema,
    run_policy = "prefer_route",
}


function _M.check_schema(conf, schema_type)
    if schema_type == core.schema.TYPE_METADATA then
        return core.schema.check(metadata_schema, conf)
    end
    return core.schema.check(schema, conf)
end


-- APISIX records http_status, http_latency, bandwidth and the llm_* metrics here; the stand-in records nothing.
function _M.log(conf, ctx)
end


return _M
