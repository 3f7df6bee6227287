"""The control-plane event bus: one dispatcher, many pattern subscribers.

Registry changes, service states, host registration handshakes and process lifecycle
are published here as `Event(system, kind, path, data)`. `data` is a live Python value
(an error, an entry, a receiver) and is never serialised.

Shape (after the reference's `system/eventbus`)
-----------------------------------------------
Every operation -- `subscribe`, `unsubscribe`, `send`, `close` -- is appended to ONE
action queue (a `collections.deque`: `append` is atomic under the GIL, so any thread may
call them) and a single dispatcher task, started by `async with bus.running():` or
`await nursery.start(bus.run)`, consumes that queue in FIFO order. Hence the four
operations are totally ordered: an event sent after `subscribe()` returned (in the same
thread) reaches that subscriber; an event sent after `unsubscribe()` returned does not.

`subscribe`/`unsubscribe` are plain (synchronous) methods: they validate at once (cap,
closed bus), enqueue the action and return. Nothing needs to be awaited because the
ordering guarantee comes from the single queue, not from an acknowledgement. They work
before the bus runs; queued actions are applied when the dispatcher starts.

Waking the dispatcher costs one `TrioToken.run_sync_soon` from a foreign thread or a
direct `reschedule` on the trio thread, and wake-ups are coalesced by a "wake pending"
flag: while the dispatcher has not yet started draining, further sends only append.
So a burst of N sends costs N deque appends plus one wake-up.

Batching (the per-event cost)
-----------------------------
The dispatcher drains everything queued in one pass. For each event it looks up the
tuple of matching subscriptions in a route cache keyed by `(system, kind)` -- patterns
are compiled once (`wippy.wildcard`) and the match is computed once per distinct key, not
per event. Consecutive events with the same route are gathered into a run and handed to
each subscriber with one `deque.extend` (C speed), then the subscriber's parked task, if
any, is rescheduled once. With a steady topic the dispatcher's cost per delivery is a
fraction of a microsecond. Per-subscriber order is the publish order (a run is flushed
as soon as the route changes).

Slow subscribers: drop-oldest
-----------------------------
The reference delivers with a blocking channel send, so one slow subscriber stalls the
whole bus. Here each subscription has its own bounded buffer (default 1024) and the
dispatcher never waits for anybody. When a buffer is full the OLDEST buffered events are
discarded (`deque(maxlen=...)`), `Subscription.dropped` counts them and a warning is
logged at most once per second per subscription with the number lost since the last
warning. Drop-oldest was chosen over disconnecting because the bus is a control plane
observed on a best-effort basis (the spec calls Lua `events` "observation only, best
effort"): a subscriber that falls behind during a burst usually cares about the latest
state (a service's current status, the last registry version), and disconnecting would
silently kill long-lived bridges such as the Lua events dispatcher or a log streamer,
which then would have to notice and resubscribe. A subscriber that must not lose events
sizes its buffer (`buffer=`) for its worst burst and watches `dropped`.

Consuming
---------
* async iterator (one consuming task at a time; `with bus.subscribe(...) as sub:`
  unsubscribes on exit): `async for ev in sub:` (or `async for batch in sub.batches():` /
  `await sub.receive_batch()` to take everything buffered at once). Iteration ends
  after `unsubscribe()`/`close()` once the events that preceded it are consumed.
  `__anext__` returns buffered events without yielding to the scheduler (at most
  `buffer` items between two yields, because the dispatcher can only refill while the
  consumer is parked or awaiting something else); it parks when the buffer is empty.
* callback: `subscribe(..., handler=fn)`; `fn(event)` may be a plain function or an
  `async def`. The bus runs one task per handler subscription (in its nursery) that
  calls the handler sequentially -- like the reference's `Subscriber` helper. A handler
  exception is logged and the handler keeps receiving.

Kind `""` or `"*"` means every kind; system `""` means every system. Cap: 4096 live
subscriptions ("eventbus subscribers cap reached"). After `close()`: `subscribe` raises
"bus is closed", `send` drops silently; events sent before `close()` are still delivered.

`lua_match(pattern, value)` is the *other* matcher, the one Lua's `events.subscribe`
uses (spec C11): `*` or `""` matches anything, a trailing `*` is a plain string prefix,
anything else is exact.

XX: the AwaitService (request/reply over the bus) and the Lua bridge live elsewhere and
are built on `subscribe` with a handler.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import trio

from wippy import wildcard

__all__ = [
    "DEFAULT_BUFFER",
    "MAX_SUBSCRIBERS",
    "Event",
    "EventBus",
    "EventBusError",
    "Handler",
    "Subscription",
    "lua_match",
]

log = logging.getLogger("wippy.eventbus")

DEFAULT_BUFFER = 1024
MAX_SUBSCRIBERS = 4096
_ROUTE_CACHE_MAX = 65536
_WARN_INTERVAL = 1.0

Handler = Callable[["Event"], Any] | Callable[["Event"], Awaitable[Any]]


class Event(NamedTuple):
    """One bus event. `data` is any Python value (never serialised)."""

    system: str
    kind: str
    path: str = ""
    data: Any = None


class EventBusError(Exception):
    """Subscribing failed: "bus is closed" or "eventbus subscribers cap reached"."""


def lua_match(pattern: str, value: str) -> bool:
    """The Lua `events` matcher (C11): `*`/"" any; trailing `*` = prefix; else exact."""
    if pattern == "" or pattern == "*":
        return True
    if pattern[-1] == "*":
        return value.startswith(pattern[:-1])
    return pattern == value


class Subscription:
    """A live subscription: an async iterator of `Event`s (or fed to a handler)."""

    __slots__ = (
        "id",
        "system",
        "kind",
        "handler",
        "dropped",
        "_bus",
        "_sys_match",
        "_kind_match",
        "_queue",
        "_cap",
        "_waiter",
        "_ended",
        "_unsubscribed",
        "_unreported",
        "_last_warn",
    )

    def __init__(
        self, bus: EventBus, sid: str, system: str, kind: str, buffer: int, handler: Handler | None
    ) -> None:
        self.id = sid
        self.system = system
        self.kind = kind
        self.handler = handler
        self.dropped = 0
        self._bus = bus
        self._sys_match = wildcard.compile(system).match
        self._kind_match = wildcard.compile("" if kind == "*" else kind).match
        self._queue: deque[Event] = deque(maxlen=buffer)
        self._cap = buffer
        self._waiter: trio.lowlevel.Task | None = None
        self._ended = False  # no more events will be appended
        self._unsubscribed = False
        self._unreported = 0
        self._last_warn = 0.0

    def __repr__(self) -> str:
        return f"<Subscription {self.id} system={self.system!r} kind={self.kind!r}>"

    def matches(self, system: str, kind: str) -> bool:
        return self._sys_match(system) and self._kind_match(kind)

    @property
    def closed(self) -> bool:
        """True once the subscription will receive nothing more (buffer may still hold events)."""
        return self._ended

    def close(self) -> None:
        """Unsubscribe (same as `bus.unsubscribe(self)`)."""
        self._bus.unsubscribe(self)

    # -- consumer side (trio thread) -----------------------------------------------------

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    async def _wait(self) -> None:
        if self._waiter is not None:
            raise trio.BusyResourceError("another task is already receiving from this subscription")
        while not self._queue and not self._ended:
            self._waiter = trio.lowlevel.current_task()

            def abort(_rc: Any) -> trio.lowlevel.Abort:
                self._waiter = None
                return trio.lowlevel.Abort.SUCCEEDED

            await trio.lowlevel.wait_task_rescheduled(abort)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        q = self._queue
        if not q:
            await self._wait()
            if not q:
                raise StopAsyncIteration
        return q.popleft()

    def drain_nowait(self) -> list[Event]:
        """Take every buffered event without waiting (possibly [])."""
        q = self._queue
        out = list(q)
        q.clear()
        return out

    async def receive_batch(self) -> list[Event]:
        """Wait for at least one event and take all buffered; [] means the end."""
        if not self._queue:
            await self._wait()
        else:
            await trio.lowlevel.checkpoint_if_cancelled()
        return self.drain_nowait()

    async def batches(self) -> AsyncIterator[list[Event]]:
        while True:
            batch = await self.receive_batch()
            if not batch:
                return
            yield batch

    # -- dispatcher side ---------------------------------------------------------------

    def _note_drops(self, n: int) -> None:
        self.dropped += n
        self._unreported += n
        now = time.monotonic()
        if now - self._last_warn >= _WARN_INTERVAL:
            log.warning(
                "eventbus: slow subscriber %s (system=%r kind=%r) dropped %d oldest events (%d total)",
                self.id,
                self.system,
                self.kind,
                self._unreported,
                self.dropped,
            )
            self._unreported = 0
            self._last_warn = now

    def _end(self) -> None:
        self._ended = True
        w = self._waiter
        if w is not None:
            self._waiter = None
            trio.lowlevel.reschedule(w)


class _Action:
    __slots__ = ("op", "sub")

    def __init__(self, op: str, sub: Subscription | None) -> None:
        self.op = op  # "sub" | "unsub" | "stop"
        self.sub = sub


class EventBus:
    """Pub/sub with one dispatcher task. See the module docstring for the contract."""

    def __init__(self, *, max_subscribers: int = MAX_SUBSCRIBERS, buffer: int = DEFAULT_BUFFER) -> None:
        self._max = max_subscribers
        self._buffer = buffer
        self._actions: deque[Any] = deque()
        self._wake_pending = False
        self._parked: trio.lowlevel.Task | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._thread_id: int | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._live = 0
        self._ids = itertools.count(1)
        self._subs: list[Subscription] = []
        self._routes: dict[tuple[str, str], tuple[Subscription, ...]] = {}
        self._nursery: trio.Nursery | None = None
        self._running = False

    # -- public API ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def subscriber_count(self) -> int:
        """Live subscriptions (accepted by `subscribe`, not yet unsubscribed)."""
        return self._live

    def subscribe(
        self,
        system: str = "",
        kind: str = "",
        *,
        handler: Handler | None = None,
        buffer: int | None = None,
    ) -> Subscription:
        """Subscribe to events whose system/kind match the patterns. Any thread.

        Without `handler`, iterate the returned `Subscription`. With `handler`
        (sync or async callable), the bus calls it for each event from its own task.
        Raises `EventBusError("bus is closed" | "eventbus subscribers cap reached")`.
        """
        size = self._buffer if buffer is None else buffer
        if size < 1:
            raise ValueError("buffer must be >= 1")
        with self._lock:
            if self._closed:
                raise EventBusError("bus is closed")
            if self._live >= self._max:
                raise EventBusError("eventbus subscribers cap reached")
            self._live += 1
            sid = f"sub.{next(self._ids)}"
        sub = Subscription(self, sid, system, kind, size, handler)
        self._enqueue(_Action("sub", sub))
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivery to `sub` (idempotent). Events sent earlier are still delivered."""
        with self._lock:
            if sub._unsubscribed or sub._bus is not self:
                return
            sub._unsubscribed = True
            self._live -= 1
            if self._closed:
                return  # the stop action ends every subscription anyway
        self._enqueue(_Action("unsub", sub))

    def send(self, event: Event) -> None:
        """Publish; never blocks, any thread. Dropped silently after `close()`."""
        if event.__class__ is not Event:
            raise TypeError(f"EventBus.send expects an Event, got {type(event).__name__}")
        if self._closed:
            return
        self._actions.append(event)
        if not self._wake_pending:
            self._wake_pending = True
            self._signal()

    def publish(self, system: str, kind: str, path: str = "", data: Any = None) -> None:
        """`send(Event(system, kind, path, data))`."""
        self.send(Event(system, kind, path, data))

    def close(self) -> None:
        """Stop accepting subscriptions and sends; ends every subscription. Any thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._enqueue(_Action("stop", None))

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the dispatcher until `close()` (use with `nursery.start`)."""
        if self._running:
            raise RuntimeError("event bus already running")
        self._running = True
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._token = trio.lowlevel.current_trio_token()
                self._thread_id = threading.get_ident()
                task_status.started()
                await self._dispatch_loop()
        finally:
            with self._lock:
                self._closed = True
            self._token = None
            self._nursery = None
            for sub in self._subs:
                sub._end()
            self._subs.clear()
            # subscriptions whose "sub" action never got processed must end too
            while self._actions:
                item = self._actions.popleft()
                if item.__class__ is _Action and item.sub is not None:
                    item.sub._end()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[EventBus]:
        """`async with bus.running():` -- dispatcher runs inside; closed on exit."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self.run)
            try:
                yield self
            finally:
                self.close()

    # -- machinery -----------------------------------------------------------------------

    def _enqueue(self, action: _Action) -> None:
        self._actions.append(action)
        if not self._wake_pending:
            self._wake_pending = True
            self._signal()

    def _signal(self) -> None:
        token = self._token
        if token is None:
            return  # not running yet: run() drains whatever was queued
        if threading.get_ident() == self._thread_id:
            self._wake()
            return
        try:
            token.run_sync_soon(self._wake)
        except trio.RunFinishedError:
            pass

    def _wake(self) -> None:
        task = self._parked
        if task is not None:
            self._parked = None
            trio.lowlevel.reschedule(task)

    def _park_abort(self, _rc: Any) -> trio.lowlevel.Abort:
        self._parked = None
        return trio.lowlevel.Abort.SUCCEEDED

    async def _dispatch_loop(self) -> None:
        actions = self._actions
        while True:
            self._wake_pending = False
            if not actions:
                self._parked = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(self._park_abort)
                continue
            if self._process(actions, len(actions)):
                return
            # let subscribers (and everybody else) run between batches
            await trio.lowlevel.checkpoint()

    def _process(self, actions: deque[Any], n: int) -> bool:
        pop = actions.popleft
        routes = self._routes
        cur: tuple[Subscription, ...] | None = None
        run: list[Event] = []
        deliver = self._deliver
        for _ in range(n):
            item = pop()
            if item.__class__ is Event:
                targets = routes.get((item[0], item[1]))
                if targets is None:
                    targets = self._resolve(item[0], item[1])
                if not targets:
                    continue
                if targets is cur:
                    run.append(item)
                else:
                    if run:
                        deliver(cur, run)  # type: ignore[arg-type]
                    cur = targets
                    run = [item]
                continue
            if run:
                deliver(cur, run)  # type: ignore[arg-type]
                run = []
                cur = None
            if self._apply(item):
                return True
        if run:
            deliver(cur, run)  # type: ignore[arg-type]
        return False

    @staticmethod
    def _deliver(targets: tuple[Subscription, ...], run: list[Event]) -> None:
        n = len(run)
        reschedule = trio.lowlevel.reschedule
        for sub in targets:
            q = sub._queue
            over = len(q) + n - sub._cap
            q.extend(run)
            if over > 0:
                sub._note_drops(over)
            w = sub._waiter
            if w is not None:
                sub._waiter = None
                reschedule(w)

    def _resolve(self, system: str, kind: str) -> tuple[Subscription, ...]:
        routes = self._routes
        if len(routes) >= _ROUTE_CACHE_MAX:
            routes.clear()
        targets = tuple(s for s in self._subs if s._sys_match(system) and s._kind_match(kind))
        routes[(system, kind)] = targets
        return targets

    def _apply(self, action: _Action) -> bool:
        sub = action.sub
        if action.op == "sub":
            assert sub is not None
            self._subs.append(sub)
            self._routes.clear()
            if sub.handler is not None:
                assert self._nursery is not None
                self._nursery.start_soon(self._run_handler, sub)
            return False
        if action.op == "unsub":
            assert sub is not None
            try:
                self._subs.remove(sub)
            except ValueError:
                pass
            self._routes.clear()
            sub._end()
            return False
        # stop
        for s in self._subs:
            s._end()
        self._subs.clear()
        self._routes.clear()
        return True

    @staticmethod
    async def _run_handler(sub: Subscription) -> None:
        handler = sub.handler
        assert handler is not None
        is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004 - async callable objects
        )
        q = sub._queue
        while True:
            if not q:
                await sub._wait()
                if not q:
                    return
            # one at a time: a blocked handler holds one event, the rest stay bounded
            ev = q.popleft()
            try:
                if is_async:
                    await handler(ev)  # type: ignore[misc]
                else:
                    handler(ev)
            except Exception:
                log.exception("eventbus: handler of %s failed on %s/%s", sub.id, ev.system, ev.kind)
