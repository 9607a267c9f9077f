-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- openai-responses: URI ending in /v1/responses with an `input`; events passed through verbatim.
-- contract: apisix-ai-contract.md §3.1 (row 3) and §3.3 (nothing injected; response.output_text.delta → text;
-- response.completed → usage_and_done with input/output/total tokens, cached_tokens → cache_read_input_tokens,
-- reasoning_tokens; has_tool_call for output[].type == "function_call"; response.failed / response.incomplete /
-- error → done; non-streaming extract_usage with the same mapping; end user = safety_identifier, else user)
local core = require("apisix.core")
local type = type
local ipairs = ipairs
local sub = string.sub
local concat = table.concat

local _M = {}

local SUFFIX = "/v1/responses"


function _M.matches(body, ctx)
    local uri = ctx.var and ctx.var.uri
    return uri ~= nil and sub(uri, -#SUFFIX) == SUFFIX and type(body) == "table" and body.input ~= nil
end


function _M.is_streaming(body)
    return body.stream == true
end


local function usage_of(u)
    local prompt = u.input_tokens or 0
    local completion = u.output_tokens or 0
    return {
        prompt_tokens = prompt,
        completion_tokens = completion,
        total_tokens = u.total_tokens or (prompt + completion),
        cache_read_input_tokens = type(u.input_tokens_details) == "table" and u.input_tokens_details.cached_tokens or 0,
        cache_creation_input_tokens = 0,
        reasoning_tokens = type(u.output_tokens_details) == "table" and u.output_tokens_details.reasoning_tokens or 0,
    }
end


local function has_function_call(output)
    if type(output) ~= "table" then
        return false
    end
    for _, item in ipairs(output) do
        if type(item) == "table" and item.type == "function_call" then
            return true
        end
    end
    return false
end


function _M.parse_sse_event(event)
    local t = event.type
    if t == "response.output_text.delta" then
        local data = core.json.decode(event.data, {null_as_nil = true})
        if type(data) == "table" and type(data.delta) == "string" then
            return {type = "delta", texts = {data.delta}}
        end
        return {type = "skip"}
    elseif t == "response.completed" then
        local result = {type = "done"}
        local data = core.json.decode(event.data, {null_as_nil = true})
        local resp = type(data) == "table" and data.response
        if type(resp) == "table" then
            if type(resp.usage) == "table" then
                result.type = "usage_and_done"
                result.usage = usage_of(resp.usage)
                result.raw_usage = resp.usage
            end
            result.has_tool_call = has_function_call(resp.output) or nil
        end
        return result
    elseif t == "response.failed" or t == "response.incomplete" or t == "error" then
        return {type = "done"}
    end
    return {type = "skip"}
end


function _M.extract_usage(res_body)
    if type(res_body) ~= "table" or type(res_body.usage) ~= "table" then
        return nil, nil
    end
    return usage_of(res_body.usage), res_body.usage
end


function _M.extract_response_text(res_body)
    if type(res_body) ~= "table" or type(res_body.output) ~= "table" then
        return nil
    end
    local texts = {}
    for _, item in ipairs(res_body.output) do
        if type(item) == "table" and item.type == "message" and type(item.content) == "table" then
            for _, part in ipairs(item.content) do
                if type(part) == "table" and part.type == "output_text" and type(part.text) == "string" then
                    texts[#texts + 1] = part.text
                end
            end
        end
    end
    return #texts > 0 and concat(texts, " ") or nil
end


function _M.has_tool_call(res_body)
    return type(res_body) == "table" and has_function_call(res_body.output)
end


function _M.extract_end_user_id(body)
    if type(body) ~= "table" then
        return nil
    end
    if type(body.safety_identifier) == "string" then
        return body.safety_identifier
    end
    if type(body.user) == "string" then
        return body.user
    end
    return nil
end


function _M.get_messages(body)
    if type(body.input) == "string" then
        return {{role = "user", content = body.input}}
    end
    return {}
end


function _M.get_request_content(body)
    return body.input
end


return _M
