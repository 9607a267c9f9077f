-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Route `vars` expressions, after the documented behaviour of lua-resty-expr 1.3.2 (the version APISIX 3.18.0 pins
-- in apisix-master-0.rockspec; README "new", "Comparison Operators", "Logical Operators", "eval"). Written for the
-- stand-in; no lua-resty-expr code is copied.
--   rule  = a list of expressions, ANDed: {{"http_x_priority", "~*", "^low$"}, ...}
--         | a logical operator first: {"OR", expr_or_rule, expr_or_rule, ...} (also "AND", "!OR", "!AND")
--   expr  = {var, op, value} or {var, "!", op, value} (the "!" reverses the result)
-- Modelled operators: "==", "~=", "~~" (PCRE match), "~*" (case-insensitive PCRE match). The renderer emits only
-- "~*" (renderer/routes.ts, the x-priority low lane). ">", ">=", "<", "<=", "in", "has" and "ipmatch" exist in
-- APISIX but are refused here with "not modelled by the stand-in", so a config that needs them fails loudly.
-- Like lua-resty-expr, a missing variable never matches "~~"/"~*", and an operator is case-insensitive.
local re_find = ngx.re.find
local ngx_null = ngx.null
local type = type
local ipairs = ipairs
local tonumber = tonumber
local tostring = tostring
local setmetatable = setmetatable
local upper = string.upper
local lower = string.lower

local _M = {}
local mt = {__index = _M}

local LOGIC = {AND = true, OR = true, ["!AND"] = true, ["!OR"] = true}

local function regex(flags)
    return function(left, right)
        if left == nil or type(right) ~= "string" then
            return false
        end
        return re_find(tostring(left), right, flags) ~= nil
    end
end

local OPS = {
    ["=="] = function(left, right)
        if type(right) == "number" then
            return tonumber(left) == right
        end
        return left == right
    end,
    ["~="] = function(left, right)
        if type(right) == "number" then
            return tonumber(left) ~= right
        end
        return left ~= right
    end,
    ["~~"] = regex("jo"),
    ["~*"] = regex("joi"),
}

local UNMODELLED = {[">"] = true, [">="] = true, ["<"] = true, ["<="] = true, ["in"] = true, has = true, ipmatch = true}


local function compile_expr(e)
    local var, op, value, reverse
    if #e == 4 then
        if e[2] ~= "!" then
            return nil, "bad 'not' expression"
        end
        var, op, value, reverse = e[1], e[3], e[4], true
    else
        var, op, value, reverse = e[1], e[2], e[3], false
    end
    if type(op) == "string" then
        op = lower(op)
    end
    if value == nil and op ~= nil and not OPS[op] and not UNMODELLED[op] then
        -- the two-element form {var, value} means equality (lua-resty-expr keeps it for compatibility)
        value, op = op, "=="
    end
    if var == nil or op == nil then
        return nil, "invalid expression"
    end
    if UNMODELLED[op] then
        return nil, "operator '" .. op .. "' is not modelled by the stand-in (see docs/testing.md)"
    end
    if not OPS[op] then
        return nil, "invalid operator '" .. tostring(op) .. "'"
    end
    if value == ngx_null then
        value = nil
    end
    if (op == "~~" or op == "~*") and type(value) == "string" then
        -- ngx.re.find returns from, to, err: ".*" matches "" (1, 0), which is no error.
        local _, _, err = re_find("", value, "jo")
        if err then
            return nil, "invalid regex '" .. value .. "': " .. err
        end
    end
    return {var = var, fn = OPS[op], value = value, reverse = reverse}
end


local compile

compile = function(rule)
    if #rule == 0 then
        return nil, "rule too short"
    end
    local node = {logic = "AND", items = {}}
    local first = 1
    if type(rule[1]) ~= "table" then
        local logic = type(rule[1]) == "string" and upper(rule[1])
        if not logic or not LOGIC[logic] then
            return compile_expr(rule)
        end
        if #rule < 3 then
            return nil, "rule too short"
        end
        node.logic = logic
        first = 2
    end
    for i = first, #rule do
        if type(rule[i]) ~= "table" then
            return nil, "rule should be wrapped inside brackets"
        end
        local child, err = compile(rule[i])
        if not child then
            return nil, err
        end
        node.items[#node.items + 1] = child
    end
    return node
end


-- Returns an expression object, or nil and the reason (APISIX turns it into "failed to validate the 'vars'
-- expression: <reason>").
function _M.new(rule)
    if type(rule) ~= "table" then
        return nil, "missing argument rule"
    end
    if #rule == 0 then
        return setmetatable({}, mt)
    end
    if type(rule[1]) ~= "table" and not (type(rule[1]) == "string" and LOGIC[upper(rule[1])]) then
        return nil, "rule should be wrapped inside brackets"
    end
    local node, err = compile(rule)
    if not node then
        return nil, err
    end
    return setmetatable({node = node}, mt)
end


local eval

eval = function(node, vars)
    if node.fn then
        return node.fn(vars[node.var], node.value) ~= node.reverse
    end
    local any = node.logic == "OR" or node.logic == "!OR"
    local result = not any
    for _, item in ipairs(node.items) do
        if eval(item, vars) == any then
            result = any
            break
        end
    end
    if node.logic == "!AND" or node.logic == "!OR" then
        return not result
    end
    return result
end


function _M.eval(self, vars)
    if not self.node then
        return true
    end
    return eval(self.node, vars)
end


return _M
