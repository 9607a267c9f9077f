-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Loads the configuration once in init_by_lua: config.json (the JSON twin of config.yaml) and apisix.json (the JSON
-- twin of apisix.yaml, written by tests/rig/nginx.ts from the very file APISIX standalone would read). Loads the
-- enabled plugins, validates every item like APISIX's yaml provider and skips invalid ones with an error log.
-- contract: apisix-runtime-notes.md §8 (standalone mode: top-level arrays; id = id or username or "arr_<i>"; items
-- validated with the Admin API schemas, an invalid item is logged and skipped, the rest load; modifiedIndex defaults
-- to the file version; plugin_metadata items validated against metadata_schema)
local core = require("apisix.core")
local plugin = require("apisix.plugin")
local state = require("standin.state")
local schemas = require("standin.schemas")
local router = require("standin.router")
local cjson = require("cjson.safe")
local io_open = io.open
local type = type
local pairs = pairs
local ipairs = ipairs
local tostring = tostring
local crc32 = ngx.crc32_long

local _M = {}

-- Resource kinds the stand-in serves; anything else in apisix.yaml is reported (not silently ignored).
local SUPPORTED = {routes = true, consumers = true, plugin_metadata = true, plugins = true}


local function read_json(path)
    local f, err = io_open(path, "rb")
    if not f then
        return nil, nil, "failed to open " .. path .. ": " .. tostring(err)
    end
    local text = f:read("*a")
    f:close()
    local obj, decode_err = cjson.decode(text)
    if obj == nil then
        return nil, nil, "failed to decode " .. path .. ": " .. tostring(decode_err)
    end
    return obj, text
end


-- Every plugin a resource names, for when config.yaml has no `plugins:` list (APISIX would then use its default
-- list; the stand-in has no built-ins beyond the AI modules, so it enables exactly what the file uses).
local function referenced_plugins(conf)
    local names, seen = {}, {}
    local function add(name)
        if not seen[name] then
            seen[name] = true
            names[#names + 1] = name
        end
    end
    for _, kind in ipairs({"routes", "consumers"}) do
        for _, item in ipairs(type(conf[kind]) == "table" and conf[kind] or {}) do
            if type(item) == "table" and type(item.plugins) == "table" then
                for name in pairs(item.plugins) do
                    add(name)
                end
            end
        end
    end
    for _, item in ipairs(type(conf.plugin_metadata) == "table" and conf.plugin_metadata or {}) do
        if type(item) == "table" and type(item.id) == "string" then
            add(item.id)
        end
    end
    table.sort(names)
    return names
end


local function enabled_plugins(local_conf, conf)
    -- apisix.yaml `plugins:` (list of {name}) overrides config.yaml, which replaces the default list.
    if type(conf.plugins) == "table" and #conf.plugins > 0 then
        local names = {}
        for _, p in ipairs(conf.plugins) do
            if type(p) == "table" and type(p.name) == "string" and not p.stream then
                names[#names + 1] = p.name
            end
        end
        return names
    end
    if type(local_conf.plugins) == "table" and #local_conf.plugins > 0 then
        return local_conf.plugins
    end
    return referenced_plugins(conf)
end


local function check_item(kind, item, item_schema, schema_type)
    local ok, err = core.schema.check(item_schema, item)
    if ok then
        ok, err = plugin.plugin_checker(item, schema_type)
    end
    -- contract: apisix/http/route.lua check_route at 3.18.0 (after the schema and plugin checks, a route's vars must
    -- compile: "failed to validate the 'vars' expression: <err>")
    if ok and kind == "routes" and item.vars then
        err = router.check_vars(item.vars)
        ok = err == nil
    end
    if not ok then
        -- APISIX also logs `,val: <item>`; the stand-in leaves it out because items carry client keys.
        core.log.error("failed to check item data of [", kind, "] err:", err)
        return false
    end
    return true
end


-- Every use of a plugin the stand-in does not model (standin/not_modelled.lua) is said once per load, at warn.
local function warn_skipped_plugins(kind, id, plugins)
    if type(plugins) ~= "table" then
        return
    end
    local names = {}
    for name in pairs(plugins) do
        if plugin.skipped(name) then
            names[#names + 1] = name
        end
    end
    table.sort(names)
    for _, name in ipairs(names) do
        core.log.warn(kind, " [", id, "]: skipping plugin [", name, "]: not modelled by the stand-in (",
            plugin.skipped(name), ")")
    end
end


local function load_items(kind, items, item_schema, schema_type, version)
    local values, by_id = {}, {}
    for i, item in ipairs(type(items) == "table" and items or {}) do
        if type(item) ~= "table" then
            core.log.error("invalid item data of [", kind, "/", i, "], it should be an object")
        elseif check_item(kind, item, item_schema, schema_type) then
            local id = tostring(item.id or item.username or ("arr_" .. i))
            item.id = id
            warn_skipped_plugins(kind, id, item.plugins)
            local conf_item = {value = item, modifiedIndex = item.modifiedIndex or version, key = "/" .. kind .. "/" .. id}
            plugin.set_plugins_meta_parent(item.plugins, conf_item)
            if by_id[id] then
                values[by_id[id]] = conf_item
            else
                values[#values + 1] = conf_item
                by_id[id] = #values
            end
        end
    end
    return values
end


local function load_metadata(items, version)
    local out = {}
    for i, item in ipairs(type(items) == "table" and items or {}) do
        if type(item) ~= "table" or type(item.id) ~= "string" then
            core.log.error("invalid item data of [plugin_metadata/", i, "], it needs an id naming the plugin")
        else
            local plugin_obj = plugin.get(item.id)
            if plugin.skipped(item.id) then
                core.log.warn("plugin_metadata [", item.id, "]: skipping it: not modelled by the stand-in (",
                    plugin.skipped(item.id), ")")
            elseif plugin_obj then
                local ok, err = true, nil
                if plugin_obj.check_schema then
                    ok, err = plugin_obj.check_schema(item, core.schema.TYPE_METADATA)
                elseif plugin_obj.metadata_schema then
                    ok, err = core.schema.check(plugin_obj.metadata_schema, item)
                end
                if ok then
                    out[item.id] = {value = item, modifiedIndex = version, key = "/plugin_metadata/" .. item.id}
                else
                    core.log.error("failed to check item data of [plugin_metadata] err:failed to check the ",
                        "configuration of plugin ", item.id, " err: ", err)
                end
            end
        end
    end
    return out
end


-- opts: {config_path = <config.json>, apisix_path = <apisix.json>}
function _M.load(opts)
    local local_conf, _, err = read_json(opts.config_path)
    if not local_conf then
        core.log.error("failed to load the configuration: ", err)
        local_conf = {}
    end
    state.local_conf = local_conf

    local conf, text, apisix_err = read_json(opts.apisix_path)
    if not conf then
        core.log.error("failed to load the configuration: ", apisix_err)
        conf, text = {}, "{}"
    end
    -- The version of every item, like the file mtime in APISIX: unchanged text keeps caches keyed by it.
    local version = crc32(text)
    state.conf_version = version

    for key in pairs(conf) do
        if not SUPPORTED[key] then
            core.log.error("the stand-in does not support [", key, "] in apisix.yaml; the items are ignored")
        end
    end

    plugin.load(enabled_plugins(local_conf, conf))
    state.consumers = load_items("consumers", conf.consumers, schemas.consumer, core.schema.TYPE_CONSUMER, version)
    state.routes = load_items("routes", conf.routes, schemas.route, nil, version)
    state.plugin_metadata = load_metadata(conf.plugin_metadata, version)
    return true
end


return _M
