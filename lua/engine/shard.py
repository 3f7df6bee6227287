"""A shard: one Lua 5.4 state hosting many processes.

The shard owns a lupa runtime with the prelude loaded (``prelude.lua``: run queue,
processes, channels, timers, the process module). Python drives it in batches:
``run_batch()`` resumes tasks until the shard's run queue is empty or the budget is
spent. Everything that must reach the shard from outside (messages from other shards,
completions of external commands, spawn requests, kills, events) goes into its
``incoming`` deque, which the prelude drains with ``H.pull()`` at the start of a batch
and whenever its run queue empties.

A shard is run by at most one worker thread at a time; the state machine in
:class:`ShardState` plus ``wake()`` guarantee that no wake-up is lost while a batch
is running (the "dirty" flag re-queues the shard after the batch).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import lupa.lua54 as lupa

from wippy.lua.engine.convert import to_lua
from wippy.lua.engine.sharing import can_share

if TYPE_CHECKING:
    from wippy.lua.engine.scheduler import Scheduler

IDLE, QUEUED, RUNNING = 0, 1, 2


_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2,
          "g": 1024**3, "gb": 1024**3, "gib": 1024**3}


def parse_size(value: object) -> int:
    """Bytes from a number or a text such as "64MB", "512KiB", "1G"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip().lower()
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz ")
    unit = text[len(digits):].strip()
    if unit not in _UNITS or not digits:
        raise ValueError(f"invalid size {value!r} (use bytes or a unit: KB, MB, GB)")
    return int(float(digits) * _UNITS[unit])


def _placement(value: object) -> str:
    if value not in ("local", "spread"):
        raise ValueError(f"host.placement must be local or spread, not {value!r}")
    return str(value)


MIN_MAX_MEMORY = 4 * 1024 * 1024


@dataclass(frozen=True)
class HostLimits:
    """Containment settings of one process host (the `host:` block of its entry).

    ``max_memory``: bytes of Lua memory each shard of the host may allocate (0 = no
    limit); the process whose allocation fails gets "not enough memory" and exits with
    that error, its neighbours keep running. ``max_message``: bytes a message or spawn
    argument may hold (strings plus table slots); a bigger one is refused at send.
    ``max_inbox``: messages waiting unread for one process; beyond it a send from the
    same shard is refused (Unavailable, retryable) and a delivery from elsewhere is
    dropped with a warning. ``slice_ms``: how long a task runs before a safepoint yields.
    ``placement``: "local" keeps a spawner's children together, "spread" puts each new
    process on the least-loaded shard (see Scheduler.place).
    """

    max_memory: int = 0
    max_message: int = 64 * 1024 * 1024
    max_inbox: int = 1_000_000
    slice_ms: float = 1.0
    placement: str = "local"

    @classmethod
    def from_config(cls, host: dict) -> HostLimits:
        def size(key: str, default: int) -> int:
            value = host.get(key)
            return default if value is None else parse_size(value)

        max_memory = size("max_memory", 0)
        if 0 < max_memory < MIN_MAX_MEMORY:
            # a shard's own runtime (prelude, libraries) takes about 1 MB before any process
            raise ValueError(f"host.max_memory must be at least 4MB, not {host.get('max_memory')!r}")
        return cls(
            max_memory=max_memory,
            max_message=size("max_message_size", 64 * 1024 * 1024),
            max_inbox=int(host.get("max_inbox", 1_000_000)),
            slice_ms=float(host.get("slice_ms", 1.0)),
            placement=_placement(host.get("placement", "local")),
        )

_PRELUDE: str | None = None
_TYPES: str | None = None
_FORLOOP: str | None = None


def prelude_source() -> str:
    global _PRELUDE
    if _PRELUDE is None:
        _PRELUDE = resources.files("wippy.lua.engine").joinpath("prelude.lua").read_text()
    return _PRELUDE


def forloop_source() -> str:
    global _FORLOOP
    if _FORLOOP is None:
        _FORLOOP = resources.files("wippy.lua.engine").joinpath("forloop.lua").read_text()
    return _FORLOOP


def types_source() -> str | None:
    global _TYPES
    if _TYPES is None:
        path = resources.files("wippy.lua.engine").joinpath("types.lua")
        _TYPES = path.read_text() if path.is_file() else ""
    return _TYPES or None


class Shard:
    """One Lua state and the processes it hosts."""

    def __init__(self, scheduler: Scheduler, index: int) -> None:
        self.scheduler = scheduler
        self.node = scheduler.node
        self.index = index
        self.incoming: deque[tuple] = deque()
        self.lock = threading.Lock()
        self.state = IDLE
        self.dirty = False
        self.processes = 0  # live processes placed here (placement uses it)
        self.next_deadline: float | None = None
        self.fill_target: Shard | None = None  # where this shard's spawns go (Scheduler.place)
        self.left_with = 0  # its process count when its spawns moved to another shard
        self.last_worker = -1
        # the Lua state is made by the first batch (on a worker thread): a host's shards
        # that never get a process cost no Lua state, and boot does not wait for them
        # (HostLimits refuses a memory limit too small for the runtime itself)
        self.built = False
        self.runtime: Any = None
        self.lua: Any = None

    # ------------------------------------------------------------------ setup

    def build(self) -> None:
        """Make the Lua state: the prelude, the types library, the loop helper."""
        limits = self.scheduler.limits
        self.runtime = rt = lupa.LuaRuntime(
            encoding=None, unpack_returned_tuples=True, register_eval=False, register_builtins=False,
            max_memory=limits.max_memory or None,
        )
        node = self.node
        loader = rt.eval("function(src, name, arg) return assert(load(src, name, 't'))(arg) end")
        prelude = loader(prelude_source().encode(), b"=prelude", self._host_table())
        self.lua = prelude
        self._run_batch = prelude.run_batch
        src = types_source()
        types_lib = loader(src.encode(), b"=types", None) if src else None
        wfor = loader(forloop_source().encode(), b"=forloop", prelude.wpre)
        host = self.scheduler.name
        prelude.setup(to_lua(rt, node.global_module_names(self.scheduler)), types_lib, wfor,
                      host.encode(), node.pid_prefix(host).encode())
        prelude.set_limits(limits.slice_ms / 1000.0, limits.max_message, limits.max_inbox)
        self.built = True

    def _host_table(self) -> Any:
        node = self.node
        incoming = self.incoming
        pop = incoming.popleft
        mono = time.monotonic

        def pull():
            try:
                return pop()
            except IndexError:
                return None

        funcs = {
            "pull": pull,
            "mono": mono,
            "wall_ns": time.time_ns,
            "spawn": lambda parent, entry, host, flags, name=None, exec_tag=None, *values: node.spawn_from_lua(
                self, parent, entry, host, flags, name, exec_tag, *values
            ),
            "spawn_args": lambda pid, args, msgs=None, ctx=None: node.deliver_spawn_args(pid, args, msgs, ctx),
            "post": node.post_from_lua,
            "post_values": node.post_values_from_lua,
            "register": lambda batch, want_pids: node.register_from_lua(self, batch, want_pids),
            "resolve": lambda dest: node.resolve_from_lua(self, dest),
            "exit": lambda pid, ok, vk, vv, err: node.process_exited(self, pid, ok, vk, vv, err),
            "topology": node.topology_from_lua,
            "names": node.names_from_lua,
            "command": lambda pid, tag, name, *args: node.command(self, pid, tag, name, args),
            "chunk": lambda entry_id: node.code.chunk_for_lua(self.runtime, entry_id),
            "shareable": can_share,
            "module": lambda name: node.modules.for_lua(self, name),
            "log": lambda pid, level, message, fields: node.lua_log(pid, level, message, fields),
            "pay": self.scheduler.pay_owed_wake,
        }
        table = self.runtime.table()
        for k, v in funcs.items():
            table[k.encode()] = v
        self._host = table
        return table

    def owe_wake(self) -> None:
        """Tell the batch running now that its worker holds back a wake (Scheduler.submit)."""
        self._host[b"owed"] = True

    # ------------------------------------------------------------------ driving

    def push(self, item: tuple) -> None:
        """Queue an incoming item and make sure the shard runs soon (any thread)."""
        self.incoming.append(item)
        self.wake()

    def wake(self) -> None:
        with self.lock:
            if self.state == IDLE:
                self.state = QUEUED
            elif self.state == RUNNING:
                self.dirty = True
                return
            else:
                return
        self.scheduler.submit(self)

    def run_batch(self, budget: int) -> bool:
        """Run one batch on the calling worker thread; returns True if re-queued."""
        with self.lock:
            self.state = RUNNING
            self.dirty = False
        try:
            if not self.built:
                self.build()
            more, deadline, _n = self._run_batch(budget)
        except lupa.LuaMemoryError:
            self._recover_memory()
            more, deadline = True, None
        except BaseException:
            with self.lock:
                self.state = IDLE
            raise
        with self.lock:
            if more or self.dirty or self.incoming:
                self.state = QUEUED
                requeue = True
            else:
                self.state = IDLE
                requeue = False
            self.dirty = False
        if deadline is not None and deadline != self.next_deadline:
            self.next_deadline = deadline
            self.scheduler.node.timers.wake_at(deadline, self)
        return requeue

    def _recover_memory(self) -> None:
        """The prelude itself could not allocate: fail the process that was allocating.

        Failing it needs a little memory of its own (its EXIT event), so the limit is
        raised by an eighth for that moment; the dead process's memory is then collected.
        """
        limit = self.runtime.get_max_memory()
        if limit:
            self.runtime.set_max_memory(limit + limit // 8 + 1024 * 1024)
        try:
            self.lua.oom()
        except lupa.LuaError as exc:
            self.node.runtime_log("shard could not recover from running out of memory",
                                  host=self.scheduler.name, error=str(exc))
        finally:
            if limit:
                self.runtime.set_max_memory(limit)
