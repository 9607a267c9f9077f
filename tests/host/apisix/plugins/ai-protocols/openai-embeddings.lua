-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- openai-embeddings: any body with `input` (after responses/chat had their turn); never streaming.
-- contract: apisix-ai-contract.md §3.1 (row 5: body has input, any URI) and §3.4 (usage {prompt_tokens,
-- completion_tokens = 0, total_tokens}; never streaming)
local type = type

local _M = {}

function _M.matches(body)
    return type(body) == "table" and body.input ~= nil
end

function _M.is_streaming()
    return false
end

function _M.parse_sse_event()
    return {type = "skip"}
end

function _M.extract_usage(res_body)
    if type(res_body) ~= "table" or type(res_body.usage) ~= "table" then
        return nil, nil
    end
    local u = res_body.usage
    return {
        prompt_tokens = u.prompt_tokens or 0,
        completion_tokens = 0,
        total_tokens = u.total_tokens or 0,
    }, u
end

function _M.extract_response_text()
    return nil
end

function _M.get_messages(body)
    if type(body) == "table" and type(body.input) == "string" then
        return {{role = "user", content = body.input}}
    end
    return {}
end

function _M.get_request_content(body)
    return type(body) == "table" and body.input or nil
end

return _M
