-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Deep merge for override.request_body: objects merge recursively, anything else replaces; existing client fields
-- win unless force.
-- contract: apisix-ai-contract.md §2.6 (override.request_body.<protocol> deep merge, request_body_force_override)
local pairs = pairs
local next = next
local type = type

local _M = {}

local function is_object(t)
    if type(t) ~= "table" then
        return false
    end
    local k = next(t)
    return k == nil or type(k) == "string"
end


local function deep_merge(target, patch, force)
    if not is_object(patch) or not is_object(target) then
        return patch
    end
    for k, v in pairs(patch) do
        if is_object(v) and is_object(target[k]) then
            deep_merge(target[k], v, force)
        elseif target[k] == nil or force then
            target[k] = v
        end
    end
    return target
end
_M.deep_merge = deep_merge

return _M
