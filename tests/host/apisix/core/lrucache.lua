-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.lrucache: versioned LRU caches over resty.lrucache: cache(key, version, create, ...) → value, err.
-- contract: apisix-runtime-notes.md §11 (core.lrucache.new({ttl, count}) → cache(key, version, create_fn, ...));
-- style-anchors.md §1 ("once per conf version": core.lrucache.plugin_ctx). Not modelled: serial_creating locks,
-- refresh_stale, negative caching.
local lru_new = require("resty.lrucache").new

local GLOBAL_ITEMS_COUNT = 1024
local GLOBAL_TTL = 60 * 60
local PLUGIN_TTL = 5 * 60
local PLUGIN_ITEMS_COUNT = 8

local _M = {version = 0.1}


local function new_lru_fun(opts)
    local count, ttl
    if opts and opts.type == "plugin" then
        count = opts.count or PLUGIN_ITEMS_COUNT
        ttl = opts.ttl or PLUGIN_TTL
    else
        count = opts and opts.count or GLOBAL_ITEMS_COUNT
        ttl = opts and opts.ttl or GLOBAL_TTL
    end
    local invalid_stale = opts and opts.invalid_stale
    local lru = assert(lru_new(count))

    return function(key, version, create, ...)
        local obj, stale = lru:get(key)
        if obj and obj.ver == version then
            return obj.val
        end
        if not invalid_stale and stale and stale.ver == version then
            lru:set(key, stale, ttl)
            return stale.val
        end
        local val, err = create(...)
        if val ~= nil then
            lru:set(key, {val = val, ver = version}, ttl)
        end
        return val, err
    end
end

local global_lru = new_lru_fun()


local function plugin_ctx_key_and_ver(api_ctx, extra_key)
    local key = api_ctx.conf_type .. "#" .. api_ctx.conf_id
    if extra_key then
        key = key .. "#" .. extra_key
    end
    return key, api_ctx.conf_version
end


-- One object per (route or route&consumer, conf version, extra key).
local function plugin_ctx(lrucache, api_ctx, extra_key, create, ...)
    local key, ver = plugin_ctx_key_and_ver(api_ctx, extra_key)
    return lrucache(key, ver, create, ...)
end


local function plugin_ctx_id(api_ctx, extra_key)
    local key, ver = plugin_ctx_key_and_ver(api_ctx, extra_key)
    return key .. "#" .. ver
end


_M.new = new_lru_fun
_M.global = global_lru
_M.plugin_ctx = plugin_ctx
_M.plugin_ctx_id = plugin_ctx_id

return _M
