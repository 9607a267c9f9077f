-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- APISIX plugins the renderer can emit (renderer/routes.ts, renderer/config-yaml.ts) that the stand-in does not
-- model, with the reason. Such a plugin is accepted in config.yaml `plugins:`, on routes, consumers and in
-- plugin_metadata, is never run, and every use is logged at [warn] when the config loads ("... skipping plugin
-- [name]: not modelled by the stand-in (reason)"). Keep docs/testing.md ("Not modelled") in step.
return {
    ["ai-rate-limiting"] = "token quotas are APISIX's limit-count machinery (local counters or Redis, usage "
        .. "charged in the log phase); re-implementing it would test the stand-in, not Spillway; the real-APISIX "
        .. "host covers it",
    opentelemetry = "tracing needs opentelemetry-lua and a collector and does not change what the client or the "
        .. "backends see",
}
