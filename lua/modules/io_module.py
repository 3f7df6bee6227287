"""`io`: the terminal module (stdin, stdout, stderr and the command-line arguments).

Only processes on a ``terminal.host`` reach the terminal; anywhere else every call
returns ``nil, err`` with kind Unavailable, as the reference does.
"""

from __future__ import annotations

import sys
from typing import Any

from wippy.lua.engine.convert import to_lua
from wippy.lua.modules import LuaModule

LUA = r"""
local py, rt = ...
local select, type = select, type
local tostr = rt.tostring
local M = {}
local function unavailable()
  return nil, rt.err("Unavailable", "io is only available on a terminal host")
end
local function join(sep, ...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostr((select(i, ...))) end
  return table.concat(parts, sep)
end
function M.write(...)
  if not py.terminal then return unavailable() end
  py.out(join("", ...))
  return true
end
function M.print(...)
  if not py.terminal then return unavailable() end
  py.out(join("\t", ...) .. "\n")
  return true
end
function M.eprint(...)
  if not py.terminal then return unavailable() end
  py.err(join("\t", ...) .. "\n")
  return true
end
function M.flush()
  if not py.terminal then return unavailable() end
  py.flush()
  return true
end
function M.readline()
  if not py.terminal then return unavailable() end
  local line = py.readline()
  if line == nil then return nil, nil end
  return line
end
function M.read(n)
  if not py.terminal then return unavailable() end
  return py.read(n or 1024)
end
function M.raw(enable)
  if not py.terminal then return unavailable() end
  return true
end
function M.args()
  if not py.terminal then return unavailable() end
  return py.args()
end
return M
"""


def _python(shard: Any) -> dict[str, Any]:
    terminal = getattr(shard.scheduler, "terminal", False)
    out = sys.stdout.buffer
    err = sys.stderr.buffer

    def write_out(data: bytes) -> None:
        out.write(data)

    def write_err(data: bytes) -> None:
        out.flush()
        err.write(data)
        err.flush()

    def flush() -> None:
        out.flush()

    def readline() -> bytes | None:
        out.flush()
        line = sys.stdin.buffer.readline()
        if not line:
            return None
        return line.rstrip(b"\r\n")

    def read(n: int) -> bytes | None:
        out.flush()
        data = sys.stdin.buffer.read1(int(n)) if hasattr(sys.stdin.buffer, "read1") else sys.stdin.buffer.read(int(n))
        return data or None

    def args() -> Any:
        return to_lua(shard.runtime, list(shard.node.terminal_args))

    return {
        "terminal": terminal,
        "out": write_out,
        "err": write_err,
        "flush": flush,
        "readline": readline,
        "read": read,
        "args": args,
    }


MODULE = LuaModule(name="io", lua=LUA, python=_python)
