-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- openai-compatible: chat, responses and embeddings on the OpenAI paths, no default host (override.endpoint needed).
-- contract: apisix-ai-contract.md §3.5 (openai-compatible: same three paths as openai, no host)
local function rewrite_chat(body, override, force)
    if override.max_tokens and (force or body.max_tokens == nil) then
        body.max_tokens = override.max_tokens
    end
end

local function rewrite_responses(body, override, force)
    if override.max_tokens and (force or body.max_output_tokens == nil) then
        body.max_output_tokens = override.max_tokens
    end
end

return require("apisix.plugins.ai-providers.base").new({
    capabilities = {
        ["openai-chat"] = {path = "/v1/chat/completions", rewrite_request_body = rewrite_chat},
        ["openai-responses"] = {path = "/v1/responses", rewrite_request_body = rewrite_responses},
        ["openai-embeddings"] = {path = "/v1/embeddings"},
    },
})
