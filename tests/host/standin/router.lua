-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Route matching in the spirit of APISIX's radixtree_host_uri router: `uri`/`uris` are exact paths, or prefixes when
-- they end in `*`; an exact path beats a prefix, a longer prefix beats a shorter one, then the route `priority`
-- (higher first) decides; `methods` and `host`/`hosts` filter; routes with `status: 0` are skipped.
-- Not modelled: :param segments, vars, remote_addrs, filter_func, wildcard hosts.
local state = require("standin.state")
local ipairs = ipairs
local type = type
local sub = string.sub
local byte = string.byte
local lower = string.lower
local sort = table.sort

local _M = {}

local STAR = byte("*")

local compiled_for, compiled


-- One entry per (route, uri pattern), ordered by how APISIX would prefer them.
local function compile()
    local entries = {}
    for _, route in ipairs(state.routes) do
        local value = route.value
        if value.status ~= 0 then
            local uris = value.uris or {value.uri}
            local methods
            if type(value.methods) == "table" then
                methods = {}
                for _, m in ipairs(value.methods) do
                    methods[m] = true
                end
            end
            local hosts
            if value.host or value.hosts then
                hosts = {}
                for _, h in ipairs(value.hosts or {value.host}) do
                    hosts[lower(h)] = true
                end
            end
            for _, uri in ipairs(uris) do
                local prefix = byte(uri, #uri) == STAR
                entries[#entries + 1] = {
                    route = route,
                    path = prefix and sub(uri, 1, #uri - 1) or uri,
                    prefix = prefix,
                    priority = value.priority or 0,
                    methods = methods,
                    hosts = hosts,
                }
            end
        end
    end
    sort(entries, function(a, b)
        if a.prefix ~= b.prefix then
            return not a.prefix
        end
        if #a.path ~= #b.path then
            return #a.path > #b.path
        end
        return a.priority > b.priority
    end)
    return entries
end


-- Sets api_ctx.matched_route (the {key, value, modifiedIndex} item) and returns it, or nil.
function _M.match(api_ctx)
    if compiled_for ~= state.routes then
        compiled = compile()
        compiled_for = state.routes
    end
    local uri = api_ctx.var.uri
    local method = api_ctx.var.request_method
    local host = api_ctx.var.host and lower(api_ctx.var.host)
    for _, e in ipairs(compiled) do
        local path_ok
        if e.prefix then
            path_ok = sub(uri, 1, #e.path) == e.path
        else
            path_ok = uri == e.path
        end
        if path_ok and (not e.methods or e.methods[method]) and (not e.hosts or e.hosts[host]) then
            api_ctx.matched_route = e.route
            return e.route
        end
    end
    return nil
end


return _M
