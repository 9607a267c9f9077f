-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Protocol registry and detection. Detection asks each protocol in the contract's order; the first match wins.
-- contract: apisix-ai-contract.md §3.1 (order: bedrock-converse, anthropic-messages, openai-responses, openai-chat,
-- openai-embeddings, passthrough) and §3.2 (converters: the stand-in has none, so a protocol the provider lacks
-- gets base's 400 "provider X does not support ..." where APISIX would convert anthropic→chat)
local ipairs = ipairs
local pairs = pairs
local sort = table.sort

local _M = {}

local registered = {
    ["openai-chat"] = require("apisix.plugins.ai-protocols.openai-chat"),
    ["openai-responses"] = require("apisix.plugins.ai-protocols.openai-responses"),
    ["openai-embeddings"] = require("apisix.plugins.ai-protocols.openai-embeddings"),
    ["anthropic-messages"] = require("apisix.plugins.ai-protocols.detect-only").new("anthropic-messages"),
    ["bedrock-converse"] = require("apisix.plugins.ai-protocols.detect-only").new("bedrock-converse"),
    ["passthrough"] = require("apisix.plugins.ai-protocols.passthrough"),
}

local DETECTION_ORDER = {
    "bedrock-converse", "anthropic-messages", "openai-responses", "openai-chat", "openai-embeddings", "passthrough",
}


function _M.detect(body, ctx)
    for _, name in ipairs(DETECTION_ORDER) do
        if registered[name].matches(body, ctx) then
            return name
        end
    end
    return nil, "unsupported request format: no protocol matched"
end


function _M.get(name)
    return registered[name]
end


function _M.names()
    local names = {}
    for name in pairs(registered) do
        names[#names + 1] = name
    end
    sort(names)
    return names
end


function _M.find_converter()
    return nil
end


function _M.get_messages(body, ctx)
    local name = _M.detect(body, ctx)
    local proto = name and registered[name]
    return proto and proto.get_messages and proto.get_messages(body) or {}
end


function _M.get_request_content(body, ctx)
    local name = _M.detect(body, ctx)
    local proto = name and registered[name]
    return proto and proto.get_request_content and proto.get_request_content(body)
end


return _M
