"""Run compiled chunks under lupa the way the engine will (test helper)."""

from __future__ import annotations

from pathlib import Path

import lupa.lua54 as lupa54

import wippy.lua
from wippy.lua.compiler import compile_source

TYPES_LUA = Path(wippy.lua.__file__).parent / "engine" / "types.lua"
FORLOOP_LUA = Path(wippy.lua.__file__).parent / "engine" / "forloop.lua"

# Stand-ins for what the engine provides: __wtype from types.lua, a `type` that knows type
# values, builtin type values and a __wcat that prints integral floats without ".0".
PRELUDE = r"""
local types = ...
__wtype = types.wtype
type = types.type
for name, t in pairs(types.builtins) do
    if name ~= "string" and name ~= "table" and name ~= "nil" and name ~= "function" then
        _G[name] = t
    end
end
setmetatable(string, {__call = function(_, v) return types.builtins.string(v) end})
typeof = types.typeof
__wpre = function() return 1000 end
string_t = types.builtins.string
local mt, floor, fmt = math.type, math.floor, string.format
local function num(v)
    if mt(v) == "float" and v == floor(v) and v > -1e15 and v < 1e15 then
        return fmt("%d", v)
    end
    return v
end
__wcat = function(...)
    local n = select("#", ...)
    local acc = num((select(n, ...)))
    for i = n - 1, 1, -1 do
        acc = num((select(i, ...))) .. acc
    end
    return acc
end
"""

LOADER = r"""
function(code, name)
    local f, err = load("return function(_ENV, ...) " .. code .. "\nend", "=" .. name)
    if not f then error(err, 0) end
    return f()
end
"""


class LuaRunner:
    """One Lua state with the engine stand-ins; ``run`` compiles and calls a chunk."""

    def __init__(self) -> None:
        self.rt = lupa54.LuaRuntime(unpack_returned_tuples=True)
        types = self.rt.execute(TYPES_LUA.read_text())
        self.rt.execute(PRELUDE, types)
        g = self.rt.globals()
        g["__wfor"] = self.rt.execute(FORLOOP_LUA.read_text(), g["__wpre"])
        g["__wm"] = self.rt.eval("math.type")
        self._load = self.rt.eval(LOADER)
        self._env = self.rt.eval("function() return setmetatable({}, {__index = _G}) end")

    def load(self, code: str, name: str = "t"):
        """Load already compiled code inside the engine's wrapper (raises LuaError)."""
        return self._load(code, name)

    def run(self, source: str, name: str = "t", *args):
        fn = self.load(compile_source(source, name).code, name)
        return fn(self._env(), *args)

    def table_to_py(self, value):
        if lupa54.lua_type(value) != "table":
            return value
        return {k: self.table_to_py(v) for k, v in value.items()}
