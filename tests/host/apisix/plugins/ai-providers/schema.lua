-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- The provider enum. The same table object is the `enum` of ai-proxy-multi's instances[].provider, so a name appended
-- from apisix.lua_module_hook (before any schema check) is accepted everywhere.
-- contract: apisix-ai-contract.md §1.1 (ai-providers/schema.lua providers is a shared table; register a custom name
-- with `p[#p + 1] = "azure-openai-dynamic"` in the hook)
local _M = {}

_M.providers = {
    "openai", "deepseek", "aimlapi", "anthropic",
    "openai-compatible", "azure-openai", "openrouter",
    "gemini", "vertex-ai", "bedrock",
}

return _M
