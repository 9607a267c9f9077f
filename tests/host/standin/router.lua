-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Route matching as APISIX 3.18.0's http routers do it with lua-resty-radixtree 2.9.2 (the pinned version). Written
-- for the stand-in from APISIX's apisix/http/route.lua, apisix/http/router/radixtree_*.lua and the radixtree README
-- ("paths", "Parameters in Path", "priority", "vars"); no radixtree code is copied.
--
-- config.yaml `apisix.router.http` picks the router (default radixtree_host_uri, as conf/config.yaml.example):
--   radixtree_uri_with_parameter  `:name` segments are parameters; a path with a `:` is stored under its text before
--                                 the first `:` and matched in full afterwards (`:name` = exactly one non-empty
--                                 segment, `*` / `*name` = the rest, possibly empty).
--   radixtree_uri                 the same without parameters (`:` is plain text); used through apisix.utils.router
--   radixtree_host_uri            as radixtree_uri, but routes with host/hosts are tried before routes without.
-- Within a router, for each uri of each route (`uris` or `uri`):
--   * a path without `*` (and without `:` when parameters are on) is exact; exact paths are tried first;
--   * otherwise it is a prefix: its text before the first `*` (or `:`); the longest matching prefix is tried first;
--   * among routes under the same exact path or the same prefix: higher `priority` first, then the longer original
--     path, then file order;
--   * a candidate must pass `methods`, `host(s)` and `vars` (standin.expr), then (prefixes) the full-path check.
-- Routes with `status: 0` are skipped. Not modelled: remote_addrs, filter_func, wildcard hosts (`*.x.com`), and the
-- radixtree quirk that literal path text goes into a PCRE unescaped (our paths contain no regex characters).
local core = require("apisix.core")
local expr = require("standin.expr")
local state = require("standin.state")
local ipairs = ipairs
local pairs = pairs
local type = type
local sub = string.sub
local find = string.find
local byte = string.byte
local gsub = string.gsub
local lower = string.lower
local sort = table.sort
local concat = table.concat

local _M = {}

local DEFAULT_ROUTER = "radixtree_host_uri"
local ROUTERS = {radixtree_host_uri = true, radixtree_uri = true, radixtree_uri_with_parameter = true}
local COLON = byte(":")
local STAR = byte("*")

local compiled_for, compiled


function _M.router_name()
    local name = core.table.try_read_attr(state.local_conf, "apisix", "router", "http")
    if name == nil then
        return DEFAULT_ROUTER
    end
    return name
end


-- The full-path check of a prefix entry: its original path as a Lua pattern, plus the parameter names. Returns nil
-- when the path has no `:`/`*` segment (then the prefix alone decides, as in radixtree).
local function full_path_matcher(path)
    local parts, names = {}, {}
    local segments = {}
    for seg in (path .. "/"):gmatch("([^/]*)/") do
        segments[#segments + 1] = seg
    end
    -- like a split on "/" that drops trailing empty items; a trailing "/" is put back below
    while #segments > 1 and segments[#segments] == "" do
        segments[#segments] = nil
    end
    for i, seg in ipairs(segments) do
        local first = byte(seg, 1)
        if first == COLON then
            names[#names + 1] = sub(seg, 2)
            parts[i] = "([^/]+)"
        elseif first == STAR then
            local name = sub(seg, 2)
            names[#names + 1] = name ~= "" and name or ":ext"
            parts[i] = "(.*)"
        else
            parts[i] = (gsub(seg, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
        end
    end
    if #names == 0 then
        return nil
    end
    local pattern = "^" .. concat(parts, "/")
    if sub(path, -1) == "/" then
        pattern = pattern .. "/"
    end
    return {pattern = pattern .. "$", names = names}
end


local function set_of(list, fold)
    if type(list) ~= "table" then
        return nil
    end
    local set = {}
    for _, v in ipairs(list) do
        set[fold and lower(v) or v] = true
    end
    return set
end


local function compile()
    local params = _M.router_name() == "radixtree_uri_with_parameter"
    local exact, prefixes = {}, {}
    local seq = 0
    for _, route in ipairs(state.routes) do
        local value = route.value
        if value.status ~= 0 then
            local vars
            if value.vars then
                -- already validated at load (standin.config); compiled once per router build
                vars = expr.new(value.vars)
            end
            local hosts = set_of(value.hosts or (value.host and {value.host}), true)
            local methods = set_of(value.methods, false)
            for _, path in ipairs(value.uris or {value.uri}) do
                seq = seq + 1
                local e = {
                    route = route, path_org = path, priority = value.priority or 0, seq = seq,
                    methods = methods, hosts = hosts, vars = vars,
                }
                local cut = params and find(path, ":", 1, true) or find(path, "*", 1, true)
                if cut then
                    e.key = sub(path, 1, cut - 1)
                    e.full = full_path_matcher(path)
                    prefixes[#prefixes + 1] = e
                else
                    local list = exact[path]
                    if not list then
                        list = {}
                        exact[path] = list
                    end
                    list[#list + 1] = e
                end
            end
        end
    end
    local function same_node_order(a, b)
        if a.priority ~= b.priority then
            return a.priority > b.priority
        end
        if #a.path_org ~= #b.path_org then
            return #a.path_org > #b.path_org
        end
        return a.seq < b.seq
    end
    for _, list in pairs(exact) do
        sort(list, same_node_order)
    end
    sort(prefixes, function(a, b)
        if #a.key ~= #b.key then
            return #a.key > #b.key
        end
        return same_node_order(a, b)
    end)
    return {exact = exact, prefixes = prefixes, host_first = _M.router_name() == "radixtree_host_uri"}
end


local function passes(e, api_ctx, method, host, host_pass)
    if host_pass ~= nil and (e.hosts ~= nil) ~= host_pass then
        return false
    end
    if e.methods and not e.methods[method] then
        return false
    end
    if e.hosts and not e.hosts[host] then
        return false
    end
    if e.vars and not e.vars:eval(api_ctx.var) then
        return false
    end
    return true
end


local function full_match(e, uri, matched)
    if not e.full then
        return true
    end
    local captures = {uri:match(e.full.pattern)}
    if captures[1] == nil then
        return false
    end
    for i, name in ipairs(e.full.names) do
        matched[name] = captures[i]
    end
    return true
end


local function find_entry(c, api_ctx, uri, method, host, host_pass, matched)
    local list = c.exact[uri]
    if list then
        for _, e in ipairs(list) do
            if passes(e, api_ctx, method, host, host_pass) then
                return e
            end
        end
    end
    for _, e in ipairs(c.prefixes) do
        if sub(uri, 1, #e.key) == e.key and passes(e, api_ctx, method, host, host_pass)
            and full_match(e, uri, matched) then
            return e
        end
    end
    return nil
end


-- Sets api_ctx.matched_route (the {key, value, modifiedIndex} item) and api_ctx.curr_req_matched ({_path,
-- _method, <param> = value}), and returns the route, or nil.
function _M.match(api_ctx)
    if compiled_for ~= state.routes then
        local name = _M.router_name()
        if not ROUTERS[name] then
            core.log.error("the stand-in does not model router [", name, "]; using ", DEFAULT_ROUTER)
            state.local_conf.apisix.router.http = DEFAULT_ROUTER
        end
        compiled = compile()
        compiled_for = state.routes
    end
    local uri = api_ctx.var.uri
    local method = api_ctx.var.request_method
    local host = api_ctx.var.host and lower(api_ctx.var.host)
    local matched = {}
    local e
    if compiled.host_first then
        e = find_entry(compiled, api_ctx, uri, method, host, true, matched)
            or find_entry(compiled, api_ctx, uri, method, host, false, matched)
    else
        e = find_entry(compiled, api_ctx, uri, method, host, nil, matched)
    end
    if not e then
        return nil
    end
    matched._path = e.path_org
    matched._method = method
    api_ctx.matched_route = e.route
    api_ctx.curr_req_matched = matched
    return e.route
end


-- For standin.config: the reason a route's vars cannot be used, or nil.
function _M.check_vars(vars)
    local ok, err = expr.new(vars)
    if not ok then
        return "failed to validate the 'vars' expression: " .. err
    end
    return nil
end


return _M
