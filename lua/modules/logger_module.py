"""`logger`: structured logs from Lua processes into the runtime's log.

Surface (spec §4.17, §0 C14): ``logger:debug|info|warn|error(message, fields?)``,
``logger:with(fields)`` and ``logger:named(name)`` returning child loggers. Methods need
the colon: a dot call (``logger.info("x")``) raises, as in the reference, instead of
logging something odd. A missing message raises; ``named("")`` raises; ``fields`` must
be a table (or nil) and may hold any values -- functions and other values that do not
cross process boundaries are dropped, error objects are logged as their message.

Every line carries the ``pid`` of the calling process and the ``location`` of the call,
``entry_id:line`` (the compiled chunk of an entry is named after the entry id and keeps
its line numbers). The location comes from ``debug.getinfo``: scripts have no ``debug``
library, so the module's Python half hands this trusted Lua source the real function of
the shard's state through ``py.getinfo``; it never reaches user code. When the caller
is not Lua code the location falls back to the running entry's id.

A child logger's fields are merged under the call's fields (the call wins); ``named``
appends to the logger's name with a dot (``a`` then ``b`` is ``a.b``), and the name
becomes the log component (``lua.a.b``). The fields cross to Python as one msgpack blob
(``rt.encode``) and go through the node's ``ProcessLog``, which formats them like the
runtime's own fields (``round complete  round=3 pid={app:processes|0x00004}``).
A debug call checks the level first, so disabled debug lines cost no encoding.
"""

from __future__ import annotations

from typing import Any

from wippy.logs import get_logger
from wippy.lua.modules import LuaModule
from wippy.node import decode

LUA = r"""
local py, rt = ...
local type, error, pairs, ipairs, next = type, error, pairs, ipairs, next
local getinfo, emit, enabled = py.getinfo, py.emit, py.enabled
local encode, current_entry = rt.encode, rt.current_entry

local STATE = {}   -- private key: the state of a logger table
local LEVELS = { "debug", "info", "warn", "error" }

local function where()
  -- 1 = where(), 2 = log(), 3 = the level method, 4 = its caller
  local info = getinfo and getinfo(4, "Sl")
  if info and info.what ~= "C" and info.currentline and info.currentline > 0 then
    return info.short_src .. ":" .. info.currentline
  end
  return current_entry() or ""
end

local function state_of(self, method, at)
  local st = type(self) == "table" and self[STATE] or nil
  if st == nil then
    error("logger." .. method .. ": call it with a colon (logger:" .. method .. "(...))", at)
  end
  return st
end

local function merged(base, extra)
  if extra == nil then return base end
  if base == nil then return extra end
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  for k, v in pairs(extra) do out[k] = v end
  return out
end

local function log(self, level, message, fields)
  -- error() levels as seen from log(): 2 = the level method, 3 = its caller
  local st = state_of(self, level, 4)
  if message == nil then
    error("logger." .. level .. ": a message is required", 3)
  end
  if type(message) ~= "string" then message = rt.tostring(message) end
  if fields ~= nil and type(fields) ~= "table" then
    error("logger." .. level .. ": fields must be a table, got " .. type(fields), 3)
  end
  if level == "debug" and not enabled(st.name, level) then return end
  local all = merged(st.fields, fields)
  local blob = nil
  if all ~= nil and next(all) ~= nil then blob = encode(all) end
  emit(rt.pid() or "", level, st.name, message, blob, where())
end

local new_logger

local methods = {}
for _, level in ipairs(LEVELS) do
  -- not a tail call: where() counts this frame
  methods[level] = function(self, message, fields) log(self, level, message, fields) end
end

function methods.with(self, fields)
  local st = state_of(self, "with", 3)
  if fields ~= nil and type(fields) ~= "table" then
    error("logger.with: fields must be a table, got " .. type(fields), 2)
  end
  local copy = nil
  if fields ~= nil then copy = merged({}, fields) end
  return rt.readonly(new_logger(st.name, merged(st.fields, copy)), "logger")
end

function methods.named(self, name)
  local st = state_of(self, "named", 3)
  if type(name) ~= "string" or name == "" then
    error("logger.named: the name must be a non-empty string", 2)
  end
  local full = st.name and (st.name .. "." .. name) or name
  return rt.readonly(new_logger(full, st.fields), "logger")
end

new_logger = function(name, fields)
  local t = { [STATE] = { name = name, fields = fields } }
  for k, f in pairs(methods) do t[k] = f end
  return t
end

return new_logger(nil, nil)
"""


def _python(shard: Any) -> dict[str, Any]:
    node = shard.node
    lua_globals = shard.runtime.globals()
    debug_lib = lua_globals[b"debug"]
    getinfo = debug_lib[b"getinfo"] if debug_lib is not None else None

    def emit(pid: bytes, level: bytes, name: bytes | None, message: bytes, blob: bytes | None,
             location: bytes) -> None:  # fmt: skip
        sink = node.log
        if sink is None:
            return
        fields = decode(blob) if blob is not None else None
        text = message.decode("utf-8", "surrogateescape")
        where = location.decode("utf-8", "surrogateescape")
        logger = name.decode("utf-8", "surrogateescape") if name is not None else None
        sink.lua(pid.decode(), level.decode(), text, fields, location=where, logger=logger)

    def enabled(name: bytes | None, level: bytes) -> bool:
        component = "lua" if name is None else "lua." + name.decode("utf-8", "surrogateescape")
        return get_logger(component).enabled(level.decode())

    funcs: dict[str, Any] = {"emit": emit, "enabled": enabled}
    if getinfo is not None:
        funcs["getinfo"] = getinfo
    return funcs


MODULE = LuaModule(name="logger", lua=LUA, python=_python)
