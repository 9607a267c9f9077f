-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.log: level methods over ngx.log that are no-ops below the error_log level, plus delay_exec.
-- contract: apisix-runtime-notes.md §11 (core.log.{emerg..debug}, a no-op below the configured level)
local ngx = ngx
local ngx_log = ngx.log
local get_phase = ngx.get_phase
local setmetatable = setmetatable
local select = select
local unpack = unpack

local LEVELS = {
    stderr = ngx.STDERR,
    emerg = ngx.EMERG,
    alert = ngx.ALERT,
    crit = ngx.CRIT,
    error = ngx.ERR,
    warn = ngx.WARN,
    notice = ngx.NOTICE,
    info = ngx.INFO,
    debug = ngx.DEBUG,
}

local _M = {version = 0.4}

local cur_level

-- nginx filters by the error_log level in C, but formatting the arguments is already done by then; like APISIX,
-- skip the call entirely below the level. In init (master) the errlog filter is not readable yet: assume notice.
local function current_level()
    if cur_level then
        return cur_level
    end
    if get_phase() == "init" then
        return ngx.NOTICE
    end
    local ok, errlog = pcall(require, "ngx.errlog")
    if ok then
        cur_level = errlog.get_sys_filter_level()
    else
        cur_level = ngx.DEBUG
    end
    return cur_level
end

local function noop() end

setmetatable(_M, {__index = function(self, name)
    local level = LEVELS[name]
    if not level then
        return nil
    end
    if level > current_level() then
        return noop
    end
    -- A tail call keeps the caller's file:line in the log prefix, as APISIX's wrapper does.
    return function(...)
        return ngx_log(level, ...)
    end
end})


local delayed_mt = {
    __tostring = function(self)
        return self.fn(unpack(self.args, 1, self.n))
    end,
}

-- Runs fn only if the line is actually written (its result is tostring'ed by ngx.log).
function _M.delay_exec(fn, ...)
    return setmetatable({fn = fn, args = {...}, n = select("#", ...)}, delayed_mt)
end


return _M
