-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- openai: the three OpenAI paths on api.openai.com:443 (tests always set override.endpoint to a loopback fake).
-- contract: apisix-ai-contract.md §3.5 (openai: chat, responses, embeddings; host api.openai.com)
local function rewrite_chat(body, override, force)
    if override.max_tokens and (force or (body.max_completion_tokens == nil and body.max_tokens == nil)) then
        body.max_completion_tokens = override.max_tokens
        body.max_tokens = nil
    end
end

local function rewrite_responses(body, override, force)
    if override.max_tokens and (force or body.max_output_tokens == nil) then
        body.max_output_tokens = override.max_tokens
    end
end

return require("apisix.plugins.ai-providers.base").new({
    host = "api.openai.com",
    port = 443,
    capabilities = {
        ["openai-chat"] = {path = "/v1/chat/completions", rewrite_request_body = rewrite_chat},
        ["openai-responses"] = {path = "/v1/responses", rewrite_request_body = rewrite_responses},
        ["openai-embeddings"] = {path = "/v1/embeddings"},
    },
})
