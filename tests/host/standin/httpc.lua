-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- A small HTTP/1.1 client over ngx cosockets with lua-resty-http's object API, which is also the API of APISIX
-- 3.18's default ngx_http_ffi_client (neither exists on this machine; this one is ours):
--   local httpc = httpc.new(); httpc:set_timeout(ms) | httpc:set_timeouts(connect, send, read)
--   httpc:connect({scheme, host, port, ssl_verify, ssl_server_name})      → true | nil, err
--   httpc:request({method, path, query, headers, body})                  → res | nil, err
--   res.status, res.reason, res.headers (case-insensitive), res.has_body, res.body_reader(), res:read_body()
--   httpc:set_keepalive(timeout_ms, pool) (only once the body was read to its end), httpc:close()
-- Bodies: Content-Length, chunked (one body_reader call per chunk, so SSE timing survives), or read-until-close.
-- contract: apisix-ai-contract.md §2.4 (`timeout` applies to connect, send and *each read*: for a stream it is an idle
-- timeout between chunks) and §5.4 (the transport returns res with status, headers, body_reader, read_body)
local ngx = ngx
local tcp = ngx.socket.tcp
local encode_args = ngx.encode_args
local type = type
local pairs = pairs
local ipairs = ipairs
local tonumber = tonumber
local tostring = tostring
local setmetatable = setmetatable
local rawget = rawget
local rawset = rawset
local lower = string.lower
local match = string.match
local find = string.find
local sub = string.sub
local concat = table.concat

local _M = {}
local mt = {__index = _M}

-- Upper bound for one body_reader() read when the length is unknown (read-until-close) or large.
local READ_SIZE = 65536


-- Header table with case-insensitive lookups; pairs() yields the names as the server sent them.
local function new_headers()
    local index = {}
    return setmetatable({}, {
        __index = function(t, k)
            local name = index[lower(k)]
            return name and rawget(t, name)
        end,
        __newindex = function(t, k, v)
            local key = lower(k)
            local name = index[key]
            if name then
                local old = rawget(t, name)
                if type(old) == "table" then
                    old[#old + 1] = v
                else
                    rawset(t, name, {old, v})
                end
            else
                index[key] = k
                rawset(t, k, v)
            end
        end,
    })
end


function _M.new()
    local sock, err = tcp()
    if not sock then
        return nil, err
    end
    return setmetatable({sock = sock, keepalive_ok = false}, mt)
end


function _M.set_timeout(self, ms)
    self.sock:settimeout(ms)
end


function _M.set_timeouts(self, connect_ms, send_ms, read_ms)
    self.sock:settimeouts(connect_ms, send_ms, read_ms)
end


function _M.connect(self, params)
    local scheme = params.scheme or "http"
    local host, port = params.host, params.port or (scheme == "https" and 443 or 80)
    self.host, self.port, self.scheme = host, port, scheme
    local pool = params.pool or (host .. ":" .. port .. (scheme == "https" and ":" .. tostring(params.ssl_server_name) or ""))
    local ok, err = self.sock:connect(host, port, {pool = pool})
    if not ok then
        return nil, err
    end
    if scheme == "https" and self.sock:getreusedtimes() == 0 then
        local verify = params.ssl_verify ~= false
        local _, ssl_err = self.sock:sslhandshake(nil, params.ssl_server_name or host, verify)
        if ssl_err then
            return nil, "ssl handshake failed: " .. ssl_err
        end
    end
    return true
end


local function build_request(self, params)
    local path = params.path or "/"
    -- Like lua-resty-http 0.17 (resty/http.lua, send_request), which real APISIX 3.18 uses: a query table always
    -- adds "?" (ai-providers/base.lua passes {} when there is none, so stock upstreams see "/v1/chat/completions?");
    -- a string gets "?" unless it has one. The path is never inspected.
    local query = params.query or ""
    if type(query) == "table" then
        query = "?" .. encode_args(query)
    elseif query ~= "" and sub(query, 1, 1) ~= "?" then
        query = "?" .. query
    end
    path = path .. query
    local lines = {(params.method or "GET") .. " " .. path .. " HTTP/1.1"}
    local has_host, has_length = false, false
    for name, value in pairs(params.headers or {}) do
        local key = lower(name)
        has_host = has_host or key == "host"
        has_length = has_length or key == "content-length"
        if type(value) == "table" then
            for _, v in ipairs(value) do
                lines[#lines + 1] = name .. ": " .. tostring(v)
            end
        else
            lines[#lines + 1] = name .. ": " .. tostring(value)
        end
    end
    if not has_host then
        local default_port = (self.scheme == "https" and 443 or 80)
        lines[#lines + 1] = "Host: " .. self.host .. (self.port ~= default_port and (":" .. self.port) or "")
    end
    local body = params.body
    if body and not has_length then
        lines[#lines + 1] = "Content-Length: " .. #body
    end
    lines[#lines + 1] = ""
    lines[#lines + 1] = body or ""
    return concat(lines, "\r\n")
end


local function read_headers(sock)
    local headers = new_headers()
    while true do
        local line, err = sock:receive("*l")
        if not line then
            return nil, err
        end
        if line == "" then
            return headers
        end
        local name, value = match(line, "^([^:]+):%s*(.-)%s*$")
        if name then
            headers[name] = value
        end
    end
end


-- body_reader for each framing; each returns chunk | nil (end) | nil, err.
local function chunked_reader(self)
    local sock = self.sock
    local done = false
    return function()
        if done then
            return nil
        end
        local line, err = sock:receive("*l")
        if not line then
            return nil, err
        end
        local size = tonumber(match(line, "^%s*(%x+)"), 16)
        if not size then
            return nil, "invalid chunk size: " .. line
        end
        if size == 0 then
            -- trailers end with an empty line
            repeat
                line, err = sock:receive("*l")
                if not line then
                    return nil, err
                end
            until line == ""
            done = true
            self.keepalive_ok = true
            return nil
        end
        local data, data_err = sock:receive(size)
        if not data then
            return nil, data_err
        end
        local crlf, crlf_err = sock:receive(2)
        if not crlf then
            return nil, crlf_err
        end
        return data
    end
end


local function length_reader(self, length)
    local sock = self.sock
    local left = length
    if left == 0 then
        self.keepalive_ok = true
    end
    return function(size)
        if left <= 0 then
            return nil
        end
        local n = size and size < left and size or (left < READ_SIZE and left or READ_SIZE)
        local data, err = sock:receive(n)
        if not data then
            return nil, err
        end
        left = left - #data
        if left == 0 then
            self.keepalive_ok = true
        end
        return data
    end
end


local function until_close_reader(self)
    local sock = self.sock
    local done = false
    return function()
        if done then
            return nil
        end
        local data, err = sock:receiveany(READ_SIZE)
        if not data then
            if err == "closed" then
                done = true
                return nil
            end
            return nil, err
        end
        return data
    end
end


local function read_body(res)
    local reader = res.body_reader
    if not reader then
        return ""
    end
    local parts = {}
    while true do
        local chunk, err = reader()
        if err then
            return nil, err
        end
        if not chunk then
            break
        end
        parts[#parts + 1] = chunk
    end
    return concat(parts)
end


function _M.request(self, params)
    local sock = self.sock
    self.keepalive_ok = false
    local bytes, err = sock:send(build_request(self, params))
    if not bytes then
        return nil, err
    end

    local status_line, status
    repeat
        status_line, err = sock:receive("*l")
        if not status_line then
            return nil, err
        end
        status = tonumber(match(status_line, "^HTTP/%d%.%d%s+(%d%d%d)"))
        if not status then
            return nil, "invalid status line: " .. status_line
        end
        local headers, herr = read_headers(sock)
        if not headers then
            return nil, herr
        end
        self.res_headers = headers
    until status ~= 100

    local headers = self.res_headers
    local res = {
        status = status,
        reason = match(status_line, "^HTTP/%d%.%d%s+%d%d%d%s*(.*)$"),
        headers = headers,
        read_body = read_body,
    }
    local connection = headers["Connection"]
    self.server_closes = connection and lower(connection) == "close"
    local no_body = params.method == "HEAD" or status == 204 or status == 304 or (status >= 100 and status < 200)
    if no_body then
        res.has_body = false
        self.keepalive_ok = true
        return res
    end
    res.has_body = true
    local te = headers["Transfer-Encoding"]
    local length = tonumber(headers["Content-Length"])
    if te and find(lower(te), "chunked", 1, true) then
        res.body_reader = chunked_reader(self)
    elseif length then
        res.body_reader = length_reader(self, length)
    else
        self.server_closes = true
        res.body_reader = until_close_reader(self)
    end
    return res
end


-- Pools the connection when the response was read to its end and the server keeps it open; else closes it.
function _M.set_keepalive(self, timeout_ms, pool_size)
    if not self.keepalive_ok or self.server_closes then
        return self:close()
    end
    return self.sock:setkeepalive(timeout_ms, pool_size)
end


function _M.close(self)
    return self.sock:close()
end


return _M
