-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- The instance pickers ai-proxy-multi uses (apisix/balancer/roundrobin.lua and priority.lua in APISIX):
--   roundrobin.new({[name] = weight}) → {get(ctx), after_balance(ctx, before_retry), before_retry_next_priority(ctx)}
--   priority.new(nodes_by_priority)   → higher priority groups first; a lower group only once the higher is exhausted
-- Both keep the tried set on ctx (balancer_tried_servers / _count, priority_balancer_picker_idx) exactly as APISIX.
-- The weighted order is smooth WRR (nginx's); APISIX's resty.roundrobin interleaves differently for the same weights,
-- so tests must not rely on which equal-priority instance comes first, only on proportions.
-- contract: apisix-ai-contract.md §2.1 (priority picker higher first, lower group only after the higher one is
-- exhausted; otherwise weighted round-robin) and §2.3 (every failed attempt marks the instance tried)
local ipairs = ipairs
local pairs = pairs
local sort = table.sort

local _M = {roundrobin = {}, priority = {}}


local function smooth_wrr(weights)
    local names = {}
    for name in pairs(weights) do
        names[#names + 1] = name
    end
    sort(names)
    local current = {}
    return function()
        local best, total = nil, 0
        for _, name in ipairs(names) do
            local w = weights[name]
            if w > 0 then
                current[name] = (current[name] or 0) + w
                total = total + w
                if not best or current[name] > current[best] then
                    best = name
                end
            end
        end
        if not best then
            return nil, "no node with a positive weight"
        end
        current[best] = current[best] - total
        return best
    end
end


function _M.roundrobin.new(up_nodes)
    local safe_limit, count = 0, 0
    for _, weight in pairs(up_nodes) do
        safe_limit = safe_limit + weight + 1
        count = count + 1
    end
    local find = smooth_wrr(up_nodes)

    return {
        get = function(ctx)
            if ctx.balancer_tried_servers and ctx.balancer_tried_servers_count == count then
                return nil, "all upstream servers tried"
            end
            local server, err
            for _ = 1, safe_limit do
                server, err = find()
                if not server then
                    return nil, err
                end
                if not (ctx.balancer_tried_servers and ctx.balancer_tried_servers[server]) then
                    return server
                end
            end
            return nil, "all upstream servers tried"
        end,
        after_balance = function(ctx, before_retry)
            local server = ctx.balancer_server
            ctx.balancer_server = nil
            if not before_retry then
                ctx.balancer_tried_servers = nil
                return
            end
            if not server then
                return
            end
            ctx.balancer_tried_servers = ctx.balancer_tried_servers or {}
            ctx.balancer_tried_servers[server] = true
            ctx.balancer_tried_servers_count = (ctx.balancer_tried_servers_count or 0) + 1
        end,
        before_retry_next_priority = function(ctx)
            ctx.balancer_tried_servers = nil
            ctx.balancer_tried_servers_count = 0
        end,
    }
end


-- nodes: {[priority] = {[name] = weight}, _priority_index = {priority...}}
function _M.priority.new(nodes)
    local index = nodes._priority_index
    sort(index, function(a, b) return a > b end)
    local pickers = {}
    for i, prio in ipairs(index) do
        pickers[i] = _M.roundrobin.new(nodes[prio])
    end

    return {
        get = function(ctx)
            for i = ctx.priority_balancer_picker_idx or 1, #pickers do
                local server = pickers[i].get(ctx)
                if server then
                    ctx.priority_balancer_picker_idx = i
                    return server
                end
                pickers[i].before_retry_next_priority(ctx)
            end
            return nil, "all servers tried"
        end,
        after_balance = function(ctx, before_retry)
            local picker = pickers[ctx.priority_balancer_picker_idx]
            if picker then
                picker.after_balance(ctx, before_retry)
            end
        end,
    }
end


return _M
