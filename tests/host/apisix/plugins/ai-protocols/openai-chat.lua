-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- openai-chat: a body with a `messages` table (any URI).
-- contract: apisix-ai-contract.md §3.1 (row 4; streaming = stream == true), §1.2 (build_body: openai-chat forces
-- stream_options.include_usage = true when streaming), §1.4 (parse_sse_event → {type = delta|usage|done|skip,
-- texts, usage, raw_usage, has_tool_call}), §1.5 (ai_token_usage fields)
local core = require("apisix.core")
local type = type
local ipairs = ipairs
local concat = table.concat

local _M = {}


function _M.matches(body)
    return type(body) == "table" and type(body.messages) == "table"
end


function _M.is_streaming(body)
    return body.stream == true
end


function _M.prepare_outgoing_request(body)
    if body.stream then
        body.stream_options = {include_usage = true}
        return true
    end
    return false
end


local function usage_of(u)
    local pd = type(u.prompt_tokens_details) == "table" and u.prompt_tokens_details or nil
    local cd = type(u.completion_tokens_details) == "table" and u.completion_tokens_details or nil
    local prompt = u.prompt_tokens or 0
    local completion = u.completion_tokens or 0
    return {
        prompt_tokens = prompt,
        completion_tokens = completion,
        total_tokens = u.total_tokens or (prompt + completion),
        cache_read_input_tokens = pd and pd.cached_tokens or u.prompt_cache_hit_tokens or 0,
        cache_creation_input_tokens = pd and pd.cache_creation_input_tokens or 0,
        reasoning_tokens = cd and cd.reasoning_tokens or 0,
    }
end


function _M.parse_sse_event(event)
    if event.type ~= "message" then
        return {type = "skip"}
    end
    local data = event.data
    if type(data) ~= "string" or data:match("^%s*$") then
        return {type = "skip"}
    end
    if data == "[DONE]" then
        return {type = "done"}
    end
    local obj, err = core.json.decode(data, {null_as_nil = true})
    if type(obj) ~= "table" then
        core.log.warn("failed to decode SSE data: ", err)
        return {type = "skip"}
    end
    local result = {type = "delta", data = obj}
    if type(obj.choices) == "table" then
        local texts = {}
        for _, choice in ipairs(obj.choices) do
            local delta = type(choice) == "table" and choice.delta
            if type(delta) == "table" then
                if type(delta.content) == "string" then
                    texts[#texts + 1] = delta.content
                end
                if type(delta.tool_calls) == "table" and #delta.tool_calls > 0 then
                    result.has_tool_call = true
                end
            end
        end
        if #texts > 0 then
            result.texts = texts
        end
    end
    if type(obj.usage) == "table" then
        result.type = "usage"
        result.usage = usage_of(obj.usage)
        result.raw_usage = obj.usage
    end
    return result
end


function _M.extract_usage(res_body)
    if type(res_body) ~= "table" or type(res_body.usage) ~= "table" then
        return nil, nil
    end
    return usage_of(res_body.usage), res_body.usage
end


function _M.extract_response_text(res_body)
    if type(res_body) ~= "table" or type(res_body.choices) ~= "table" or #res_body.choices == 0 then
        return nil
    end
    local contents = {}
    for _, choice in ipairs(res_body.choices) do
        local msg = type(choice) == "table" and choice.message
        if type(msg) == "table" and type(msg.content) == "string" then
            contents[#contents + 1] = msg.content
        end
    end
    return concat(contents, " ")
end


function _M.has_tool_call(res_body)
    if type(res_body) ~= "table" or type(res_body.choices) ~= "table" then
        return false
    end
    for _, choice in ipairs(res_body.choices) do
        local msg = type(choice) == "table" and choice.message
        if type(msg) == "table" and type(msg.tool_calls) == "table" and #msg.tool_calls > 0 then
            return true
        end
    end
    return false
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
    local out = {}
    for _, m in ipairs(type(body.messages) == "table" and body.messages or {}) do
        if type(m) == "table" and type(m.content) == "string" then
            out[#out + 1] = {role = m.role, content = m.content}
        end
    end
    return out
end


function _M.get_request_content(body)
    return body.messages
end


return _M
