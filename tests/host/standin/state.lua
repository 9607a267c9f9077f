-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- The stand-in's loaded configuration, shared by its modules. Filled once in init_by_lua (standin.config) and
-- inherited by every worker; a reload (HUP) starts a fresh Lua VM and loads it again.
return {
    -- config.yaml (its JSON twin): plugins list, plugin_attr, apisix.lua_module_hook, ...
    local_conf = {},
    -- apisix.yaml version: the crc32 of its JSON twin, the conf_version of every item (like the file mtime in APISIX)
    conf_version = 0,
    routes = {},            -- array of {key, value, modifiedIndex}
    consumers = {},         -- array of {key, value, modifiedIndex}
    plugin_metadata = {},   -- name → {key, value, modifiedIndex}
}
