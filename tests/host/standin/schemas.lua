-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Item schemas for apisix.yaml resources, reduced to what the stand-in routes on. Written for the stand-in after
-- apisix/schema_def.lua (route, upstream, consumer) at 3.18.0; anything the stand-in cannot honour (services,
-- upstream_id, plugin_config_id, remote_addrs, filter_func, script, discovery) is rejected by additionalProperties, so a
-- scenario that depends on it fails loudly instead of silently routing differently from APISIX.
local _M = {}

local id_schema = {anyOf = {
    {type = "string", minLength = 1, maxLength = 64, pattern = [[^[a-zA-Z0-9-_.]+$]]},
    {type = "integer", minimum = 1},
}}

local METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "PURGE"}

local node_list = {
    type = "array",
    items = {
        type = "object",
        properties = {
            host = {type = "string", minLength = 1},
            port = {type = "integer", minimum = 1, maximum = 65535},
            weight = {type = "integer", minimum = 0},
            priority = {type = "integer", default = 0},
        },
        required = {"host", "weight"},
    },
}

local node_map = {
    type = "object",
    patternProperties = {[".*"] = {type = "integer", minimum = 0}},
}

_M.upstream = {
    type = "object",
    properties = {
        nodes = {anyOf = {node_map, node_list}},
        type = {type = "string", enum = {"roundrobin"}, default = "roundrobin"},
        scheme = {type = "string", enum = {"http", "https"}, default = "http"},
        pass_host = {type = "string", enum = {"pass", "node", "rewrite"}, default = "pass"},
        upstream_host = {type = "string"},
        timeout = {
            type = "object",
            properties = {
                connect = {type = "number", exclusiveMinimum = 0},
                send = {type = "number", exclusiveMinimum = 0},
                read = {type = "number", exclusiveMinimum = 0},
            },
        },
        name = {type = "string"},
        desc = {type = "string"},
        labels = {type = "object"},
    },
    required = {"nodes"},
    additionalProperties = false,
}

_M.route = {
    type = "object",
    properties = {
        id = id_schema,
        name = {type = "string", minLength = 1, maxLength = 256},
        desc = {type = "string", maxLength = 256},
        labels = {type = "object"},
        uri = {type = "string", minLength = 1, maxLength = 4096},
        uris = {type = "array", items = {type = "string"}, minItems = 1, uniqueItems = true},
        priority = {type = "integer", default = 0},
        methods = {type = "array", items = {type = "string", enum = METHODS}, uniqueItems = true},
        host = {type = "string"},
        hosts = {type = "array", items = {type = "string"}, minItems = 1, uniqueItems = true},
        plugins = {type = "object"},
        upstream = _M.upstream,
        status = {type = "integer", enum = {1, 0}, default = 1},
        -- contract: apisix/schema_def.lua route.vars at 3.18.0 (an array; compiled by standin.expr at load)
        vars = {type = "array"},
        modifiedIndex = {type = "integer"},
    },
    anyOf = {
        {required = {"plugins", "uri"}},
        {required = {"upstream", "uri"}},
        {required = {"plugins", "uris"}},
        {required = {"upstream", "uris"}},
    },
    additionalProperties = false,
}

_M.consumer = {
    type = "object",
    properties = {
        id = id_schema,
        username = {type = "string", minLength = 1, maxLength = 100, pattern = [[^[a-zA-Z0-9_\-]+$]]},
        desc = {type = "string", maxLength = 256},
        labels = {type = "object"},
        group_id = id_schema,
        plugins = {type = "object"},
        modifiedIndex = {type = "integer"},
    },
    required = {"username"},
    additionalProperties = false,
}

return _M
