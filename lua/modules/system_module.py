"""`system`: runtime introspection and control (§4.17).

Go figures are approximated from what Python can see without extra packages: memory
from ``/proc/self/statm`` (``resource`` as a fallback), "goroutines" as live threads
plus live processes, GC counts from :mod:`gc`. Host figures come from the schedulers'
``stats()``; supervisor states from ``runtime.supervisor`` when the runtime has one
(otherwise every known service entry reports a placeholder state).

``system.exit(code)`` asks ``runtime.request_exit(code)`` when the runtime offers it;
otherwise it flushes the standard streams and ends the OS process.
"""

from __future__ import annotations

import gc
import os
import socket
import sys
import threading
from importlib import metadata
from typing import Any

from wippy.lua.engine.convert import to_lua
from wippy.lua.modules import LuaModule

LUA = r"""
local py, rt = ...
local type = type
local function res(v, kind, message)
  if kind ~= nil then return nil, rt.err(kind, message) end
  return v, nil
end
local function getter(f) return function(...) return res(f(...)) end end
local M = {}
function M.exit(code)
  if code ~= nil and type(code) ~= "number" then return nil, rt.err("Invalid", "exit code must be a number") end
  return res(py.exit(code or 0))
end
M.modules = getter(py.modules)
M.memory = {
  stats = getter(py.memory_stats),
  allocated = getter(py.memory_allocated),
  heap_objects = getter(py.heap_objects),
  set_limit = function(n)
    if type(n) ~= "number" then return nil, rt.err("Invalid", "limit must be a number") end
    return res(py.set_limit(n))
  end,
  get_limit = getter(py.get_limit),
}
M.gc = {
  collect = getter(py.gc_collect),
  set_percent = function(n)
    if type(n) ~= "number" then return nil, rt.err("Invalid", "percent must be a number") end
    return res(py.set_percent(n))
  end,
  get_percent = getter(py.get_percent),
}
M.runtime = {
  goroutines = getter(py.goroutines),
  max_procs = function(n)
    if n ~= nil and type(n) ~= "number" then return nil, rt.err("Invalid", "max_procs must be a number") end
    return res(py.max_procs(n))
  end,
  cpu_count = getter(py.cpu_count),
}
M.process = {
  pid = getter(py.os_pid),
  hostname = getter(py.hostname),
  cwd = getter(py.cwd),
}
M.hosts = {
  list = getter(py.hosts_list),
  processes = function(host)
    if type(host) ~= "string" then return nil, rt.err("Invalid", "host must be a string") end
    return res(py.host_processes(host))
  end,
}
M.supervisor = {
  state = function(id)
    if type(id) ~= "string" then return nil, rt.err("Invalid", "service id must be a string") end
    return res(py.supervisor_state(id))
  end,
  states = getter(py.supervisor_states),
}
M.node = {
  id = getter(py.node_id),
  addr = getter(py.node_addr),
  role = getter(py.node_role),
}
M.cluster = {
  members = getter(py.cluster_members),
  leader = getter(py.cluster_leader),
  size = getter(py.cluster_size),
}
local function no_raft() return nil, rt.err("Unavailable", "cluster is not enabled") end
M.raft = setmetatable({}, { __index = function() return no_raft end })
M.lock = {
  acquire = function(name)
    if type(name) ~= "string" or name == "" then return false, rt.err("Invalid", "lock name must be a non-empty string") end
    local ok, kind, message = py.lock_acquire(name, rt.pid() or "")
    if ok then return true, nil end
    return false, rt.err(kind, message)
  end,
  release = function(name)
    if type(name) ~= "string" or name == "" then return false, rt.err("Invalid", "lock name must be a non-empty string") end
    local ok, kind, message = py.lock_release(name)
    if ok then return true, nil end
    return false, rt.err(kind, message)
  end,
}
return M
"""

MAX_INT64 = (1 << 63) - 1
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_STACK = 256 * 1024  # an approximate stack per thread

# Process-wide settings: the reference's are process-wide too (Go runtime knobs).
_settings: dict[str, int] = {"limit": MAX_INT64, "percent": 100, "max_procs": os.cpu_count() or 1}
_locks: dict[str, str] = {}
_locks_guard = threading.Lock()


def _statm() -> tuple[int, int]:
    """(virtual size, resident size) in bytes."""
    try:
        with open("/proc/self/statm") as fh:
            size, resident = fh.read().split()[:2]
        return int(size) * _PAGE, int(resident) * _PAGE
    except (OSError, ValueError):
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rss = rss if sys.platform == "darwin" else rss * 1024
        return rss * 2, rss


def _peak_rss() -> int:
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss if sys.platform == "darwin" else rss * 1024
    except (ImportError, OSError):
        return _statm()[1]


def memory_stats() -> dict[str, int]:
    virt, rss = _statm()
    threads = threading.active_count()
    stack = threads * _STACK
    collections = sum(s.get("collections", 0) for s in gc.get_stats())
    heap = max(rss - stack, 1)
    return {
        "alloc": heap,
        "total_alloc": max(_peak_rss(), heap),
        "sys": max(virt, rss),
        "heap_alloc": heap,
        "heap_sys": max(virt - stack, heap),
        "heap_idle": max(virt - rss, 0),
        "heap_in_use": heap,
        "heap_released": 0,
        "heap_objects": len(gc.get_objects()),
        "stack_in_use": stack,
        "stack_sys": stack,
        "mspan_in_use": 0,
        "mspan_sys": 0,
        "num_gc": collections,
        "next_gc": heap + heap * _settings["percent"] // 100,
    }


def _modules() -> list[dict[str, str]]:
    out = []
    for name in ("wippy", "trio", "lupa", "msgspec", "pyyaml", "click", "xxhash", "sqlite-utils"):
        try:
            out.append({"path": name, "version": metadata.version(name)})
        except metadata.PackageNotFoundError:
            continue
    return out


def _service_state(state: Any) -> dict[str, Any]:
    status = getattr(state, "status", "unknown")
    return {
        "id": getattr(state, "id", ""),
        "status": getattr(status, "value", str(status)),
        "desired": getattr(state, "desired", "stopped"),
        "retry_count": getattr(state, "retry_count", 0),
        "last_update": getattr(state, "time", 0.0),
        "started_at": getattr(state, "started_at", getattr(state, "time", 0.0)),
        "details": getattr(state, "details", ""),
    }


_SERVICE_KINDS = ("process.service", "http.service", "process.host", "terminal.host")


def _placeholder(entry_id: str, kind: str) -> dict[str, Any]:
    running = kind in ("process.host", "terminal.host")
    return {
        "id": entry_id,
        "status": "running" if running else "unknown",
        "desired": "running" if running else "stopped",
        "retry_count": 0,
        "last_update": 0.0,
        "started_at": 0.0,
        "details": "",
    }


def _python(shard: Any) -> dict[str, Any]:
    node = getattr(shard, "node", None)
    runtime = getattr(node, "runtime", None)
    lua = shard.runtime

    def table(value: Any) -> Any:
        return to_lua(lua, value)

    def text(value: bytes | str) -> str:
        return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value

    def exit_(code: float) -> tuple:
        request = getattr(runtime, "request_exit", None)
        if callable(request):
            request(int(code))
            return (True,)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(int(code) & 0xFF)

    def set_limit(n: float) -> tuple:
        prev = _settings["limit"]
        _settings["limit"] = int(n) if n >= 0 else MAX_INT64
        return (prev,)

    def set_percent(n: float) -> tuple:
        prev = _settings["percent"]
        _settings["percent"] = int(n)
        if n < 0:
            gc.disable()
        else:
            gc.enable()
        return (prev,)

    def max_procs(n: float | None) -> tuple:
        prev = _settings["max_procs"]
        if n is not None and n > 0:
            _settings["max_procs"] = int(n)
        return (prev,)

    def goroutines() -> tuple:
        procs = len(node.procs) if node is not None else 0
        return (threading.active_count() + procs,)

    def hosts_list() -> tuple:
        hosts = list(node.hosts.values()) if node is not None else []
        return (table([h.stats() for h in hosts]),)

    def host_processes(host_b: bytes) -> tuple:
        host = text(host_b)
        if node is None or host not in node.hosts:
            return None, b"NotFound", f"host not found: {host}".encode()
        with node.lock:
            infos = [i for i in node.procs.values() if i.host == host]
        out = []
        for info in infos:
            item: dict[str, Any] = {
                "pid": info.pid,
                "host": info.host,
                "source": info.entry,
                "state": "running",
                "steps": 0,
                "started_at": int(info.started * 1e9),
            }
            parent = getattr(info, "parent", None)
            if parent:
                item["parent"] = parent
            out.append(item)
        return (table(out),)

    def _states() -> dict[str, dict[str, Any]] | None:
        sup = getattr(runtime, "supervisor", None)
        if sup is not None and callable(getattr(sup, "states", None)):
            try:
                return {sid: _service_state(s) for sid, s in sup.states().items()}
            except Exception:  # a supervisor that is shutting down reports nothing
                return {}
        return None

    def supervisor_states() -> tuple:
        states = _states()
        if states is None:
            entries = getattr(runtime, "entries", {}) or {}
            states = {e.id: _placeholder(e.id, e.kind) for e in entries.values() if e.kind in _SERVICE_KINDS}
        return (table(list(states.values())),)

    def supervisor_state(sid_b: bytes) -> tuple:
        sid = text(sid_b)
        states = _states()
        if states is not None:
            if sid in states:
                return (table(states[sid]),)
            return None, b"NotFound", f"service not found: {sid}".encode()
        entry = (getattr(runtime, "entries", {}) or {}).get(sid)
        if entry is None or entry.kind not in _SERVICE_KINDS:
            return None, b"NotFound", f"service not found: {sid}".encode()
        return (table(_placeholder(sid, entry.kind)),)

    def node_id() -> tuple:
        return ((getattr(node, "name", None) or "local").encode(),)

    def cluster_members() -> tuple:
        name = getattr(node, "name", None) or "local"
        return (table([{"id": name, "addr": "", "role": "leader", "state": "alive"}]),)

    def lock_acquire(name_b: bytes, pid_b: bytes) -> tuple:
        name = text(name_b)
        with _locks_guard:
            if name in _locks:
                return False, b"AlreadyExists", f"lock {name} is already held".encode()
            _locks[name] = text(pid_b)
        return (True,)

    def lock_release(name_b: bytes) -> tuple:
        name = text(name_b)
        with _locks_guard:
            if _locks.pop(name, None) is None:
                return False, b"NotFound", f"lock {name} is not held".encode()
        return (True,)

    def gc_collect() -> tuple:
        gc.collect()
        collect_lua = lua.globals()[b"collectgarbage"]
        if collect_lua is not None:
            collect_lua(b"collect")
        return (True,)

    return {
        "exit": exit_,
        "modules": lambda: (table(_modules()),),
        "memory_stats": lambda: (table(memory_stats()),),
        "memory_allocated": lambda: (memory_stats()["alloc"],),
        "heap_objects": lambda: (len(gc.get_objects()),),
        "set_limit": set_limit,
        "get_limit": lambda: (_settings["limit"],),
        "gc_collect": gc_collect,
        "set_percent": set_percent,
        "get_percent": lambda: (_settings["percent"],),
        "goroutines": goroutines,
        "max_procs": max_procs,
        "cpu_count": lambda: (os.cpu_count() or 1,),
        "os_pid": lambda: (os.getpid(),),
        "hostname": lambda: (socket.gethostname().encode(),),
        "cwd": lambda: (os.getcwd().encode("utf-8", "surrogateescape"),),
        "hosts_list": hosts_list,
        "host_processes": host_processes,
        "supervisor_state": supervisor_state,
        "supervisor_states": supervisor_states,
        "node_id": node_id,
        "node_addr": lambda: (b"",),
        "node_role": lambda: (b"leader",),
        "cluster_members": cluster_members,
        "cluster_leader": node_id,
        "cluster_size": lambda: (1,),
        "lock_acquire": lock_acquire,
        "lock_release": lock_release,
    }


MODULE = LuaModule(name="system", lua=LUA, python=_python)
