-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- passthrough: any non-empty JSON object nothing else claimed; no usage, no text, SSE events skipped (still relayed).
-- contract: apisix-ai-contract.md §3.1 (row 6) and §3.4 (passthrough: no usage; build_body reports unchanged so the
-- client's bytes go out; upstream SSE still streamed, parse_sse_event always skip)
local type = type
local next = next

local _M = {}

function _M.matches(body)
    return type(body) == "table" and next(body) ~= nil
end

function _M.is_streaming(body)
    return type(body) == "table" and body.stream == true
end

function _M.prepare_outgoing_request()
    return false
end

function _M.parse_sse_event()
    return {type = "skip"}
end

function _M.extract_response_text()
    return nil
end

function _M.extract_usage()
    return nil, nil
end

function _M.get_messages()
    return {}
end

function _M.get_request_content()
    return nil
end

return _M
