"""`env`: read and write the project's registered environment variables (§4.16).

``env.get(key)`` -> ``value, err``; ``env.set(key, value)`` -> ``true, err``;
``env.get_all()`` -> ``table, err``. ``key`` is a variable's public name or entry ID.
The store behind it is :func:`wippy.envstore.env_store` of the node's runtime.
"""

from __future__ import annotations

from typing import Any

from wippy.envstore import EnvError, EnvStore, build_env, env_store
from wippy.lua.engine.convert import to_lua
from wippy.lua.modules import LuaModule

LUA = r"""
local py, rt = ...
local type = type
local M = {}
local function result(value, kind, message)
  if kind ~= nil then return nil, rt.err(kind, message) end
  return value, nil
end
function M.get(key)
  if type(key) ~= "string" then return nil, rt.err("Invalid", "variable name must be a string") end
  return result(py.get(key))
end
function M.set(key, value)
  if type(key) ~= "string" then return nil, rt.err("Invalid", "variable name must be a string") end
  local tv = type(value)
  if tv == "number" or tv == "boolean" then
    value = rt.tostring(value)
  elseif tv ~= "string" then
    return nil, rt.err("Invalid", "value must be a string")
  end
  return result(py.set(key, value))
end
function M.get_all()
  return result(py.get_all())
end
return M
"""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def _store(shard: Any) -> EnvStore:
    node = getattr(shard, "node", None)
    runtime = getattr(node, "runtime", None)
    if runtime is None:
        return build_env([])
    return env_store(runtime)


def _python(shard: Any) -> dict[str, Any]:
    def fail(exc: EnvError) -> tuple[None, bytes, bytes]:
        return None, exc.kind.encode(), exc.message.encode("utf-8", "surrogateescape")

    def get(key: bytes) -> tuple:
        try:
            return (_store(shard).get(_text(key)).encode("utf-8", "surrogateescape"),)
        except EnvError as exc:
            return fail(exc)

    def set_(key: bytes, value: bytes) -> tuple:
        try:
            _store(shard).set(_text(key), _text(value))
        except EnvError as exc:
            return fail(exc)
        return (True,)

    def get_all() -> tuple:
        try:
            return (to_lua(shard.runtime, _store(shard).get_all()),)
        except EnvError as exc:
            return fail(exc)

    return {"get": get, "set": set_, "get_all": get_all}


MODULE = LuaModule(name="env", lua=LUA, python=_python)
