-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- Secret references in plugin confs: only `$env://NAME` (and `$env://NAME/field` for a JSON value) are resolved,
-- from the nginx process environment (the launcher's `env` option adds `env NAME;` directives). `$secret://` refs
-- (vault, AWS, GCP managers) are reported unresolved.
-- contract: apisix-ai-contract.md §2.6 (secret references `$secret://`, `$env://` resolved per request)
local cjson = require("cjson.safe")
local os_getenv = os.getenv
local type = type
local pairs = pairs
local sub = string.sub
local find = string.find

local _M = {}

local ENV_PREFIX = "$env://"
local SECRET_PREFIX = "$secret://"


local function is_secret_ref(value)
    return type(value) == "string" and (sub(value, 1, #ENV_PREFIX) == ENV_PREFIX
        or sub(value, 1, #SECRET_PREFIX) == SECRET_PREFIX)
end
_M.is_secret_ref = is_secret_ref


function _M.has_secret_ref(conf)
    if type(conf) ~= "table" then
        return is_secret_ref(conf)
    end
    for _, v in pairs(conf) do
        if _M.has_secret_ref(v) then
            return true
        end
    end
    return false
end


local function resolve(value)
    if sub(value, 1, #ENV_PREFIX) ~= ENV_PREFIX then
        return nil
    end
    local rest = sub(value, #ENV_PREFIX + 1)
    local slash = find(rest, "/", 1, true)
    if not slash then
        return os_getenv(rest)
    end
    local raw = os_getenv(sub(rest, 1, slash - 1))
    if not raw then
        return nil
    end
    local obj = cjson.decode(raw)
    if type(obj) ~= "table" then
        return nil
    end
    local field = obj[sub(rest, slash + 1)]
    if type(field) ~= "string" then
        return nil
    end
    return field
end


-- A copy of conf with every resolvable reference replaced; unresolvable references are left as they are.
local function fetch(conf)
    local out = {}
    for k, v in pairs(conf) do
        if type(v) == "table" then
            out[k] = fetch(v)
        elseif is_secret_ref(v) then
            out[k] = resolve(v) or v
        else
            out[k] = v
        end
    end
    return setmetatable(out, getmetatable(conf))
end


function _M.fetch_secrets(conf)
    if type(conf) ~= "table" then
        return conf
    end
    return fetch(conf)
end


return _M
