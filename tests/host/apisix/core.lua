-- TEST CODE: part of the Spillway APISIX 3.18.0 stand-in (tests/host), never shipped or loaded in production.
-- apisix.core: the subset of APISIX 3.18.0's core that Spillway's plugins call, one submodule per concern.
-- contract: apisix-runtime-notes.md §11 (core APIs commonly used by plugins)
local new_tab = require("table.new")

-- APISIX pools tables with lua-tablepool; the stand-in just allocates (same observable behaviour).
local tablepool = {
    fetch = function(_, narr, nrec) return new_tab(narr or 0, nrec or 0) end,
    release = function() end,
}

return {
    version = {VERSION = "3.18.0"},
    log = require("apisix.core.log"),
    json = require("apisix.core.json"),
    table = require("apisix.core.table"),
    string = require("apisix.core.string"),
    request = require("apisix.core.request"),
    response = require("apisix.core.response"),
    lrucache = require("apisix.core.lrucache"),
    schema = require("apisix.core.schema"),
    ctx = require("apisix.core.ctx"),
    config = require("apisix.core.config"),
    tablepool = tablepool,
    empty_tab = {},
}
