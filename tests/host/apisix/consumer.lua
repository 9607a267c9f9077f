-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- apisix.consumer: consumers of the loaded apisix.yaml grouped per auth plugin, key → consumer maps, and
-- attach_consumer. Shapes follow apisix/consumer.lua at 3.18.0.
-- contract: apisix-runtime-notes.md §8 (consumers: `- username` + `plugins`; after auth ctx.consumer,
-- ctx.consumer_name and $consumer_name are set; consumer-level plugins are merged into the route)
local core = require("apisix.core")
local plugin = require("apisix.plugin")
local state = require("standin.state")
local secret = require("standin.secret")
local ipairs = ipairs
local pairs = pairs
local type = type

local _M = {version = 0.3}

local lrucache = core.lrucache.new({ttl = 300, count = 512})


-- {[plugin name] = {nodes = {consumer...}, len, conf_version}} for auth plugins only. Each consumer is a clone of
-- the item with consumer_name (= id = username), modifiedIndex and auth_conf (that plugin's conf).
local function plugin_consumer()
    local plugins = {}
    for _, item in ipairs(state.consumers) do
        for name, config in pairs(item.value.plugins or {}) do
            local plugin_obj = plugin.get(name)
            if plugin_obj and plugin_obj.type == "auth" then
                if not plugins[name] then
                    plugins[name] = {nodes = {}, len = 0, conf_version = state.conf_version}
                end
                local consumer = core.table.clone(item.value)
                consumer.modifiedIndex = item.modifiedIndex
                consumer.consumer_name = consumer.id
                if type(consumer.labels) == "table" then
                    consumer.custom_id = consumer.labels.custom_id
                end
                consumer.auth_conf = config
                plugins[name].len = plugins[name].len + 1
                plugins[name].nodes[plugins[name].len] = consumer
            end
        end
    end
    return plugins
end


function _M.plugin(plugin_name)
    local by_plugin = core.lrucache.global("/consumers", state.conf_version, plugin_consumer)
    return by_plugin[plugin_name]
end


function _M.consumers_conf(plugin_name)
    return _M.plugin(plugin_name)
end


-- key value → consumer, with $env:// references in auth_conf resolved. Fails closed: a consumer whose key is unset
-- or still an unresolved reference is skipped with an error, as in 3.18.
local function create_consume_cache(consumers_conf, key_attr)
    local by_key = {}
    for _, consumer in ipairs(consumers_conf.nodes) do
        local resolved = core.table.clone(consumer)
        resolved.auth_conf = secret.fetch_secrets(consumer.auth_conf)
        local key_value = resolved.auth_conf[key_attr]
        if key_value == nil then
            core.log.error("missing consumer auth credential '", key_attr, "', skipping consumer: ",
                resolved.consumer_name)
        elseif secret.has_secret_ref(resolved.auth_conf) then
            core.log.error("failed to resolve secret reference in consumer auth credential, skipping consumer: ",
                resolved.consumer_name)
        else
            by_key[key_value] = resolved
        end
    end
    return by_key
end


function _M.consumers_kv(plugin_name, consumer_conf, key_attr)
    return lrucache("consumers_key#" .. plugin_name, consumer_conf.conf_version, create_consume_cache,
        consumer_conf, key_attr)
end


function _M.find_consumer(plugin_name, key, key_value)
    local consumer_conf = _M.plugin(plugin_name)
    if not consumer_conf then
        return nil, nil, "Missing related consumer"
    end
    return _M.consumers_kv(plugin_name, consumer_conf, key)[key_value], consumer_conf
end


-- contract: apisix-runtime-notes.md §8 (ctx.consumer, ctx.consumer_name); as 3.18 consumer.lua it also sets
-- consumer_group_id, consumer_ver and the X-Consumer-Username / X-Credential-Identifier / X-Consumer-Custom-ID
-- request headers (nil removes them, so a client cannot forge them).
function _M.attach_consumer(ctx, consumer, conf)
    ctx.consumer = consumer
    ctx.consumer_name = consumer.consumer_name
    ctx.consumer_group_id = consumer.group_id
    ctx.consumer_ver = conf.conf_version

    core.request.set_header(ctx, "X-Consumer-Username", consumer.username)
    core.request.set_header(ctx, "X-Credential-Identifier", consumer.credential_id)
    core.request.set_header(ctx, "X-Consumer-Custom-ID", consumer.custom_id)
end


function _M.consumers()
    local list = {}
    for _, item in ipairs(state.consumers) do
        list[#list + 1] = item
    end
    return list, state.conf_version
end


return _M
