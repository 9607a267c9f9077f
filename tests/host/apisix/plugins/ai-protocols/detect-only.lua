-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Protocols the stand-in only needs to *detect* (so a request is not mistaken for openai-chat): anthropic-messages
-- and bedrock-converse. No usage, no text; parse_sse_event skips.
-- contract: apisix-ai-contract.md §3.1 (bedrock-converse: URI ends with /converse and the body has messages;
-- anthropic-messages: URI ends with /v1/messages)
local type = type
local sub = string.sub

local _M = {}

local MATCHERS = {
    ["bedrock-converse"] = function(body, ctx)
        local uri = ctx.var and ctx.var.uri
        return uri ~= nil and sub(uri, -9) == "/converse" and type(body) == "table" and type(body.messages) == "table"
    end,
    ["anthropic-messages"] = function(_, ctx)
        local uri = ctx.var and ctx.var.uri
        return uri ~= nil and sub(uri, -12) == "/v1/messages"
    end,
}


function _M.new(name)
    return {
        name = name,
        matches = MATCHERS[name],
        is_streaming = function(body) return type(body) == "table" and body.stream == true end,
        parse_sse_event = function() return {type = "skip"} end,
        extract_usage = function() return nil, nil end,
        extract_response_text = function() return nil end,
    }
end


return _M
