"""A stub engine for testing module Lua sources in isolation.

It provides a lupa runtime configured like a shard (``encoding=None``) and a stub ``rt``:
error objects, ``tostring`` with integral floats printed without ``.0``, a virtual clock
(``now_ns``/``mono_ns``) that only ``sleep`` and blocking receives advance, simulated
timers and channels. A blocking ``receive`` on an empty channel advances the virtual clock
to the next timer fire, so timer tests run instantly and deterministically.
"""

from __future__ import annotations

import time
from typing import Any

import lupa.lua54 as lupa

from wippy.lua.engine.convert import to_lua
from wippy.lua.modules import LuaModule

STUB_RT = r"""
local clock = ...
local rt = {}

local Err = {}
Err.__index = Err
function Err:kind() return self._kind end
function Err:message() return self._msg end
function Err:retryable() return false end
Err.__tostring = function(e) return e._msg end
function rt.err(kind, msg) return setmetatable({ _kind = kind, _msg = msg }, Err) end

function rt.tostring(v)
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 1e15 then
        return string.format("%d", v)
    end
    return tostring(v)
end
function rt.readonly(t) return t end

-- virtual clock
local virt = 0
function rt.now_ns() return clock.base + virt end
function rt.mono_ns() return virt end

-- channels
local Chan = {}
Chan.__index = Chan
local timers = {}

local function next_timer()
    local best
    for t in pairs(timers) do
        if best == nil or t.at < best.at then best = t end
    end
    return best
end

local function fire(t)
    virt = math.max(virt, t.at)
    local v = t.make(clock.base + virt)
    local ch = t.channel
    if #ch.buf < ch.size then ch.buf[#ch.buf + 1] = v end
    if t.period > 0 then
        t.at = t.at + t.period
    else
        timers[t] = nil
        ch:close()
    end
end

local function advance_to(target)
    while true do
        local t = next_timer()
        if t == nil or t.at > target then break end
        fire(t)
    end
    if target > virt then virt = target end
end

function rt.new_channel(size) return setmetatable({ buf = {}, size = size or 0, closed = false }, Chan) end
function Chan:send(v) self.buf[#self.buf + 1] = v return true end
function Chan:close() self.closed = true end
function Chan:try_receive()
    if #self.buf > 0 then return table.remove(self.buf, 1), true end
    if self.closed then return nil, false end
    return nil, nil
end
function Chan:receive()
    while true do
        local v, ok = self:try_receive()
        if ok ~= nil then return v, ok end
        local t = next_timer()
        if t == nil then error("deadlock: receive on a channel nothing will fill") end
        fire(t)
    end
end
function Chan:case_receive() return { channel = self } end

-- select over receive cases (first ready in order), blocking by advancing the clock
function rt.select(cases)
    while true do
        for _, c in ipairs(cases) do
            local v, ok = c.channel:try_receive()
            if ok ~= nil then return { channel = c.channel, value = v, ok = ok } end
        end
        if cases.default then return { default = true } end
        local t = next_timer()
        if t == nil then error("deadlock in select") end
        fire(t)
    end
end

function rt.sleep(ns)
    if ns <= 0 then return end
    advance_to(virt + ns)
end

function rt.new_timer(ns, period, make)
    local t = { at = virt + ns, period = period, make = make, channel = rt.new_channel(1) }
    timers[t] = true
    local h = { channel = t.channel }
    function h:stop()
        local active = timers[t] ~= nil
        timers[t] = nil
        if period == 0 then t.channel:close() end
        return active
    end
    function h:reset(d)
        local active = timers[t] ~= nil
        t.at = virt + d
        timers[t] = true
        return active
    end
    return h
end

function rt.pending_timers()
    local n = 0
    for _ in pairs(timers) do n = n + 1 end
    return n
end

return rt
"""


class Harness:
    """A Lua runtime with the stub ``rt`` and any number of loaded modules."""

    def __init__(self) -> None:
        self.lua = lupa.LuaRuntime(encoding=None, unpack_returned_tuples=True)
        clock = self.lua.table()
        clock[b"base"] = time.time_ns()
        self.rt = self.lua.execute(STUB_RT, clock)
        self.lua.globals()[b"rt"] = self.rt
        self.modules: dict[str, Any] = {}

    def load(self, spec: LuaModule) -> Any:
        py = to_lua(self.lua, spec.python(self)) if spec.python else self.lua.table()
        table = self.lua.execute(spec.lua, py, self.rt)
        self.modules[spec.name] = table
        self.lua.globals()[spec.name.encode()] = table
        return table

    def run(self, code: str, *args: Any) -> Any:
        """Execute a Lua chunk (modules are globals by name) and return its results."""
        return self.lua.execute(code, *args)


def load(*specs: LuaModule) -> Harness:
    h = Harness()
    for s in specs:
        h.load(s)
    return h


CONFORMANCE_ENV = r"""
local rt, modules = ...
local out = {}
local function join(...)
    local n = select("#", ...)
    local parts = {}
    for i = 1, n do parts[i] = rt.tostring((select(i, ...))) end
    return table.concat(parts, "\t")
end
local io_mod = {
    print = function(...) out[#out + 1] = join(...) .. "\n" end,
    write = function(...) out[#out + 1] = table.concat({ ... }) end,
}
modules.io = io_mod
io = io_mod
errors = {
    NOT_FOUND = "NotFound", ALREADY_EXISTS = "AlreadyExists", INVALID = "Invalid",
    PERMISSION_DENIED = "PermissionDenied", UNAVAILABLE = "Unavailable", INTERNAL = "Internal",
    CANCELED = "Canceled", CONFLICT = "Conflict", TIMEOUT = "Timeout", RATE_LIMITED = "RateLimited",
}
channel = { select = rt.select, new = function(n) return rt.new_channel(n or 0) end }
os.time = function() return rt.now_ns() // 1000000000 end
require = function(name)
    local m = modules[name]
    if m == nil then error("module not found: " .. name) end
    return m
end
return function() return table.concat(out) end
"""


def run_script(h: Harness, source: str) -> str:
    """Run a conformance-style script (returns ``{main = fn}``) and return its stdout."""
    modules = h.lua.table()
    for name, table in h.modules.items():
        modules[name.encode()] = table
    collect = h.lua.execute(CONFORMANCE_ENV, h.rt, modules)
    script = h.lua.execute(source)
    script[b"main"]()
    return collect().decode("utf-8")
