-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- The built-in azure-openai provider: chat only, path /completions (so override.endpoint is the full deployment
-- URL in practice), `model` removed, max_tokens mapping.
-- contract: apisix-ai-contract.md §3.5 and §5.1 (built-in azure-openai: only openai-chat, remove_model = true)
local function rewrite_chat(body, override, force)
    if override.max_tokens and (force or body.max_tokens == nil) then
        body.max_tokens = override.max_tokens
    end
end

return require("apisix.plugins.ai-providers.base").new({
    port = 443,
    remove_model = true,
    capabilities = {
        ["openai-chat"] = {path = "/completions", rewrite_request_body = rewrite_chat},
    },
})
