"""`ctx`: the context values of the running process or function (§4.8).

``ctx.get(key)`` -> ``value, err`` (``""`` is Invalid, an unknown key NotFound
"key not found: <key>"); ``ctx.all()`` -> a table of every value.

The values come from the engine through the hook ``rt.context()``: it returns the Lua
table of context values of the running process (set by ``funcs.new():with_context``,
``process.with_context`` and the HTTP/queue edges, inherited down the call chain), or
nil when there is none. Without the hook every process has an empty context. Values
handed out are copies, so a caller cannot change the context it was given.
"""

from __future__ import annotations

from wippy.lua.modules import LuaModule

LUA = r"""
local py, rt = ...
local type, pairs, next = type, pairs, next
local M = {}
local function current()
  local hook = rt.context
  if hook == nil then return nil end
  local c = hook()
  if type(c) ~= "table" then return nil end
  return c
end
local function copy(v, depth)
  if type(v) ~= "table" or depth > 64 then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x, depth + 1) end
  return out
end
function M.get(key)
  if type(key) ~= "string" then return nil, rt.err("Invalid", "context key must be a string") end
  if key == "" then return nil, rt.err("Invalid", "context key cannot be empty") end
  local c = current()
  local v = c and c[key]
  if v == nil then return nil, rt.err("NotFound", "key not found: " .. key) end
  return copy(v, 0), nil
end
function M.all()
  local c = current()
  if c == nil then return {} end
  return copy(c, 0)
end
return M
"""

MODULE = LuaModule(name="ctx", lua=LUA)
