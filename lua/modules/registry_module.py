"""`registry`: the versioned entry registry as Lua sees it (spec §4.10, C12).

Reads (``get``, ``find``, snapshots, versions, history) run synchronously on the shard's
worker thread: the registry publishes immutable states, so reading needs no lock. Writes
(``changes:apply()``, ``apply_version``) suspend the calling task on an external command
(``rt.yield``) whose handler runs the apply on trio through ``Runtime.trio_command``; the
task resumes with ``version, nil`` or ``nil, err`` once the listeners accepted (or one of
them rejected and everything was rolled back).

Lua objects:

* entries are plain tables ``{id, kind, meta, data}``;
* ``Version``: ``:id()``, ``:string()`` ("v<N>"), ``:previous()``, ``:next()``;
* ``Snapshot``: ``:entries()``, ``:get(id)``, ``:find(filter)``, ``:namespace(ns)``,
  ``:version()``, ``:changes()`` (the Python snapshot object is kept in a weak table
  the script cannot reach);
* ``Changes``: ``:create(e)``, ``:update(e)``, ``:delete(id | {ns, name} | entry)`` (each
  returns the builder), ``:ops()``, ``:apply()``;
* ``History``: ``:versions()``, ``:get_version(n)``, ``:snapshot_at(version | n)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wippy.entry import Entry, split_id
from wippy.lua.engine.convert import from_lua, to_lua
from wippy.lua.modules import LuaModule
from wippy.node import WippyError
from wippy.registry import ChangeSet, Op, OpKind, RegistryError, Version

LUA = r"""
local py, rt = ...
local type, pairs, ipairs, setmetatable, tostring, select = type, pairs, ipairs, setmetatable, tostring, select
local string_find, string_sub = string.find, string.sub

local M = {}

local RETRYABLE = { Timeout = true, Unavailable = true, RateLimited = true }
local function mkerr(kind, message)
  kind = kind or ""
  return errors.new({ kind = kind, message = message or "", retryable = RETRYABLE[kind] or false })
end
-- an error object from Python (kind/message as strings) or from a completed command
local function fix(err)
  if rt.is_error(err) then return mkerr(err:kind(), err:message()) end
  if err == nil then return mkerr("Internal", "unknown error") end
  return mkerr("Internal", tostring(err))
end

---------------------------------------------------------------- versions

local VER = {}
VER.__index = VER
VER.__name = "registry.Version"
VER.__tostring = function(v) return "v" .. tostring(v._id) end
VER.__eq = function(a, b) return a._id == b._id end
VER.__lt = function(a, b) return a._id < b._id end
VER.__le = function(a, b) return a._id <= b._id end

local function version(id, parent)
  if id == nil then return nil end
  return setmetatable({ _id = id, _parent = parent }, VER)
end
local function version_of(t)
  if t == nil then return nil end
  return version(t.id, t.parent)
end
function VER:id() return self._id end
function VER:string() return "v" .. tostring(self._id) end
function VER:previous()
  if self._parent == nil then return nil end
  local id, parent = py.get_version(self._parent)
  if id == nil then return nil end
  return version(id, parent)
end
function VER:next()
  local id, parent = py.next_version(self._id)
  if id == nil then return nil end
  return version(id, parent)
end

local function version_id(v)
  if type(v) == "table" and getmetatable(v) == VER then return v._id end
  if type(v) == "number" then return v end
  return nil
end

local function version_list(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = version(t.id, t.parent) end
  return out
end

---------------------------------------------------------------- ids

local function norm_id(id)
  if type(id) == "string" then return id end
  if type(id) == "table" then
    local ns, name = id.ns, id.name
    if type(name) == "string" and name ~= "" then
      if type(ns) ~= "string" or ns == "" then return name end
      return ns .. ":" .. name
    end
    if type(id.id) == "string" then return id.id end
  end
  return nil
end

function M.parse_id(id)
  if type(id) ~= "string" then return nil, mkerr("Invalid", "id must be a string") end
  local i = string_find(id, ":", 1, true)
  if i == nil then return { ns = "", name = id } end
  return { ns = string_sub(id, 1, i - 1), name = string_sub(id, i + 1) }
end

---------------------------------------------------------------- reads

local function result(v, kind, msg)
  if v == nil and kind ~= nil then return nil, mkerr(kind, msg) end
  return v
end

function M.get(id)
  local eid = norm_id(id)
  if eid == nil then return nil, mkerr("Invalid", "entry id must be a string or {ns, name}") end
  return result(py.get(nil, eid))
end

function M.find(filter)
  if filter ~= nil and type(filter) ~= "table" then
    return nil, mkerr("Invalid", "filter must be a table")
  end
  return result(py.find(nil, filter))
end

local SNAP = {}
SNAP.__index = SNAP
SNAP.__name = "registry.Snapshot"
local hidden = setmetatable({}, { __mode = "k" }) -- snapshot table -> Python snapshot

local function snapshot(pysnap)
  local s = setmetatable({}, SNAP)
  hidden[s] = pysnap
  return s
end

local function snap_of(self)
  local s = hidden[self]
  if s == nil then error("registry snapshot method called without a snapshot (use snap:method())", 3) end
  return s
end

function SNAP:entries() return result(py.entries(snap_of(self))) end
function SNAP:get(id)
  local eid = norm_id(id)
  if eid == nil then return nil, mkerr("Invalid", "entry id must be a string or {ns, name}") end
  return result(py.get(snap_of(self), eid))
end
function SNAP:find(filter)
  if filter ~= nil and type(filter) ~= "table" then
    return nil, mkerr("Invalid", "filter must be a table")
  end
  return result(py.find(snap_of(self), filter))
end
function SNAP:namespace(ns)
  if type(ns) ~= "string" then return nil, mkerr("Invalid", "namespace must be a string") end
  return result(py.namespace(snap_of(self), ns))
end
function SNAP:version()
  return version(py.snapshot_version(snap_of(self)))
end

function M.snapshot()
  return snapshot(py.snapshot())
end

function M.snapshot_at(v)
  local id = version_id(v)
  if id == nil then return nil, mkerr("Invalid", "invalid version ID") end
  local s, kind, msg = py.snapshot_at(id)
  if s == nil then return nil, mkerr(kind, msg) end
  return snapshot(s)
end

function M.current_version()
  return version(py.current_version())
end

function M.versions()
  return version_list(py.versions())
end

local function get_version(v)
  local id = version_id(v)
  if id == nil then return nil, mkerr("Invalid", "invalid version ID") end
  local vid, parent, msg = py.get_version(id)
  if vid == nil then return nil, mkerr(parent, msg) end
  return version(vid, parent)
end

local HIST = {}
HIST.__index = HIST
HIST.__name = "registry.History"
function HIST:versions() return M.versions() end
function HIST:get_version(v) return get_version(v) end
function HIST:snapshot_at(v) return M.snapshot_at(v) end

function M.history()
  return setmetatable({}, HIST)
end

---------------------------------------------------------------- changes

local CH = {}
CH.__index = CH
CH.__name = "registry.Changes"

local function entry_table(e, op)
  if type(e) ~= "table" then
    return nil, mkerr("Invalid", op .. ": entry must be a table")
  end
  local eid = norm_id(e.id)
  if eid == nil or eid == "" then
    return nil, mkerr("Invalid", op .. ": entry id is required")
  end
  return { id = eid, kind = e.kind, meta = e.meta, data = e.data }
end

local function push(self, kind, e)
  local ops = self._ops
  ops[#ops + 1] = { kind = kind, entry = e }
  return self
end

function CH:create(e)
  local t, err = entry_table(e, "create")
  if t == nil then return nil, err end
  return push(self, "entry.create", t)
end

function CH:update(e)
  local t, err = entry_table(e, "update")
  if t == nil then return nil, err end
  return push(self, "entry.update", t)
end

function CH:delete(id)
  local eid = norm_id(id)
  if eid == nil or eid == "" then return nil, mkerr("Invalid", "delete: entry id is required") end
  return push(self, "entry.delete", { id = eid })
end

function CH:ops()
  local out = {}
  for i, op in ipairs(self._ops) do out[i] = { kind = op.kind, entry = op.entry } end
  return out
end

function CH:apply()
  if #self._ops == 0 then return nil, mkerr("Invalid", "no changes to apply") end
  local v, err = rt.yield("registry.apply", self._ops)
  if v == nil then return nil, fix(err) end
  return version_of(v)
end

local function new_changes()
  return setmetatable({ _ops = {} }, CH)
end

function SNAP:changes()
  return new_changes()
end
M.changes = new_changes

function M.apply_version(v)
  local id = version_id(v)
  if id == nil then return nil, mkerr("Invalid", "invalid version ID") end
  local r, err = rt.yield("registry.apply_version", id)
  if r == nil then return nil, fix(err) end
  return version_of(r)
end

function M.build_delta(from, to)
  if type(from) ~= "table" or type(to) ~= "table" then
    return nil, mkerr("Invalid", "build_delta requires two lists of entries")
  end
  return result(py.build_delta(from, to))
end

return M
"""


def _b(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def entry_dict(entry: Entry) -> dict[str, Any]:
    """An entry as the plain data Lua receives: exactly ``{id, kind, meta, data}``."""
    meta = entry.meta if entry.meta is not None else {}
    data = entry.data if entry.data is not None else {}
    return {"id": entry.id, "kind": entry.kind, "meta": meta, "data": data}


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, str):
        return value
    return None


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        name = value.get("name")
        ns = value.get("ns")
        if isinstance(name, str) and name:
            return f"{ns}:{name}" if isinstance(ns, str) and ns else name
        inner = value.get("id")
        if isinstance(inner, str):
            return inner
    return None


def _clean(value: Any, depth: int = 0) -> Any:
    """Plain data only: Lua functions, coroutines and userdata left by ``from_lua`` are dropped."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if depth > 200:
        raise WippyError("Invalid", "entry nested too deeply")
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            cv = _clean(v, depth + 1)
            if cv is not None:
                out[k] = cv
        return out
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return None


def entry_from(value: Any) -> Entry:
    """An entry table (already converted by ``from_lua``) as an :class:`Entry`."""
    if not isinstance(value, dict):
        raise WippyError("Invalid", "entry must be a table")
    eid = _id_of(value.get("id"))
    if not eid:
        raise WippyError("Invalid", "entry id is required")
    kind = value.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise WippyError("Invalid", f"entry {eid}: kind must be a string")
    meta = value.get("meta")
    if meta is None or meta == []:
        meta = {}
    if not isinstance(meta, dict):
        raise WippyError("Invalid", f"entry {eid}: meta must be a table")
    data = _clean(value.get("data"))
    if data is None:
        data = {}
    return Entry(eid, kind or "", _clean(meta), data)


_OP_KINDS = {k.value: k for k in OpKind}


def changeset_from(ops: Any) -> ChangeSet:
    if isinstance(ops, dict) and not ops:
        ops = []
    if not isinstance(ops, list):
        raise WippyError("Invalid", "changes must be a list of operations")
    cs = ChangeSet()
    for op in ops:
        if not isinstance(op, dict):
            raise WippyError("Invalid", "operation must be a table")
        kind = _OP_KINDS.get(op.get("kind"))  # type: ignore[arg-type]
        if kind is None:
            raise WippyError("Invalid", f"unknown operation kind {op.get('kind')!r}")
        raw = op.get("entry")
        if kind is OpKind.DELETE:
            eid = _id_of(raw.get("id") if isinstance(raw, dict) else raw)
            if not eid:
                raise WippyError("Invalid", "delete: entry id is required")
            cs.delete(eid)
        else:
            cs.add(Op(kind, entry_from(raw)))
    return cs


def _version_dict(v: Version) -> dict[str, Any]:
    return {"id": v.id, "parent": v.parent}


def _version_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc)


def _registry_of(shard: Any) -> Any:
    runtime = getattr(shard.node, "runtime", None)
    return getattr(runtime, "registry", None)


# ---------------------------------------------------------------------- commands (trio)


def _cmd_apply(shard: Any, pid: str, tag: int, ops: Any) -> tuple:
    runtime = shard.node.runtime
    try:
        cs = changeset_from(from_lua(ops))
    except WippyError as exc:
        return True, None, shard.lua.new_error(_b(exc.kind), _b(exc.message))

    async def apply() -> dict[str, Any]:
        return _version_dict(await runtime.registry.apply(cs))

    return runtime.trio_command(pid, tag, apply)


def _cmd_apply_version(shard: Any, pid: str, tag: int, vid: Any) -> tuple:
    runtime = shard.node.runtime
    target = _version_id(vid)
    if target is None:
        return True, None, shard.lua.new_error(b"Invalid", b"invalid version ID")

    async def apply() -> dict[str, Any]:
        return _version_dict(await runtime.registry.apply_version(target))

    return runtime.trio_command(pid, tag, apply)


# ---------------------------------------------------------------------- reads (worker thread)


def _python(shard: Any) -> dict[str, Callable[..., Any]]:
    node = shard.node
    node.commands.setdefault("registry.apply", _cmd_apply)
    node.commands.setdefault("registry.apply_version", _cmd_apply_version)
    lua = shard.runtime

    def reg() -> Any:
        registry = _registry_of(shard)
        if registry is None:
            raise WippyError("Unavailable", "registry is not available")
        return registry

    def failure(exc: BaseException) -> tuple:
        kind = getattr(exc, "kind", None) or "Internal"
        return None, _b(kind), _b(_message(exc))

    def entries_lua(entries: list[Entry]) -> Any:
        return to_lua(lua, [entry_dict(e) for e in entries])

    def get(snap: Any, eid: bytes) -> Any:
        try:
            source = snap if snap is not None else reg()
            entry_id = _text(eid) or ""
            entry = source.get(entry_id)
        except (WippyError, RegistryError) as exc:
            return failure(exc)
        if entry is None:
            return None, b"NotFound", _b(f"entry not found: {entry_id}")
        return to_lua(lua, entry_dict(entry))

    def find(snap: Any, filt: Any) -> Any:
        try:
            source = snap if snap is not None else reg()
            filters = from_lua(filt) if filt is not None else None
            if isinstance(filters, list):
                filters = dict(enumerate(filters, 1))
            return entries_lua(source.find(filters))
        except (WippyError, RegistryError) as exc:
            return failure(exc)
        except Exception as exc:  # a bad filter (regex...) is the caller's error
            return None, b"Invalid", _b(str(exc))

    def entries(snap: Any) -> Any:
        return entries_lua(snap.entries())

    def namespace(snap: Any, ns: bytes) -> Any:
        return entries_lua(snap.namespace(_text(ns) or ""))

    def snapshot() -> Any:
        return reg().snapshot()

    def snapshot_version(snap: Any) -> tuple:
        v = snap.version()
        return v.id, v.parent

    def snapshot_at(vid: Any) -> Any:
        target = _version_id(vid)
        if target is None:
            return None, b"Invalid", b"invalid version ID"
        try:
            return reg().snapshot_at(target)
        except (WippyError, RegistryError) as exc:
            return failure(exc)

    def current_version() -> tuple:
        v = reg().current_version()
        return v.id, v.parent

    def versions() -> Any:
        return to_lua(lua, [_version_dict(v) for v in reg().versions()])

    def get_version(vid: Any) -> tuple:
        target = _version_id(vid)
        if target is None:
            return None, b"Invalid", b"invalid version ID"
        try:
            v = reg().get_version(target)
        except (WippyError, RegistryError) as exc:
            return failure(exc)
        return v.id, v.parent

    def next_version(vid: Any) -> tuple:
        target = _version_id(vid)
        if target is None:
            return (None,)
        registry = reg()
        try:
            current = registry.get_version(target)
        except (WippyError, RegistryError):
            return (None,)
        nxt = registry.next(current)
        if nxt is None:
            return (None,)
        return nxt.id, nxt.parent

    def build_delta(old: Any, new: Any) -> Any:
        try:
            old_list = [entry_from(e) for e in _as_list(from_lua(old))]
            new_list = [entry_from(e) for e in _as_list(from_lua(new))]
            ops = reg().build_delta(old_list, new_list)
        except (WippyError, RegistryError) as exc:
            return failure(exc)
        return to_lua(lua, [{"kind": op.kind.value, "entry": entry_dict(op.entry)} for op in ops])

    return {
        "get": get,
        "find": find,
        "entries": entries,
        "namespace": namespace,
        "snapshot": snapshot,
        "snapshot_version": snapshot_version,
        "snapshot_at": snapshot_at,
        "current_version": current_version,
        "versions": versions,
        "get_version": get_version,
        "next_version": next_version,
        "build_delta": build_delta,
    }


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and not value:
        return []
    if isinstance(value, dict):
        return [value]
    raise WippyError("Invalid", "expected a list of entries")


def parse_id(entry_id: str) -> dict[str, str]:
    """``{ns, name}`` of an id split at its first colon (Python twin of ``registry.parse_id``)."""
    ns, name = split_id(entry_id)
    return {"ns": ns, "name": name}


MODULE = LuaModule(name="registry", lua=LUA, python=_python)
