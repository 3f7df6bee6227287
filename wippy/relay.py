"""Message routing by PID: the local `Node`, the three-tier `Router`, and `Mailbox`.

A `Package` carries messages from one PID to another. Where it goes is decided by the
target PID alone (`wippy.pid`: `{node@host|uniq}`):

1. `Node` -- the local tier. Hosts (`node:control`, `app:processes`, an HTTP server,
   a function pool...) register as *receivers* under their host ID. `Node.send` refuses a
   target on another node ("cannot route to external node") or on an unknown host
   ("host not found"), and otherwise calls the host's `send(pkg)` synchronously: the
   host decides how to queue. Process hosts (the scheduler) queue without bound; the
   generic host below bounds its queues.
2. `Router` -- tiers in order: target node "" or the local node ID -> the local `Node`;
   a registered peer node (an external receiver such as a workflow bridge) -> that
   peer; the internode fallback (the cluster transport, None until a cluster exists)
   -> else "node not found". A peer may not claim the local node ID ("peer node
   conflicts with local node").

All routing failures are `RelayError(message)` with the reference's message strings.

Receiver contract: `send(pkg) -> bool | None`. `None`/`True` = accepted; `False` = "full,
nothing was queued, try again" (only bounded hosts such as `Mailbox` return it); errors
raise `RelayError`. Routing is plain synchronous code with no trio dependency, so Lua
worker threads route directly.

Mailbox (the generic async host)
--------------------------------
Used for hosts whose receivers live on the Python side (the control host `node:control`,
HTTP connection hosts). It owns N worker tasks, each with its own bounded FIFO of
`buffer` packages. A package goes to worker `xxh32(source PID) % N`, so one sender's
messages are delivered in order while different senders are delivered in parallel.
(The reference hashes with FNV-1a; any stable hash keeps the property, and xxh32 is a C
call.) A worker looks up the receiver attached to the target PID string and awaits it:
an `async def receiver(pkg)` or a `trio.MemorySendChannel` (awaits `send`). One attach
per PID ("receiver already attached"); no receiver -> debug log, dropped (counted).

Back-pressure, three ways in, one queue discipline: a worker's queue accepts a package
directly only when it has room AND nobody is already waiting for that worker; otherwise
the sender waits in that worker's FIFO of waiters, and the worker admits waiters in
order as it frees room. Hence no sender can overtake an earlier waiting message on the
same worker, and a sender's own messages stay ordered whichever entry point it uses.

* `await send_async(pkg)` (trio tasks): waits while full; cancellable (the package is
  then not queued); raises RelayError("mailbox stopped") if the mailbox stops first.
  Checkpoints like `MemorySendChannel.send`.
* `send(pkg) -> bool` (any thread, never blocks): True = queued; False = full, nothing
  queued (the caller retries later). This is the `Receiver.send` the Node calls.
* `send_threadsafe(pkg, on_done) -> bool` (any thread, never blocks; for the Lua worker
  threads): True = queued now, `on_done` will NOT be called. False = the package waits
  for room in the worker's FIFO; `on_done(None)` is called exactly once when it is
  accepted, or `on_done(RelayError("mailbox stopped"))` if the mailbox stops first.
  `on_done` runs on the trio thread and must only hand off (e.g. re-queue the
  suspended Lua process); it must not block.

Thread safety: queue/waiter mutations by senders happen under one `threading.Lock` held
for a few hundred nanoseconds; workers pop without it (deque ops are atomic). A sender
on a foreign thread wakes a parked worker through `TrioToken.run_sync_soon`, coalesced
per worker by a "kick pending" flag, so a burst costs one cross-thread wake-up.

Stopping: `stop()` (trio thread) rejects new sends, fails every waiting sender with
"mailbox stopped", and lets each worker deliver what it had already accepted, then end.
Hence every package is either delivered (or dropped for lack of a receiver, as
designed) or its sender got an error -- nothing is lost or delivered twice. Only if the
mailbox's task is *cancelled* before draining are accepted packages lost; that is
logged as a warning with the count.

XX: the reference pools Package/Message objects; Python allocation is cheap enough that
we do not. XX: an internode transport (NATS) plugs in as `Router.set_internode`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import outcome
import trio
import xxhash

from wippy.pid import PID, PidFormatError

__all__ = [
    "CONTROL_HOST",
    "DEFAULT_BUFFER",
    "DEFAULT_WORKERS",
    "Mailbox",
    "Message",
    "Node",
    "OnDone",
    "Package",
    "Receiver",
    "RelayError",
    "Router",
]

log = logging.getLogger("wippy.relay")

CONTROL_HOST = "node:control"
DEFAULT_BUFFER = 1024
DEFAULT_WORKERS = 16
_CHECKPOINT_EVERY = 64
_HASH_CACHE_MAX = 65536

OnDone = Callable[["RelayError | None"], Any]
AsyncReceiver = Callable[["Package"], Awaitable[Any]]


class RelayError(Exception):
    """A routing or delivery failure; `message` is the reference's text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class Message:
    topic: str
    payloads: list[Any] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Package:
    source: str
    target: str
    messages: list[Message] = field(default_factory=list)


class Receiver(Protocol):
    def send(self, pkg: Package) -> bool | None: ...


def _target(pid: str) -> PID:
    try:
        return PID.parse(pid)
    except PidFormatError as e:
        raise RelayError(str(e)) from None


class Node:
    """The local tier: host ID -> receiver."""

    def __init__(self, node_id: str = "local") -> None:
        self.node_id = node_id
        self._hosts: dict[str, Receiver] = {}
        self._lock = threading.Lock()

    def register(self, host_id: str, receiver: Receiver) -> None:
        with self._lock:
            if host_id in self._hosts:
                raise RelayError("host already exists")
            self._hosts[host_id] = receiver

    def unregister(self, host_id: str) -> bool:
        with self._lock:
            return self._hosts.pop(host_id, None) is not None

    def lookup(self, host_id: str) -> Receiver | None:
        return self._hosts.get(host_id)

    def hosts(self) -> list[str]:
        return list(self._hosts)

    def is_local(self, node: str) -> bool:
        return not node or node == self.node_id

    def route(self, target: str) -> Receiver:
        pid = _target(target)
        if pid.node and pid.node != self.node_id:
            raise RelayError("cannot route to external node")
        return self.host(pid.host)

    def host(self, host_id: str) -> Receiver:
        """The receiver registered under ``host_id``; raises RelayError."""
        rcv = self._hosts.get(host_id)
        if rcv is None:
            raise RelayError("host not found")
        return rcv

    def send(self, pkg: Package) -> bool | None:
        return self.route(pkg.target).send(pkg)


class Router:
    """Three tiers: local node, registered peers, internode fallback."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._peers: dict[str, Receiver] = {}
        self._internode: Receiver | None = None
        self._lock = threading.Lock()

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def register_peer(self, node_id: str, receiver: Receiver) -> None:
        if node_id == self.node.node_id or not node_id:
            raise RelayError("peer node conflicts with local node")
        with self._lock:
            if node_id in self._peers:
                raise RelayError("peer already exists")
            self._peers[node_id] = receiver

    def unregister_peer(self, node_id: str) -> bool:
        with self._lock:
            return self._peers.pop(node_id, None) is not None

    def set_internode(self, receiver: Receiver | None) -> None:
        self._internode = receiver

    def route(self, target: str) -> Receiver:
        """The receiver `target` goes to; raises RelayError."""
        pid = _target(target)
        node = pid.node
        if self.node.is_local(node):
            return self.node.host(pid.host)
        peer = self._peers.get(node)
        if peer is not None:
            return peer
        if self._internode is not None:
            return self._internode
        raise RelayError("node not found")

    def send(self, pkg: Package) -> bool | None:
        return self.route(pkg.target).send(pkg)


class _Waiter:
    __slots__ = ("pkg", "task", "on_done")

    def __init__(self, pkg: Package, task: trio.lowlevel.Task | None, on_done: OnDone | None) -> None:
        self.pkg = pkg
        self.task = task
        self.on_done = on_done


class _Worker:
    __slots__ = ("index", "queue", "waiters", "parked", "kick_pending")

    def __init__(self, index: int) -> None:
        self.index = index
        self.queue: deque[Package] = deque()
        self.waiters: deque[_Waiter] = deque()
        self.parked: trio.lowlevel.Task | None = None
        self.kick_pending = False


class Mailbox:
    """A bounded, worker-pooled host for Python-side receivers (see module docstring)."""

    def __init__(
        self, host_id: str = CONTROL_HOST, *, buffer: int = DEFAULT_BUFFER, workers: int = DEFAULT_WORKERS
    ) -> None:
        if buffer < 1 or workers < 1:
            raise ValueError("buffer and workers must be >= 1")
        self.host_id = host_id
        self.buffer = buffer
        self._workers = [_Worker(i) for i in range(workers)]
        self._n = workers
        self._receivers: dict[str, AsyncReceiver] = {}
        self._hash: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopped = False
        self._token: trio.lowlevel.TrioToken | None = None
        self._thread_id: int | None = None
        self._running = False
        self.delivered = 0
        self.dropped = 0  # no receiver attached
        self.lost = 0  # accepted but never delivered (mailbox task cancelled)

    # -- receivers -----------------------------------------------------------------------

    def attach(self, pid: str | PID, receiver: AsyncReceiver | trio.MemorySendChannel[Package]) -> None:
        key = str(pid)
        fn: AsyncReceiver = receiver.send if isinstance(receiver, trio.MemorySendChannel) else receiver
        with self._lock:
            if key in self._receivers:
                raise RelayError("receiver already attached")
            self._receivers[key] = fn

    def detach(self, pid: str | PID) -> bool:
        with self._lock:
            return self._receivers.pop(str(pid), None) is not None

    @property
    def stopped(self) -> bool:
        return self._stopped

    def worker_for(self, source: str) -> int:
        """Index of the worker that serialises `source`'s packages."""
        idx = self._hash.get(source)
        if idx is None:
            if len(self._hash) >= _HASH_CACHE_MAX:
                self._hash.clear()
            idx = xxhash.xxh32_intdigest(source.encode()) % self._n
            self._hash[source] = idx
        return idx

    # -- sending -------------------------------------------------------------------------

    def send(self, pkg: Package) -> bool:
        """Queue without blocking (any thread): True queued, False full (nothing queued)."""
        w = self._workers[self.worker_for(pkg.source)]
        with self._lock:
            if self._stopped:
                raise RelayError("mailbox stopped")
            if w.waiters or len(w.queue) >= self.buffer:
                return False
            w.queue.append(pkg)
        self._kick(w)
        return True

    def send_threadsafe(self, pkg: Package, on_done: OnDone) -> bool:
        """Queue or wait (any thread, never blocks). False -> `on_done(err|None)` later."""
        w = self._workers[self.worker_for(pkg.source)]
        with self._lock:
            if self._stopped:
                raise RelayError("mailbox stopped")
            if not w.waiters and len(w.queue) < self.buffer:
                w.queue.append(pkg)
                queued = True
            else:
                w.waiters.append(_Waiter(pkg, None, on_done))
                queued = False
        self._kick(w)
        return queued

    async def send_async(self, pkg: Package) -> None:
        """Queue, waiting while the sender's worker is full (trio thread)."""
        await trio.lowlevel.checkpoint_if_cancelled()
        w = self._workers[self.worker_for(pkg.source)]
        with self._lock:
            if self._stopped:
                raise RelayError("mailbox stopped")
            if not w.waiters and len(w.queue) < self.buffer:
                w.queue.append(pkg)
                waiter = None
            else:
                waiter = _Waiter(pkg, trio.lowlevel.current_task(), None)
                w.waiters.append(waiter)
        self._wake_worker(w)
        if waiter is None:
            await trio.lowlevel.cancel_shielded_checkpoint()
            return

        def abort(_rc: Any) -> trio.lowlevel.Abort:
            with self._lock:
                try:
                    w.waiters.remove(waiter)
                except ValueError:  # pragma: no cover - admitted entries are rescheduled first
                    return trio.lowlevel.Abort.FAILED
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    # -- lifecycle -----------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the workers until `stop()` and the drain that follows (`nursery.start`)."""
        if self._running:
            raise RuntimeError("mailbox already running")
        self._running = True
        self._token = trio.lowlevel.current_trio_token()
        self._thread_id = threading.get_ident()
        try:
            async with trio.open_nursery() as nursery:
                for w in self._workers:
                    nursery.start_soon(self._work, w)
                task_status.started()
        finally:
            self.stop()
            left = sum(len(w.queue) for w in self._workers)
            if left:
                self.lost += left
                log.warning("mailbox %s: %d accepted packages not delivered (cancelled)", self.host_id, left)
                for w in self._workers:
                    w.queue.clear()
            self._token = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Mailbox]:
        """`async with mailbox.running():` -- stopped (and drained) on exit."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self.run)
            try:
                yield self
            finally:
                self.stop()

    def stop(self) -> None:
        """Refuse new packages, fail waiting senders, drain accepted ones (trio thread)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            waiting: list[_Waiter] = []
            for w in self._workers:
                waiting.extend(w.waiters)
                w.waiters.clear()
        for waiter in waiting:
            self._finish(waiter, RelayError("mailbox stopped"))
        for w in self._workers:
            self._wake_worker(w)

    # -- machinery -----------------------------------------------------------------------

    @staticmethod
    def _finish(waiter: _Waiter, err: RelayError | None) -> None:
        if waiter.task is not None:
            trio.lowlevel.reschedule(waiter.task, outcome.Value(None) if err is None else outcome.Error(err))
            return
        assert waiter.on_done is not None
        try:
            waiter.on_done(err)
        except Exception:
            log.exception("mailbox: on_done callback failed")

    def _wake_worker(self, w: _Worker) -> None:
        task = w.parked
        if task is not None:
            w.parked = None
            trio.lowlevel.reschedule(task)

    def _kick(self, w: _Worker) -> None:
        if threading.get_ident() == self._thread_id:
            self._wake_worker(w)
            return
        token = self._token
        if token is None or w.kick_pending:
            return  # not running yet (workers look at their queue first) or a kick is due
        w.kick_pending = True
        try:
            token.run_sync_soon(self._trio_kick, w)
        except trio.RunFinishedError:
            w.kick_pending = False

    def _trio_kick(self, w: _Worker) -> None:
        w.kick_pending = False
        if w.waiters:
            self._admit(w)
        self._wake_worker(w)

    def _admit(self, w: _Worker) -> None:
        admitted: list[_Waiter] = []
        q = w.queue
        with self._lock:
            waiters = w.waiters
            while waiters and len(q) < self.buffer:
                waiter = waiters.popleft()
                q.append(waiter.pkg)
                admitted.append(waiter)
        for waiter in admitted:
            self._finish(waiter, None)

    def _park_abort(self, w: _Worker) -> Callable[[Any], trio.lowlevel.Abort]:
        def abort(_rc: Any) -> trio.lowlevel.Abort:
            w.parked = None
            return trio.lowlevel.Abort.SUCCEEDED

        return abort

    async def _work(self, w: _Worker) -> None:
        q = w.queue
        receivers = self._receivers
        abort = self._park_abort(w)
        budget = 0
        while True:
            if not q:
                if w.waiters:
                    self._admit(w)
                    continue
                if self._stopped:
                    return
                w.parked = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(abort)
                continue
            budget += 1
            if budget >= _CHECKPOINT_EVERY:
                budget = 0
                await trio.lowlevel.checkpoint()  # fairness: a fast stream cannot hog trio
                continue
            pkg = q.popleft()
            if w.waiters:
                self._admit(w)
            rcv = receivers.get(pkg.target)
            if rcv is None:
                self.dropped += 1
                log.debug("mailbox %s: no receiver for %s, dropped", self.host_id, pkg.target)
                continue
            try:
                await rcv(pkg)
                self.delivered += 1
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self.dropped += 1
                with self._lock:
                    if receivers.get(pkg.target) is rcv:
                        del receivers[pkg.target]
                log.debug("mailbox %s: receiver of %s closed, detached", self.host_id, pkg.target)
            except Exception:
                log.exception("mailbox %s: receiver of %s failed", self.host_id, pkg.target)
