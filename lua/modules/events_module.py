"""`events`: the event bus from Lua (spec §4.5, C11; internals §3 "Lua-facing events").

``events.subscribe(system_pattern, kind?)`` returns a Subscription (a userdata with
``:channel()`` and ``:close()``); ``events.send(system, kind, path, data?)`` publishes on
the runtime's bus and returns ``true``. The globals ``subscribe``/``unsubscribe`` of the
prelude reach the same functions.

How events reach a process (one bridge per node, like the reference's dispatcher):

* the bridge holds ONE bus subscription on everything, with a handler running on trio;
  each event is matched against the Lua subscriptions with :func:`lua_match` (C11: ``*``
  or ``""`` any, trailing ``*`` a plain string prefix, otherwise exact; the same rule for
  the optional kind filter), with a route cache per ``(system, kind)``;
* a matching event becomes the plain item ``{system, kind, path, data?}`` and is queued
  on the Lua subscription (unbounded, so nothing is lost and the order is the publish
  order);
* inside the process a pump task (``coroutine.spawn`` at subscribe time) loops on the
  external command ``events.wait``: it completes at once with everything queued, or later,
  from the trio thread, when the next event arrives; the pump feeds the items into the
  subscription's channel one by one (blocking sends give back-pressure to the pump only);
* ``sub:close()`` removes the subscription at once (no later event is queued), completes a
  pending wait with nil so the pump ends, and closes the channel (receivers get
  ``nil, false``); closing again returns true;
* a process that exits releases all its subscriptions (``Node.watch_exit``).
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

import lupa.lua54 as lupa

from wippy.entry import Entry
from wippy.eventbus import Event, EventBusError, lua_match
from wippy.lua.engine.convert import from_lua
from wippy.lua.modules import LuaModule
from wippy.node import WippyError, encode

_lua_type = lupa.lua_type

LUA = r"""
local py, rt = ...
local type, select, pcall = type, select, pcall

local M = {}

local RETRYABLE = { Timeout = true, Unavailable = true, RateLimited = true }
local function mkerr(kind, message)
  return errors.new({ kind = kind, message = message, retryable = RETRYABLE[kind] or false })
end

local function pump(sid, ch, state)
  while not state.closed do
    local blob = rt.yield("events.wait", sid)
    if blob == nil or state.closed then return end
    local items = rt.decode(blob)
    for i = 1, #items do
      if state.closed then return end
      if not pcall(ch.send, ch, items[i]) then return end
    end
  end
end

function M.subscribe(system, kind)
  if type(system) ~= "string" or system == "" then
    return nil, mkerr("Invalid", "system pattern is required")
  end
  if kind ~= nil and type(kind) ~= "string" then
    return nil, mkerr("Invalid", "kind must be a string")
  end
  local sid, ekind, emsg = py.subscribe(rt.pid(), system, kind or "")
  if sid == nil then return nil, mkerr(ekind, emsg) end
  local ch = rt.channel(16)
  local state = { closed = false }
  local function channel_fn() return ch end
  local function close_fn()
    if not state.closed then
      state.closed = true
      py.unsubscribe(sid)
      ch:close()
    end
    return true
  end
  coroutine.spawn(function() pump(sid, ch, state) end)
  return py.handle(channel_fn, close_fn)
end

function M.send(system, kind, path, ...)
  if type(system) ~= "string" or system == "" then return nil, mkerr("Invalid", "system is required") end
  if type(kind) ~= "string" or kind == "" then return nil, mkerr("Invalid", "kind is required") end
  if type(path) ~= "string" or path == "" then return nil, mkerr("Invalid", "path is required") end
  local ok, ekind, emsg = py.send(system, kind, path, (...))
  if not ok then return nil, mkerr(ekind, emsg) end
  return true
end

return M
"""


class Subscription:
    """The userdata a Lua ``events.subscribe`` returns: only ``channel`` and ``close`` are visible."""

    __slots__ = ("_channel", "_close", "__weakref__")

    def __init__(self, channel: Any, close: Any) -> None:
        object.__setattr__(self, "_channel", channel)
        object.__setattr__(self, "_close", close)

    def __getattribute__(self, name: str) -> Any:
        if name == "channel":
            return object.__getattribute__(self, "_channel")
        if name == "close":
            return object.__getattribute__(self, "_close")
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Subscription is read-only")

    def __repr__(self) -> str:
        return "Subscription"


class _LuaSub:
    __slots__ = ("sid", "pid", "system", "kind", "lock", "buf", "waiter", "closed")

    def __init__(self, sid: int, pid: str, system: str, kind: str) -> None:
        self.sid = sid
        self.pid = pid
        self.system = system
        self.kind = kind
        self.lock = threading.Lock()
        self.buf: deque[dict[str, Any]] = deque()
        self.waiter: int | None = None
        self.closed = False

    def matches(self, system: str, kind: str) -> bool:
        return lua_match(self.system, system) and lua_match(self.kind, kind)


def plain(value: Any, depth: int = 0) -> Any:
    """Event data as msgpack-able plain data (entries become ``{id, kind, meta, data}``)."""
    if value is None or isinstance(value, (bool, int, float, str, bytes, WippyError)):
        return value
    if depth > 100:
        return None
    if isinstance(value, dict):
        return {plain(k, depth + 1): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, Entry):
        return {
            "id": value.id,
            "kind": value.kind,
            "meta": plain(value.meta or {}, depth + 1),
            "data": plain(value.data, depth + 1),
        }
    if isinstance(value, BaseException):
        return WippyError(getattr(value, "kind", "") or "", str(value))
    if _lua_type(value) is not None:  # functions, coroutines, userdata do not travel
        return None
    return str(value)


class EventsBridge:
    """The node's Lua subscriptions and their one bus subscription."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.lock = threading.Lock()
        self.subs: dict[int, _LuaSub] = {}
        self.by_pid: dict[str, set[int]] = {}
        self.routes: dict[tuple[str, str], tuple[_LuaSub, ...]] = {}
        self.bus_sub: Any = None
        self._ids = itertools.count(1)

    # -- worker threads ---------------------------------------------------------------

    def subscribe(self, pid: str, system: str, kind: str) -> _LuaSub:
        bus = self.node.runtime.bus
        watch = False
        with self.lock:
            if self.bus_sub is None:
                self.bus_sub = bus.subscribe("", "", handler=self._on_event, buffer=1 << 16)
            sub = _LuaSub(next(self._ids), pid, system, kind)
            self.subs[sub.sid] = sub
            mine = self.by_pid.get(pid)
            if mine is None:
                mine = self.by_pid[pid] = set()
                watch = True
            mine.add(sub.sid)
            self.routes = {}
        if watch and not self.node.watch_exit(pid, lambda _result: self.release_pid(pid)):
            self.release_pid(pid)
        return sub

    def unsubscribe(self, sid: int) -> None:
        with self.lock:
            sub = self.subs.pop(sid, None)
            if sub is None:
                return
            mine = self.by_pid.get(sub.pid)
            if mine is not None:
                mine.discard(sid)
            self.routes = {}
        with sub.lock:
            sub.closed = True
            sub.buf.clear()
            tag, sub.waiter = sub.waiter, None
            if tag is not None:
                self.node.complete(sub.pid, tag, None)

    def release_pid(self, pid: str) -> None:
        with self.lock:
            sids = self.by_pid.pop(pid, set())
            gone = [self.subs.pop(sid) for sid in sids if sid in self.subs]
            if gone:
                self.routes = {}
        for sub in gone:
            with sub.lock:
                sub.closed = True
                sub.buf.clear()
                sub.waiter = None

    def wait(self, sid: int, tag: int) -> tuple:
        sub = self.subs.get(sid)
        if sub is None:
            return True, None
        with sub.lock:
            if sub.closed:
                return True, None
            if sub.buf:
                items = list(sub.buf)
                sub.buf.clear()
                return True, encode(items)
            sub.waiter = tag
        return (False,)

    # -- trio thread ------------------------------------------------------------------

    def _targets(self, system: str, kind: str) -> tuple[_LuaSub, ...]:
        routes = self.routes
        found = routes.get((system, kind))
        if found is None:
            with self.lock:
                found = tuple(s for s in self.subs.values() if s.matches(system, kind))
                if len(self.routes) > 4096:
                    self.routes = {}
                self.routes[(system, kind)] = found
        return found

    def _on_event(self, ev: Event) -> None:
        system, kind = str(ev.system), str(ev.kind)
        targets = self._targets(system, kind)
        if not targets:
            return
        item: dict[str, Any] = {"system": system, "kind": kind, "path": str(ev.path)}
        if ev.data is not None:
            item["data"] = plain(ev.data)
        blob: bytes | None = None
        for sub in targets:
            with sub.lock:
                if sub.closed:
                    continue
                tag = sub.waiter
                if tag is None:
                    sub.buf.append(item)
                    continue
                sub.waiter = None
                if blob is None:
                    blob = encode([item])
                self.node.complete(sub.pid, tag, blob)


_bridges: weakref.WeakKeyDictionary[Any, EventsBridge] = weakref.WeakKeyDictionary()
_bridges_lock = threading.Lock()


def bridge_of(node: Any) -> EventsBridge:
    with _bridges_lock:
        bridge = _bridges.get(node)
        if bridge is None:
            bridge = _bridges[node] = EventsBridge(node)
        return bridge


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


def _cmd_wait(shard: Any, pid: str, tag: int, sid: Any) -> tuple:
    return bridge_of(shard.node).wait(int(sid), tag)


def _python(shard: Any) -> dict[str, Callable[..., Any]]:
    node = shard.node
    node.commands.setdefault("events.wait", _cmd_wait)
    bridge = bridge_of(node)

    def subscribe(pid: bytes, system: bytes, kind: bytes) -> tuple:
        if getattr(node, "runtime", None) is None:
            return None, b"Unavailable", b"event bus is not available"
        try:
            sub = bridge.subscribe(_text(pid), _text(system), _text(kind))
        except EventBusError as exc:
            return None, b"Unavailable", str(exc).encode()
        return (sub.sid,)

    def unsubscribe(sid: int) -> None:
        bridge.unsubscribe(int(sid))

    def handle(channel: Any, close: Any) -> Subscription:
        return Subscription(channel, close)

    def send(system: bytes, kind: bytes, path: bytes, data: Any = None) -> tuple:
        runtime = getattr(node, "runtime", None)
        if runtime is None:
            return None, b"Unavailable", b"event bus is not available"
        value = plain(from_lua(data)) if data is not None else None
        runtime.bus.publish(_text(system), _text(kind), _text(path), value)
        return (True,)

    return {"subscribe": subscribe, "unsubscribe": unsubscribe, "handle": handle, "send": send}


MODULE = LuaModule(name="events", lua=LUA, python=_python)
