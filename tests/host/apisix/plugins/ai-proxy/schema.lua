-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- ai-proxy-multi's conf schema, reduced to the keys the stand-in honours plus the ones it accepts and ignores
-- (checks, semantic_opts, examples, threshold, logging). instances[].provider's enum IS the shared providers table.
-- contract: apisix-ai-contract.md §1.1 (shared enum), §2.2 (fallback_strategy values, max_retries,
-- retry_on_failure_within_ms), §2.4 (timeout default 30000 max 600000, keepalive, keepalive_timeout 60000,
-- keepalive_pool 30, ssl_verify true, max_stream_duration_ms, max_response_bytes), §1.4 (streaming_flush_interval_ms
-- default 10), §2.1 (max_req_body_size default 64 MiB)
local providers = require("apisix.plugins.ai-providers.schema").providers

local _M = {}

local string_map = {type = "object", additionalProperties = {type = "string"}}

local auth_schema = {
    type = "object",
    properties = {
        header = string_map,
        query = string_map,
        gcp = {type = "object"},
        aws = {type = "object"},
    },
    additionalProperties = false,
}

local override_schema = {
    type = "object",
    properties = {
        endpoint = {type = "string", minLength = 1},
        llm_options = {
            type = "object",
            properties = {max_tokens = {type = "integer", minimum = 1}},
            additionalProperties = false,
        },
        request_body = {type = "object"},
        request_body_force_override = {type = "boolean", default = false},
    },
}

local instance_schema = {
    type = "object",
    properties = {
        name = {type = "string", minLength = 1, maxLength = 100},
        provider = {type = "string", enum = providers},
        priority = {type = "integer", default = 0},
        weight = {type = "integer", minimum = 0},
        auth = auth_schema,
        options = {type = "object", properties = {model = {type = "string"}}},
        override = override_schema,
        provider_conf = {
            type = "object",
            properties = {project_id = {type = "string"}, region = {type = "string", minLength = 1}},
        },
        checks = {type = "object"},
        examples = {type = "array", items = {type = "string", minLength = 1}},
        threshold = {type = "number", minimum = -1, maximum = 1},
    },
    required = {"name", "provider", "auth", "weight"},
}

local timeout = {type = "integer", minimum = 1, maximum = 600000, default = 30000}

_M.ai_proxy_multi_schema = {
    type = "object",
    properties = {
        balancer = {
            type = "object",
            properties = {
                algorithm = {type = "string", enum = {"chash", "roundrobin", "semantic"}},
                hash_on = {type = "string", default = "vars"},
                key = {type = "string"},
            },
            default = {algorithm = "roundrobin"},
        },
        instances = {type = "array", minItems = 1, items = instance_schema},
        semantic_opts = {type = "object"},
        logging = {
            type = "object",
            properties = {summaries = {type = "boolean"}, payloads = {type = "boolean"}},
        },
        fallback_strategy = {
            anyOf = {
                {type = "string", enum = {"instance_health_and_rate_limiting", "http_429", "http_5xx"}},
                {type = "array", items = {type = "string", enum = {"rate_limiting", "http_429", "http_5xx"}}},
            },
        },
        max_retries = {type = "integer", minimum = 0},
        retry_on_failure_within_ms = {type = "integer", minimum = 1},
        timeout = timeout,
        max_req_body_size = {type = "integer", minimum = 1, default = 67108864},
        max_stream_duration_ms = {type = "integer", minimum = 1},
        max_response_bytes = {type = "integer", minimum = 1},
        keepalive = {type = "boolean", default = true},
        keepalive_timeout = {type = "integer", minimum = 1000, default = 60000},
        keepalive_pool = {type = "integer", minimum = 1, default = 30},
        streaming_flush_interval_ms = {type = "integer", minimum = 0, default = 10},
        ssl_verify = {type = "boolean", default = true},
    },
    required = {"instances"},
}

return _M
