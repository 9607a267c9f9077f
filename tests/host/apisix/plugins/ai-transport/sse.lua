-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- SSE framing: split a buffer into complete events (blank-line terminated, LF or CRLF) plus the remainder, parse
-- each event's fields, and encode events back.
-- contract: apisix-ai-contract.md §1.4 (each network chunk is split into complete SSE events by decode_buf, with a
-- 1 MiB remainder cap; events are {type, data, id, retry}, type defaulting to "message")
local find = string.find
local sub = string.sub
local lower = string.lower
local byte = string.byte
local concat = table.concat
local tonumber = tonumber
local tostring = tostring

local _M = {
    -- Bytes an incomplete trailing event may hold before the streaming loop drops it.
    max_remainder = 1024 * 1024,
}

local CR = byte("\r")


-- One event block (no blank lines inside) → event, or nil when it holds only comments.
local function parse_block(block)
    local event = {type = "message"}
    local data = {}
    local has_field = false
    local pos, len = 1, #block
    while pos <= len do
        local nl = find(block, "\n", pos, true)
        local line
        if nl then
            line = sub(block, pos, nl - 1)
            pos = nl + 1
        else
            line = sub(block, pos)
            pos = len + 1
        end
        if byte(line, -1) == CR then
            line = sub(line, 1, -2)
        end
        local colon = find(line, ":", 1, true)
        -- no colon: not a field line; colon first: a comment
        if colon and colon > 1 then
            local name = lower(sub(line, 1, colon - 1))
            local value = sub(line, colon + 1)
            if sub(value, 1, 1) == " " then
                value = sub(value, 2)
            end
            has_field = true
            if name == "data" then
                data[#data + 1] = value
            elseif name == "event" then
                event.type = value
            elseif name == "id" then
                event.id = value
            elseif name == "retry" then
                event.retry = tonumber(value)
            end
        end
    end
    if not has_field then
        return nil
    end
    event.data = concat(data, "\n")
    return event
end


-- End of the next event (last content byte) and the start of what follows its blank line, from pos.
local function boundary(buf, pos)
    local lf = find(buf, "\n\n", pos, true)
    local crlf = find(buf, "\r\n\r\n", pos, true)
    if lf and (not crlf or lf <= crlf) then
        return lf - 1, lf + 2
    elseif crlf then
        return crlf - 1, crlf + 4
    end
    return nil
end


-- buf → (events, remainder): every complete event and the bytes after the last blank line.
function _M.decode_buf(buf)
    local events = {}
    local pos = 1
    while true do
        local last, next_pos = boundary(buf, pos)
        if not last then
            break
        end
        local event = parse_block(sub(buf, pos, last))
        if event then
            events[#events + 1] = event
        end
        pos = next_pos
    end
    return events, sub(buf, pos)
end


-- A whole body (or chunk) → events; a trailing block without its blank line still counts as an event.
function _M.decode(chunk)
    local events, rest = _M.decode_buf(chunk or "")
    if rest ~= "" then
        local event = parse_block(rest)
        if event then
            events[#events + 1] = event
        end
    end
    return events
end


function _M.encode(event)
    local parts = {}
    if event.type and event.type ~= "message" then
        parts[#parts + 1] = "event: " .. event.type
    end
    if event.id then
        parts[#parts + 1] = "id: " .. event.id
    end
    if event.retry then
        parts[#parts + 1] = "retry: " .. tostring(event.retry)
    end
    if event.data then
        for line in (event.data .. "\n"):gmatch("(.-)\n") do
            parts[#parts + 1] = "data: " .. line
        end
    end
    return concat(parts, "\n") .. "\n\n"
end


return _M
