-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- core.config: the standalone (yaml) provider's surface that plugins read: local_conf() is config.yaml.
-- contract: apisix-runtime-notes.md §8 (standalone mode: config_provider yaml) and §9 (config.yaml keys)
local state = require("standin.state")

local _M = {type = "yaml"}


function _M.local_conf()
    return state.local_conf
end


return _M
