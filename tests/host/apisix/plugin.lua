-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- apisix.plugin: loading plugins (load_plugin rules), validating plugin confs, picking the plugins of a route,
-- running a phase over them, merging consumer plugins, plugin_attr, conf_version, lua_response_filter.
-- Not modelled: global rules, _meta.filter (vars expressions), _meta.pre_function, stream plugins, wasm, and the
-- plugins listed in standin/not_modelled.lua (enabled, accepted unchecked, never run; each use is logged at warn).
local core = require("apisix.core")
local state = require("standin.state")
local secret = require("standin.secret")
local ngx = ngx
local ngx_print = ngx.print
local ngx_flush = ngx.flush
local ngx_exit = ngx.exit
local ngx_ok = ngx.OK
local crc32 = ngx.crc32_long
local pcall = pcall
local require = require
local type = type
local pairs = pairs
local ipairs = ipairs
local tostring = tostring
local setmetatable = setmetatable
local getmetatable = getmetatable
local sort = table.sort

local _M = {version = 0.3}

local local_plugins = {}        -- loaded plugin modules, highest priority first
local local_plugins_hash = {}   -- name → module
local skipped_plugins = {}      -- enabled but not modelled by the stand-in: name → reason (standin.not_modelled)


-- contract: apisix-runtime-notes.md §10 (plugin_attr(name) = local conf plugin_attr.<name>)
local function plugin_attr(name)
    return core.table.try_read_attr(state.local_conf, "plugin_attr", name)
end
_M.plugin_attr = plugin_attr


-- contract: apisix-runtime-notes.md §10 (load_plugin: require apisix.plugins.<name>; priority, version and a schema
-- table are required, else an error is logged and the plugin is not loaded; properties._meta is injected and a
-- plugin declaring its own _meta is refused; name and attr are set by the loader)
local function load_plugin(name)
    local ok, plugin = pcall(require, "apisix.plugins." .. name)
    if not ok then
        core.log.error("failed to load plugin [", name, "] err: ", plugin)
        return
    end
    if type(plugin) ~= "table" then
        core.log.error("failed to load plugin [", name, "] err: module did not return a table")
        return
    end
    if not plugin.priority then
        core.log.error("invalid plugin [", name, "], missing field: priority")
        return
    end
    if not plugin.version then
        core.log.error("invalid plugin [", name, "] missing field: version")
        return
    end
    if type(plugin.schema) ~= "table" then
        core.log.error("invalid plugin [", name, "] schema field")
        return
    end
    if not plugin.schema.properties then
        plugin.schema.properties = {}
    end
    local injected = core.schema.plugin_injected_schema
    if plugin.schema["$comment"] ~= injected["$comment"] then
        if plugin.schema.properties._meta then
            core.log.error("invalid plugin [", name, "]: found forbidden '_meta' field in the schema")
            return
        end
        plugin.schema.properties._meta = injected._meta
        plugin.schema["$comment"] = injected["$comment"]
    end
    plugin.name = name
    plugin.attr = plugin_attr(name)
    return plugin
end


-- Loads the enabled plugins once (init_by_lua). Plugins' init() runs per worker, see init_worker.
function _M.load(names)
    local_plugins = {}
    local_plugins_hash = {}
    skipped_plugins = {}
    local not_modelled = require("standin.not_modelled")
    for _, name in ipairs(names) do
        if not_modelled[name] then
            if not skipped_plugins[name] then
                skipped_plugins[name] = not_modelled[name]
                core.log.warn("stand-in: plugin [", name, "] is enabled but not modelled by the stand-in (",
                    not_modelled[name], "); every route, consumer and metadata item that uses it is served ",
                    "without it")
            end
        elseif not local_plugins_hash[name] then
            local plugin = load_plugin(name)
            if plugin then
                local_plugins[#local_plugins + 1] = plugin
                local_plugins_hash[name] = plugin
            end
        end
    end
    sort(local_plugins, function(l, r) return l.priority > r.priority end)
    return local_plugins
end


-- contract: apisix-runtime-notes.md §10 (init(): called in init_worker in every worker)
function _M.init_worker()
    for _, plugin in ipairs(local_plugins) do
        if type(plugin.init) == "function" then
            local ok, err = pcall(plugin.init)
            if not ok then
                core.log.error("failed to init plugin [", plugin.name, "] err: ", err)
            end
        end
    end
end


function _M.get(name)
    return local_plugins_hash[name]
end


-- The reason an enabled plugin is not modelled by the stand-in (it is then accepted and never run), or nil.
function _M.skipped(name)
    return skipped_plugins[name]
end


function _M.get_all()
    return local_plugins
end


-- contract: apisix-runtime-notes.md §8 (plugin_metadata: read with plugin.plugin_metadata(name))
function _M.plugin_metadata(name)
    return state.plugin_metadata[name]
end


-- contract: apisix-runtime-notes.md §8/§10 (conf_version(conf): crc32 of the conf's stable encoding, cached in
-- conf._version, so it survives reloads that leave the conf unchanged)
function _M.conf_version(conf)
    if not conf._version then
        conf._version = tostring(crc32(core.json.stably_encode(conf)))
    end
    return conf._version
end


local function check_disable(plugin_conf)
    if type(plugin_conf) ~= "table" or type(plugin_conf._meta) ~= "table" then
        return nil
    end
    return plugin_conf._meta.disable
end


-- contract: apisix-runtime-notes.md §10 (check_schema(conf, schema_type)); §8 (standalone: unknown plugins make the
-- item invalid)
local function check_single_plugin_schema(name, plugin_conf, schema_type)
    if type(plugin_conf) ~= "table" then
        return false, "invalid plugin conf " .. tostring(core.json.encode(plugin_conf, true))
            .. " for plugin [" .. tostring(name) .. "]"
    end
    local plugin_obj = local_plugins_hash[name]
    if not plugin_obj and skipped_plugins[name] then
        -- not modelled: accepted unchecked; standin.config warns about every use
        return true
    end
    if not plugin_obj then
        return false, "unknown plugin [" .. tostring(name) .. "]"
    end
    if plugin_obj.check_schema then
        local ok, err = plugin_obj.check_schema(plugin_conf, schema_type)
        if not ok then
            if check_disable(plugin_conf) ~= true then
                return false, "failed to check the configuration of plugin " .. name .. " err: " .. tostring(err)
            end
            core.log.warn("failed to check the configuration of disabled plugin ", name, ", accepting it anyway")
        end
    end
    return true
end
_M.check_single_plugin_schema = check_single_plugin_schema


function _M.check_schema(plugins_conf, schema_type)
    for name, plugin_conf in pairs(plugins_conf) do
        local ok, err = check_single_plugin_schema(name, plugin_conf, schema_type)
        if not ok then
            return false, err
        end
    end
    return true
end


function _M.plugin_checker(item, schema_type)
    if item.plugins then
        return _M.check_schema(item.plugins, schema_type)
    end
    return true
end


-- conf._meta.parent = {resource_key, resource_version}, through a metatable as APISIX does (so it is not encoded).
function _M.set_plugins_meta_parent(plugins, parent)
    if not plugins then
        return
    end
    for _, plugin_conf in pairs(plugins) do
        if type(plugin_conf) == "table" then
            if not plugin_conf._meta then
                plugin_conf._meta = {}
            end
            if not plugin_conf._meta.parent then
                local info = {resource_key = parent.key, resource_version = tostring(parent.modifiedIndex)}
                local mt = getmetatable(plugin_conf._meta)
                if mt then
                    mt.parent = info
                else
                    setmetatable(plugin_conf._meta, {__index = {parent = info}})
                end
            end
        end
    end
end


-- The (module, conf) pairs of a route, highest priority first (or by _meta.priority when any conf sets it).
-- phase "rewrite_in_consumer" marks the confs whose rewrite already ran, as APISIX does.
function _M.filter(ctx, conf, plugins, route_conf, phase)
    local user_plugin_conf = conf.value.plugins
    plugins = plugins or {}
    if user_plugin_conf == nil or core.table.nkeys(user_plugin_conf) == 0 then
        return plugins
    end

    local custom_sort = false
    for _, plugin_obj in ipairs(local_plugins) do
        local plugin_conf = user_plugin_conf[plugin_obj.name]
        if type(plugin_conf) == "table" and not check_disable(plugin_conf) then
            if phase == "rewrite_in_consumer" and (not plugin_conf._from_consumer or plugin_obj.type == "auth") then
                plugin_conf._skip_rewrite_in_consumer = true
            end
            if plugin_conf._meta and plugin_conf._meta.priority then
                custom_sort = true
            end
            plugins[#plugins + 1] = plugin_obj
            plugins[#plugins + 1] = plugin_conf
        end
    end

    if custom_sort then
        local pairs_list = {}
        for i = 1, #plugins, 2 do
            local obj, pconf = plugins[i], plugins[i + 1]
            local prio = pconf._meta and pconf._meta.priority or obj.priority
            pairs_list[#pairs_list + 1] = {obj = obj, conf = pconf, prio = prio}
        end
        sort(pairs_list, function(a, b) return a.prio > b.prio end)
        for i, p in ipairs(pairs_list) do
            plugins[i * 2 - 1] = p.obj
            plugins[i * 2] = p.conf
        end
    end

    -- contract: apisix-ai-contract.md §2.6 ($secret:// and $env:// references in plugin confs resolved per request)
    for i = 2, #plugins, 2 do
        if secret.has_secret_ref(plugins[i]) then
            plugins[i] = secret.fetch_secrets(plugins[i], true)
        end
    end
    return plugins
end


-- contract: apisix-runtime-notes.md §10 (rewrite/access/before_proxy may `return code, body` to stop the request via
-- core.response.exit; header_filter/body_filter/log return values are ignored)
function _M.run_plugin(phase, plugins, api_ctx)
    api_ctx = api_ctx or ngx.ctx.api_ctx
    if not api_ctx then
        return
    end
    plugins = plugins or api_ctx.plugins
    if not plugins or #plugins == 0 then
        return api_ctx
    end

    if phase ~= "log" and phase ~= "header_filter" and phase ~= "body_filter" and phase ~= "delayed_body_filter" then
        local exec_phase = phase == "rewrite_in_consumer" and "rewrite" or phase
        for i = 1, #plugins, 2 do
            local conf = plugins[i + 1]
            if not (phase == "rewrite_in_consumer" and conf._skip_rewrite_in_consumer) then
                local phase_func = plugins[i][exec_phase]
                if phase_func then
                    api_ctx._plugin_name = plugins[i].name
                    local code, body = phase_func(conf, api_ctx)
                    api_ctx._plugin_name = nil
                    if code or body then
                        if code and code >= 400 then
                            core.log.warn(plugins[i].name, " exits with http status code ", code)
                            if conf._meta and conf._meta.error_response then
                                body = conf._meta.error_response
                            end
                        end
                        core.response.exit(code, body)
                    end
                end
            end
        end
        return api_ctx
    end

    for i = 1, #plugins, 2 do
        local phase_func = plugins[i][phase]
        if phase_func then
            api_ctx._plugin_name = plugins[i].name
            phase_func(plugins[i + 1], api_ctx)
            api_ctx._plugin_name = nil
        end
    end
    return api_ctx
end


local merged_route = core.lrucache.new({ttl = 300, count = 512})

local function merge_consumer_route(route_conf, consumer_conf)
    local new_route_conf = core.table.deepcopy(route_conf, {shallow_prefix = "self.value.plugins"})
    for name, conf in pairs(consumer_conf.plugins) do
        if not new_route_conf.value.plugins then
            new_route_conf.value.plugins = {}
        end
        if new_route_conf.value.plugins[name] == nil then
            conf._from_consumer = true
        end
        new_route_conf.value.plugins[name] = conf
    end
    return new_route_conf
end


-- contract: apisix-runtime-notes.md §8 (after auth: consumer-level plugins are merged into the route); conf_type,
-- conf_id and conf_version gain the consumer, so plugin_ctx caches are per route+consumer.
function _M.merge_consumer_route(route_conf, consumer_conf, _, api_ctx)
    if not consumer_conf.plugins or core.table.nkeys(consumer_conf.plugins) == 0 then
        return route_conf, false
    end
    local flag = tostring(route_conf.value.id) .. "#" .. tostring(route_conf.modifiedIndex) .. "#"
        .. tostring(consumer_conf.id) .. "#" .. tostring(consumer_conf.modifiedIndex)
    local new_conf = merged_route(flag, api_ctx.conf_version, merge_consumer_route, route_conf, consumer_conf)

    api_ctx.conf_type = api_ctx.conf_type .. "&consumer"
    api_ctx.conf_version = api_ctx.conf_version .. "&" .. tostring(api_ctx.consumer_ver)
    api_ctx.conf_id = api_ctx.conf_id .. "&" .. tostring(api_ctx.consumer_name)
    return new_conf, new_conf ~= route_conf
end


-- contract: apisix-ai-contract.md §1.4 (lua_response_filter(api_ctx, headers, body, no_flush, wait): every plugin's
-- lua_body_filter(conf, ctx, headers, body) first, a returned code ends the response (status set unless ngx.OK,
-- body printed, ngx.exit(ngx.OK)); a returned body replaces the chunk; then ngx.print(body); then ngx.flush(wait)
-- unless no_flush; returns true or false, err)
function _M.lua_response_filter(api_ctx, headers, body, no_flush, wait)
    local plugins = api_ctx.plugins
    if plugins and #plugins > 0 then
        for i = 1, #plugins, 2 do
            local phase_func = plugins[i].lua_body_filter
            if phase_func then
                local code, new_body = phase_func(plugins[i + 1], api_ctx, headers, body)
                if code then
                    if code ~= ngx_ok then
                        ngx.status = code
                    end
                    ngx_print(new_body)
                    ngx_exit(ngx_ok)
                end
                if new_body then
                    body = new_body
                end
            end
        end
    end
    local ok, err = ngx_print(body)
    if not ok then
        return false, err
    end
    if not no_flush then
        ok, err = ngx_flush(wait == true)
        if not ok then
            return false, err
        end
    end
    return true
end


return _M
