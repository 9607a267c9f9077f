-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- A stand-in for APISIX 3.18.0's `proxy-rewrite` plugin, for the one field the renderer writes: `regex_uri` on the
-- E2E test routes (renderer/routes.ts: ["^/<prefix>(/openai/.*)$", "$1"]). Written for the stand-in after
-- apisix/plugins/proxy-rewrite.lua at tag 3.18.0; no APISIX code is copied.
-- contract (proxy-rewrite.lua at 3.18.0):
--   schema   regex_uri: array of strings, minItems 2; priority 1008, version 0.1.
--   check    an odd number of items is "The length of regex_uri should be an even number"; each pair must compile
--            ("invalid regex_uri(<pattern>, <replacement>): <err>").
--   rewrite  the first pattern that matches ctx.var.uri is substituted once (ngx.re.sub, "jo"); the result becomes
--            the request uri (ngx.req.set_uri) and ctx.var.upstream_uri, with "?" .. args when the client sent a
--            query. No pattern matching leaves the uri alone. ctx.var.request_uri (what the client sent) is NOT
--            changed, by nginx's design.
-- Not modelled (refused at check time, so a config that needs them fails loudly): uri, method, host, scheme,
-- headers, use_real_request_uri_unsafe. Also not done: APISIX's uri_safe_encode of the new uri.
local core = require("apisix.core")
local ngx = ngx
local pairs = pairs
local tostring = tostring
local re_match = ngx.re.match
local re_sub = ngx.re.sub

local schema = {
    type = "object",
    properties = {
        regex_uri = {type = "array", minItems = 2, items = {type = "string"}},
    },
}

local _M = {version = 0.1, priority = 1008, name = "proxy-rewrite", schema = schema}


function _M.check_schema(conf)
    local ok, err = core.schema.check(schema, conf)
    if not ok then
        return false, err
    end
    for name in pairs(conf) do
        if name ~= "regex_uri" and name ~= "_meta" then
            return false, "the stand-in models only regex_uri of proxy-rewrite, not [" .. tostring(name) .. "]"
        end
    end
    local list = conf.regex_uri
    if not list then
        return false, "the stand-in models only regex_uri of proxy-rewrite, and it is missing"
    end
    if #list % 2 ~= 0 then
        return false, "The length of regex_uri should be an even number"
    end
    for i = 1, #list, 2 do
        local _, _, sub_err = re_sub("/fake_uri", list[i], list[i + 1], "jo")
        if sub_err then
            return false, "invalid regex_uri(" .. list[i] .. ", " .. list[i + 1] .. "): " .. sub_err
        end
    end
    return true
end


function _M.rewrite(conf, ctx)
    local uri = ctx.var.uri
    local list = conf.regex_uri
    for i = 1, #list, 2 do
        local captures, err = re_match(uri, list[i], "jo")
        if err then
            local msg = "failed to match the uri " .. uri .. " (" .. list[i] .. ")  : " .. err
            core.log.error(msg)
            return 500, {error_msg = msg}
        end
        if captures then
            local new_uri, _, sub_err = re_sub(uri, list[i], list[i + 1], "jo")
            if not new_uri then
                local msg = "failed to substitute the uri " .. uri .. " (" .. list[i] .. ") with "
                    .. list[i + 1] .. " : " .. tostring(sub_err)
                core.log.error(msg)
                return 500, {error_msg = msg}
            end
            uri = new_uri
            break
        end
    end
    ngx.req.set_uri(uri)
    if ctx.var.is_args == "?" then
        ctx.var.upstream_uri = uri .. "?" .. (ctx.var.args or "")
    else
        ctx.var.upstream_uri = uri
    end
end


return _M
