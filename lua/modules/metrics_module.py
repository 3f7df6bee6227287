"""`metrics`: counters, gauges and histograms (§4.17), recorded in :mod:`wippy.metrics`.

Every call returns ``true, nil`` (or ``nil, err`` for a bad name/labels or a counter
going down); a value that is not a number raises, as in the reference.
"""

from __future__ import annotations

from typing import Any

from wippy.lua.engine.convert import from_lua
from wippy.lua.modules import LuaModule
from wippy.metrics import MetricError, metrics_for

LUA = r"""
local py, rt = ...
local type, error, pairs = type, error, pairs
local M = {}
local function check(name, labels)
  if type(name) ~= "string" or name == "" then
    return "metric name must be a non-empty string"
  end
  if labels ~= nil and type(labels) ~= "table" then
    return "labels must be a table"
  end
  if labels ~= nil then
    for k, v in pairs(labels) do
      if type(k) ~= "string" then return "label names must be strings" end
      local tv = type(v)
      if tv ~= "string" and tv ~= "number" and tv ~= "boolean" then
        return "label values must be strings"
      end
    end
  end
  return nil
end
local function flat(labels)
  if labels == nil then return nil end
  local out = {}
  for k, v in pairs(labels) do out[k] = rt.tostring(v) end
  return out
end
local function call(op, name, value, labels)
  local bad = check(name, labels)
  if bad then return nil, rt.err("Invalid", bad) end
  local kind, message = py.record(op, name, value, flat(labels))
  if kind ~= nil then return nil, rt.err(kind, message) end
  return true, nil
end
local function number(v, fname)
  if type(v) ~= "number" then
    error(fname .. ": value must be a number, got " .. type(v), 3)
  end
  return v
end
function M.counter_inc(name, labels) return call("counter_add", name, 1, labels) end
function M.counter_add(name, value, labels)
  return call("counter_add", name, number(value, "counter_add"), labels)
end
function M.gauge_set(name, value, labels)
  return call("gauge_set", name, number(value, "gauge_set"), labels)
end
function M.gauge_inc(name, labels) return call("gauge_add", name, 1, labels) end
function M.gauge_dec(name, labels) return call("gauge_add", name, -1, labels) end
function M.gauge_add(name, value, labels)
  return call("gauge_add", name, number(value, "gauge_add"), labels)
end
function M.histogram(name, value, labels)
  return call("histogram", name, number(value, "histogram"), labels)
end
M.histogram_observe = M.histogram
return M
"""


def _python(shard: Any) -> dict[str, Any]:
    registry = metrics_for(getattr(getattr(shard, "node", None), "runtime", None))

    def record(op: bytes, name: bytes, value: float, labels: Any) -> tuple:
        label_map = from_lua(labels) if labels is not None else None
        try:
            getattr(registry, op.decode())(
                name.decode("utf-8", "surrogateescape"),
                value,
                label_map if isinstance(label_map, dict) else None,
            )
        except MetricError as exc:
            return exc.kind.encode(), exc.message.encode()
        return (None,)

    return {"record": record}


MODULE = LuaModule(name="metrics", lua=LUA, python=_python)
