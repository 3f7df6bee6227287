from __future__ import annotations

import lupa.lua54 as lupa

from wippy.lua.modules.ctx_module import MODULE

RT = r"""
local Err = {}
Err.__index = Err
function Err:kind() return self.k end
function Err:message() return self.m end
local rt = {}
function rt.err(kind, msg) return setmetatable({ k = kind, m = msg }, Err) end
return rt
"""

SCRIPT = r"""
local ctx, rt = ...
local out = {}
local v, e = ctx.get("missing")
out[#out + 1] = tostring(v) .. " " .. e:kind() .. " " .. e:message()
local _, e2 = ctx.get("")
out[#out + 1] = e2:kind()
local n = 0
for _ in pairs(ctx.all()) do n = n + 1 end
out[#out + 1] = "empty all " .. n
rt.context = function() return { user = "ann", limits = { max = 5 }, on = false } end
out[#out + 1] = ctx.get("user") .. " " .. ctx.get("limits").max .. " " .. tostring(ctx.get("on"))
local copy = ctx.get("limits")
copy.max = 9
out[#out + 1] = "all " .. ctx.all().user .. " " .. ctx.all().limits.max
return table.concat(out, "\n")
"""


def test_ctx_reads_the_rt_context_hook() -> None:
    lua = lupa.LuaRuntime(encoding=None, unpack_returned_tuples=True)
    rt = lua.execute(RT)
    ctx = lua.execute(MODULE.lua, lua.table(), rt)
    out = lua.execute(SCRIPT, ctx, rt).decode()
    assert out.split("\n") == [
        "nil NotFound key not found: missing",
        "Invalid",
        "empty all 0",
        "ann 5 false",
        "all ann 5",
    ]
