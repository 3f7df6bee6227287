"""The local node: where every process of this OS process is known.

The node owns what crosses shard boundaries: the directory of live processes (PID ->
the shard hosting it, or a Python-side receiver), the topology (monitors, links,
local names), spawning across hosts, routing of messages that leave a shard, exit
notifications (EXIT to monitors always, LINK_DOWN to links only on abnormal exit) and
the dispatch of external commands yielded by Lua processes.

Everything here may be called from any worker thread, so the mutable maps are guarded
by one lock; the lock is held only for dictionary updates, never while calling into a
shard (pushing to a shard's incoming deque is thread-safe and never blocks).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from wippy.lua.engine.timers import TimerThread
from wippy.pid import PidGen
from wippy.relay import Message, Package, RelayError

SPAWN_MONITOR, SPAWN_LINK, SPAWN_EXEC = 1, 2, 4
EXT_ERROR = 1

TOPOLOGY_PID = "{|topology}"


class WippyError(Exception):
    """An error value crossing between Lua and Python (kind + message)."""

    def __init__(self, kind: str, message: str, retryable: bool | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.kind = kind or ""
        self.message = message
        self.retryable = retryable
        self.details = details

    def __str__(self) -> str:
        return self.message


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, WippyError):
        body = msgspec.msgpack.encode(
            {"kind": obj.kind, "message": obj.message, "retryable": obj.retryable, "details": obj.details}
        )
        return msgspec.msgpack.Ext(EXT_ERROR, body)
    raise NotImplementedError(type(obj))


def _ext_hook(code: int, data: memoryview) -> Any:
    if code == EXT_ERROR:
        m = msgspec.msgpack.decode(data)
        return WippyError(
            m.get("kind", ""), _text(m.get("message", "")), m.get("retryable"), m.get("details")
        )
    return None


def _text(v: Any) -> Any:
    return v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else v


_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.msgpack.Decoder(ext_hook=_ext_hook)


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def decode(blob: bytes | None) -> Any:
    return None if blob is None else _decoder.decode(blob)


def pack_values(values: tuple | list) -> bytes:
    """A value list as the prelude expects it: {n = k, [1] = v1, ...}."""
    d: dict[Any, Any] = {"n": len(values)}
    for i, v in enumerate(values, 1):
        d[i] = v
    return _encoder.encode(d)


def unpack_values(blob: bytes) -> list[Any]:
    d = _decoder.decode(blob)
    if isinstance(d, list):
        return d
    n = d.get(b"n", d.get("n", 0)) if isinstance(d, dict) else 0
    return [d.get(i) for i in range(1, n + 1)]


def lua_value(vk: int, vv: Any) -> Any:
    """A value exported by the prelude (scalar, or msgpack blob when vk == 1) as Python data."""
    return decode(vv) if vk == 1 else vv


@dataclass
class ExitResult:
    pid: str
    ok: bool
    value: Any
    error: WippyError | None


_NONE: frozenset = frozenset()


PID_BLOCK = 1024  # unique numbers a shard takes at a time for the processes it spawns


class _Ties:
    """The rare part of what the node knows of a process: who watches it or is linked to
    it, its names, a spawn waiting for its arguments (most processes have none of it)."""

    __slots__ = ("monitors", "links", "names", "exec_watchers", "py_watchers", "pending_spawn")

    def __init__(self) -> None:
        self.monitors: set[str] = set()
        self.links: set[str] = set()
        self.names: set[str] = set()
        self.exec_watchers: list[tuple[str, int]] = []
        self.py_watchers: list[Callable[[ExitResult], None]] = []
        self.pending_spawn: tuple | None = None


class ProcInfo:
    """What the node knows of one live process. ``ties`` (links, monitors, names,
    watchers) is made on first use: a process without any costs 64 bytes here, and the
    processes registered in one batch share the float of their start time."""

    __slots__ = ("pid", "shard", "entry", "host", "started", "ties")

    def __init__(self, pid: str, shard: Any, entry: str, host: str, started: float | None = None) -> None:
        self.pid, self.shard, self.entry, self.host = pid, shard, entry, host
        self.started = time.time() if started is None else started
        self.ties: _Ties | None = None

    @property
    def monitors(self) -> frozenset | set[str]:
        return self.ties.monitors if self.ties is not None else _NONE

    @property
    def links(self) -> frozenset | set[str]:
        return self.ties.links if self.ties is not None else _NONE

    @property
    def names(self) -> frozenset | set[str]:
        return self.ties.names if self.ties is not None else _NONE

    @property
    def exec_watchers(self) -> tuple | list[tuple[str, int]]:
        return self.ties.exec_watchers if self.ties is not None else ()

    @property
    def py_watchers(self) -> tuple | list[Callable[[ExitResult], None]]:
        return self.ties.py_watchers if self.ties is not None else ()

    @property
    def pending_spawn(self) -> tuple | None:
        return self.ties.pending_spawn if self.ties is not None else None

    @pending_spawn.setter
    def pending_spawn(self, value: tuple | None) -> None:
        if self.ties is None:
            if value is None:
                return
            self.ties = _Ties()
        self.ties.pending_spawn = value

    def add(self, field: str, value: Any) -> None:
        if self.ties is None:
            self.ties = _Ties()
        current = getattr(self.ties, field)
        if isinstance(current, list):
            current.append(value)
        else:
            current.add(value)

    def discard(self, field: str, value: Any) -> None:
        if self.ties is not None:
            getattr(self.ties, field).discard(value)


class ProcessHostReceiver:
    """A process host as the relay sees it: packages go to the target's shard."""

    def __init__(self, node: Node, host_id: str) -> None:
        self.node = node
        self.host_id = host_id

    def send(self, pkg: Package) -> bool:
        for message in pkg.messages:
            try:
                self.node.send(pkg.source, pkg.target, message.topic, *message.payloads)
            except WippyError as exc:
                raise RelayError(exc.message) from None
        return True


class Node:
    def __init__(self, name: str = "local", log: Any = None, *, pidgen: PidGen | None = None, commands: Any = None,
                 relay: Any = None) -> None:
        if pidgen is not None:
            name = pidgen.node or "local"
        self.name = name
        self.pidgen = pidgen if pidgen is not None else PidGen()  # PIDs and blocks of them
        self.relay = relay
        self.lock = threading.RLock()
        self.procs: dict[str, ProcInfo] = {}
        self.names: dict[str, str] = {}
        self.hosts: dict[str, Any] = {}  # host id -> Scheduler
        self.suspended_sends = 0  # Lua sends that waited for a full mailbox
        self.commands: dict[str, Callable[..., Any]] = commands if commands is not None else {}
        self.timers = TimerThread()
        self.code: Any = None  # CodeStore, set by the runtime
        self.modules: Any = None  # ModuleStore, set by the runtime
        self.log = log
        self.global_modules: list[str] = []

    # ------------------------------------------------------------------ ids

    def pid_prefix(self, host: str) -> str:
        """A PID on ``host`` up to its unique part: ``{host|`` or ``{node@host|``."""
        if self.name and self.name != "local":
            return f"{{{self.name}@{host}|"
        return f"{{{host}|"

    def new_pid(self, host: str) -> str:
        return f"{self.pid_prefix(host)}{self.pidgen.next_uniq()}}}"

    def global_module_names(self, scheduler: Any) -> list[str]:
        return list(self.global_modules)

    # ------------------------------------------------------------------ spawning

    def _register(
        self, pid: str, shard: Any, entry: str, host: str, parent: str | None, flags: int
    ) -> ProcInfo:
        info = ProcInfo(pid, shard, entry, host)
        with self.lock:
            self.procs[pid] = info
            if parent is not None:
                parent_info = self.procs.get(parent)
                if flags & SPAWN_MONITOR:
                    info.add("monitors", parent)
                if flags & SPAWN_LINK and parent_info is not None:
                    info.add("links", parent)
                    parent_info.add("links", pid)
        shard.processes += 1
        return info

    def spawn_from_lua(
        self,
        shard: Any,
        parent: bytes,
        entry: bytes,
        host: bytes,
        flags: int,
        name: bytes | None,
        exec_tag: int | None = None,
        *values: Any,
    ) -> tuple:
        """A spawn from Lua. ``values`` (n, v1, v2, v3: at most three scalar arguments), when
        given, go with a spawn on another shard at once (``pid, False, True``); otherwise
        the caller delivers the arguments with spawn_args."""
        # one str per entry and host name, shared by every process record (not one per spawn)
        entry_id, host_id = sys.intern(entry.decode()), sys.intern(host.decode())
        scheduler = self.hosts.get(host_id)
        if scheduler is None:
            return None, b"NotFound", b"host not found"
        if not self.code.is_process(entry_id):
            return None, b"NotFound", b"factory not found"
        parent_pid = parent.decode()
        if name is not None:
            existing = self.names.get(name.decode())
            if existing is not None and existing in self.procs:
                return existing.encode(), 0  # already running: its arguments stay as they are
        pid = self.new_pid(host_id)
        target = scheduler.place(shard)
        info = self._register(pid, target, entry_id, host_id, parent_pid, flags)
        if exec_tag is not None:
            info.add("exec_watchers", (parent_pid, exec_tag))
        if name is not None:
            with self.lock:
                self.names[name.decode()] = pid
                self.procs[pid].add("names", name.decode())
        if target is shard:
            return pid.encode(), True, scheduler.local_room(shard)
        if values:
            n, v1, v2, v3 = (*values, None, None, None)[:4]
            target.push((8, pid.encode(), entry, flags, n, v1, v2, v3))
            return pid.encode(), False, True
        with self.lock:
            info.pending_spawn = (parent_pid, entry_id, flags)
        return pid.encode(), False

    def register_from_lua(self, shard: Any, batch: bytes | None, want_pids: bool) -> tuple:
        """Processes a shard spawned on its own host without asking (see the prelude's
        `REG`): ``batch`` is ``pid\0entry\0pid\0entry...``. Returns how many more the
        shard may place on itself and, when asked, a block of unique numbers for PIDs."""
        if batch:
            parts = batch.decode().split("\0")
            host = shard.scheduler.name
            procs = self.procs
            intern = sys.intern
            now = time.time()
            with self.lock:
                for i in range(0, len(parts), 2):
                    pid = parts[i]
                    procs[pid] = ProcInfo(pid, shard, intern(parts[i + 1]), host, now)
            shard.processes += len(parts) // 2
        room = shard.scheduler.local_room(shard)
        if want_pids:
            return room, self.pidgen.reserve(PID_BLOCK), PID_BLOCK
        return (room,)

    def deliver_spawn_args(self, pid: bytes, args: bytes, messages: bytes | None, ctx: bytes | None = None) -> None:
        info = self.procs.get(pid.decode())
        if info is None or info.pending_spawn is None:
            return
        parent, entry_id, flags = info.pending_spawn
        info.pending_spawn = None
        info.shard.push((3, pid, entry_id.encode(), flags, args, messages, parent.encode(), ctx))

    def spawn(
        self,
        entry_id: str,
        host_id: str,
        args: list[Any] | tuple = (),
        *,
        watcher: Callable[[ExitResult], None] | None = None,
    ) -> str:
        """Spawn a process from Python; ``watcher`` is called (on a worker thread) at its exit."""
        scheduler = self.hosts.get(host_id)
        if scheduler is None:
            raise WippyError("NotFound", "host not found")
        if not self.code.is_process(entry_id):
            raise WippyError("NotFound", "factory not found")
        pid = self.new_pid(host_id)
        target = scheduler.place(None)
        info = self._register(pid, target, entry_id, host_id, None, 0)
        if watcher is not None:
            info.add("py_watchers", watcher)
        target.push((3, pid.encode(), entry_id.encode(), 0, pack_values(list(args)), None, None))
        return pid

    # ------------------------------------------------------------------ messages

    def post_from_lua(self, sender: bytes, target: bytes, topic: bytes, n: int, blob: bytes,
                      tag: int | None = None) -> tuple:
        """A message from a Lua process to a PID outside its shard.

        A live Lua process gets it through its shard's incoming queue (the fast path).
        Anything else goes through the relay: a receiver on the Python side (the control
        host's mailbox) may push back, and then the Lua sender is suspended until the
        mailbox takes the message (``("wait",)``; the completion resumes it).
        """
        info = self.procs.get(target.decode())
        if info is not None:
            info.shard.push((1, target, sender, topic, blob))
            return (True,)
        return self._relay_post(sender.decode(), target.decode("utf-8", "surrogateescape"),
                                topic.decode("utf-8", "surrogateescape"), blob, tag)

    def post_values_from_lua(self, sender: bytes, target: bytes, topic: bytes, n: int, v1: Any = None,
                             v2: Any = None) -> bool:
        """A message of at most two scalars to a Lua process of another shard, passed as the
        values themselves; False when the target is not a live Lua process (the sender then
        takes the msgpack path, which knows the relay)."""
        info = self.procs.get(target.decode())
        if info is None:
            return False
        info.shard.push((7, target, sender, topic, n, v1, v2))
        return True

    def _relay_post(self, sender: str, target: str, topic: str, blob: bytes, tag: int | None) -> tuple:
        if self.relay is None:
            return None, b"NotFound", b"process not found"
        try:
            receiver = self.relay.route(target)
        except RelayError as exc:
            return None, b"NotFound", exc.message.encode()
        if isinstance(receiver, ProcessHostReceiver):
            return None, b"NotFound", b"process not found"
        pkg = Package(sender, target, [Message(topic, unpack_values(blob))])
        if not hasattr(receiver, "send_threadsafe") or tag is None:
            try:
                receiver.send(pkg)
            except RelayError as exc:
                return None, b"Unavailable", exc.message.encode()
            return (True,)

        def accepted(err: Exception | None) -> None:
            if err is None:
                self.complete(sender, tag, True)
            else:
                self.complete(sender, tag, None, WippyError("Unavailable", str(err)))

        try:
            queued = receiver.send_threadsafe(pkg, accepted)
        except RelayError as exc:
            return None, b"Unavailable", exc.message.encode()
        if queued:
            return (True,)
        self.suspended_sends += 1
        return ("wait",)

    def send(self, sender: str, target: str, topic: str, *values: Any) -> None:
        """Send a message from Python to a process (raises WippyError when it is gone)."""
        info = self.procs.get(target)
        if info is None:
            raise WippyError("NotFound", "process not found")
        info.shard.push((1, target.encode(), sender.encode(), topic.encode(), pack_values(list(values))))

    def resolve_from_lua(self, shard: Any, dest: bytes) -> tuple:
        text = dest.decode("utf-8", "surrogateescape")
        pid = self.names.get(text)
        if pid is None:
            return None, b"NotFound", f"could not resolve '{text}' as PID or registered name".encode()
        return pid.encode(), False

    def push_event(self, target: str, sender: str, event: dict) -> bool:
        """Deliver a lifecycle event; False when nobody has ``target``."""
        info = self.procs.get(target)
        blob = encode(event)
        if info is not None:
            info.shard.push((5, target.encode(), sender.encode(), blob))
            return True
        if self.relay is None:
            return False
        # a watcher on the Python side (the control host): through the relay
        try:
            receiver = self.relay.route(target)
        except RelayError:
            return False
        if isinstance(receiver, ProcessHostReceiver):
            return False  # a process host that no longer has this process
        receiver.send(Package(sender, target, [Message("@events", [decode(blob)])]))
        return True

    # ------------------------------------------------------------------ exits

    def process_exited(
        self, shard: Any, pid_b: bytes, ok: bool, vk: int, vv: Any, errblob: bytes | None
    ) -> None:
        pid = pid_b.decode()
        with self.lock:
            info = self.procs.pop(pid, None)
            if info is None:
                return
            for name in info.names:
                if self.names.get(name) == pid:
                    del self.names[name]
            for other in info.links:
                o = self.procs.get(other)
                if o is not None:
                    o.discard("links", pid)
        shard.processes -= 1
        if info.ties is None or not (info.monitors or info.links or info.exec_watchers or info.py_watchers):
            return  # nobody to tell (most exits)
        value_raw = msgspec.Raw(vv) if vk == 1 else vv
        err_raw = msgspec.Raw(errblob) if errblob is not None else None
        at = time.time()
        exit_event = {
            "kind": "pid.exit",
            "from": pid,
            "at": at,
            "result": {"value": value_raw, "error": err_raw},
        }
        for watcher in info.monitors:
            self.push_event(watcher, pid, exit_event)
        if not ok:
            down = dict(exit_event, kind="pid.link.down")
            for other in info.links:
                self.push_event(other, TOPOLOGY_PID, down)
        if info.exec_watchers or info.py_watchers:
            result = ExitResult(pid, ok, lua_value(vk, vv), decode(errblob) if errblob else None)
            for parent, tag in info.exec_watchers:
                self._complete_exec(parent, tag, result)
            for cb in info.py_watchers:
                cb(result)

    def _complete_exec(self, parent: str, tag: int, result: ExitResult) -> None:
        if result.ok:
            self.complete(parent, tag, result.value, None)
        else:
            self.complete(parent, tag, None, result.error)

    def watch_exit(self, pid: str, callback: Callable[[ExitResult], None]) -> bool:
        with self.lock:
            info = self.procs.get(pid)
            if info is None:
                return False
            info.add("py_watchers", callback)
            return True

    # ------------------------------------------------------------------ topology

    def topology_from_lua(
        self, op: bytes, me_b: bytes, target_b: Any, extra: Any = None, _c: Any = None
    ) -> tuple:
        me = me_b.decode()
        if not isinstance(target_b, bytes):
            return None, b"Invalid", b"invalid destination"
        target = target_b.decode("utf-8", "surrogateescape")
        if not target.startswith("{"):
            resolved = self.names.get(target)
            if resolved is None:
                return None, b"NotFound", f"could not resolve '{target}' as PID or registered name".encode()
            target = resolved
        operation = op.decode()
        with self.lock:
            info = self.procs.get(target)
            if operation in ("unmonitor", "unlink"):
                if info is not None:
                    if operation == "unmonitor":
                        info.discard("monitors", me)
                    else:
                        info.discard("links", me)
                        mine = self.procs.get(me)
                        if mine is not None:
                            mine.discard("links", target)
                return (True,)
            if info is None:
                return None, b"NotFound", b"process not found"
            if operation == "monitor":
                info.add("monitors", me)
                return (True,)
            if operation == "link":
                mine = self.procs.get(me)
                if mine is None:
                    return None, b"NotFound", b"process not found"
                info.add("links", me)
                mine.add("links", target)
                return (True,)
        if operation == "terminate":
            info.shard.push((4, target.encode(), b"process terminated"))
            return (True,)
        if operation == "cancel":
            reason = extra.decode("utf-8", "surrogateescape") if isinstance(extra, bytes) else ""
            self.cancel(target, me, reason)
            return (True,)
        return None, b"Invalid", f"unknown operation {operation}".encode()

    def cancel(self, target: str, sender: str, reason: str) -> bool:
        event = {"kind": "pid.cancel", "from": sender, "at": time.time(), "reason": reason}
        return self.push_event(target, sender, event)

    def terminate(self, target: str, reason: str = "process terminated") -> bool:
        info = self.procs.get(target)
        if info is None:
            return False
        info.shard.push((4, target.encode(), reason.encode()))
        return True

    def names_from_lua(self, op: bytes, name_b: bytes, pid_b: bytes | None = None) -> tuple:
        name = name_b.decode("utf-8", "surrogateescape") if isinstance(name_b, bytes) else str(name_b)
        operation = op.decode()
        with self.lock:
            if operation == "lookup":
                pid = self.names.get(name)
                if pid is None:
                    return None, b"NotFound", b"name not registered"
                return (pid.encode(),)
            pid = pid_b.decode() if isinstance(pid_b, bytes) else None
            if operation == "register":
                holder = self.names.get(name)
                if holder is not None and holder != pid:
                    return None, b"AlreadyExists", b"name already registered"
                info = self.procs.get(pid) if pid else None
                if info is None:
                    return None, b"NotFound", b"process not found"
                self.names[name] = pid
                info.add("names", name)
                return (True,)
            if operation == "unregister":
                holder = self.names.get(name)
                if holder is None:
                    return (False,)
                del self.names[name]
                info = self.procs.get(holder)
                if info is not None:
                    info.discard("names", name)
                return (True,)
        return (False,)

    # ------------------------------------------------------------------ commands

    def command(self, shard: Any, pid: bytes, tag: int, name: bytes, args: tuple) -> tuple:
        handler = self.commands.get(name.decode())
        if handler is None:
            return True, None, shard.lua.new_error(b"Internal", b"unknown command " + name)
        return handler(shard, pid.decode(), tag, *args)

    def complete(self, pid: str, tag: int, *values: Any) -> None:
        """Finish an external command of a Lua process (any thread)."""
        info = self.procs.get(pid)
        if info is not None:
            info.shard.push((2, pid.encode(), tag, pack_values(list(values))))

    def runtime_log(self, message: str, **fields: Any) -> None:
        if self.log is not None:
            self.log.error(message, **fields)

    def lua_log(self, pid: bytes, level: bytes, message: bytes, fields: Any) -> None:
        if self.log is not None:
            self.log.lua(pid.decode(), level.decode(), message.decode("utf-8", "surrogateescape"), fields)

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        for scheduler in self.hosts.values():
            scheduler.stop()
        self.timers.stop()
        # a batch ends within milliseconds; a worker blocked in a terminal read is left
        deadline = time.monotonic() + 0.5
        for scheduler in self.hosts.values():
            scheduler.join(deadline)
