-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Proxying for routes that carry an `upstream`: picks a node (smooth weighted round-robin per route, per worker)
-- and hands it to nginx through variables; nginx.conf then does `proxy_pass $upstream_scheme://$standin_upstream_addr
-- $upstream_uri`, the stand-in's version of APISIX's balancer_by_lua upstream.
-- Not modelled: health checks, retries to another node, keepalive pools, chash/ewma/least_conn, service discovery.
local core = require("apisix.core")
local ngx = ngx
local ipairs = ipairs
local pairs = pairs
local type = type
local tonumber = tonumber
local match = string.match

local _M = {}

local pickers = core.lrucache.new({ttl = 300, count = 256})


local function parse_nodes(nodes)
    local list = {}
    if type(nodes) ~= "table" then
        return list
    end
    if #nodes > 0 then
        for _, n in ipairs(nodes) do
            list[#list + 1] = {host = n.host, port = n.port or 80, weight = n.weight}
        end
    else
        for addr, weight in pairs(nodes) do
            local host, port = match(addr, "^(.-):(%d+)$")
            list[#list + 1] = {host = host or addr, port = tonumber(port) or 80, weight = weight}
        end
        table.sort(list, function(a, b) return a.host .. a.port < b.host .. b.port end)
    end
    return list
end


local function new_picker(upstream)
    local nodes = parse_nodes(upstream.nodes)
    local current = {}
    return function()
        local best, total = nil, 0
        for i, n in ipairs(nodes) do
            if n.weight > 0 then
                current[i] = (current[i] or 0) + n.weight
                total = total + n.weight
                if not best or current[i] > current[best] then
                    best = i
                end
            end
        end
        if not best then
            return nil
        end
        current[best] = current[best] - total
        return nodes[best]
    end
end


-- Sets the nginx variables for proxy_pass; returns nil or (status, err) when no node can be picked.
function _M.set(api_ctx, route)
    local upstream = route.value.upstream
    if not upstream then
        return 502, "missing upstream configuration in Route"
    end
    local pick = pickers(route.key, route.modifiedIndex, new_picker, upstream)
    local node = pick and pick()
    if not node then
        return 502, "no valid upstream node"
    end
    local addr = node.host .. ":" .. node.port
    api_ctx.picked_server = node
    api_ctx.balancer_ip = node.host
    api_ctx.balancer_port = node.port
    api_ctx.var.upstream_scheme = upstream.scheme or "http"
    ngx.var.standin_upstream_addr = addr
    -- Not in the contract notes; follows apisix/init.lua set_upstream_host at 3.18.0: the client Host is passed
    -- unless pass_host is node or rewrite.
    if upstream.pass_host == "node" then
        api_ctx.var.upstream_host = addr
    elseif upstream.pass_host == "rewrite" and upstream.upstream_host then
        api_ctx.var.upstream_host = upstream.upstream_host
    end
    return nil
end


return _M
