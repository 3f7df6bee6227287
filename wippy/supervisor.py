"""The supervisor: keeps long-running services alive, in dependency order, like OTP.

What it is for
--------------
A Wippy application declares services (``process.service``, ``http.service``, hosts,
databases, ...) with a ``lifecycle`` block (spec §2.2). The supervisor starts the
``auto_start`` ones and everything they ``require``, each as soon as its requirements
are up, restarts a service that fails according to its restart policy, and on shutdown
stops them in reverse dependency order so that a dependent always goes before what it
depends on (the conformance app ``graceful-shutdown`` prints its cleanup lines as api,
cache, db because of that).

The contract (an OTP behaviour, in the small)
---------------------------------------------
The supervisor knows nothing about Lua, processes or sockets. A service is any object
with one method, :meth:`Service.start`, which returns a :class:`RunningService` handle
with three: ``wait()`` (returns an :class:`Exit` when the service ends), ``stop(reason)``
(a cooperative request, e.g. a CANCEL event with reason ``"service stopping"``) and
``terminate()`` (forced). The kind handlers implement these; everything else -- timeouts,
retries, backoff, ordering, state reporting -- lives here. Compared with the reference's
``Start(ctx) (<-chan any, error)`` the channel became ``wait()``: the status details the
channel streamed are not needed by anything we run, and an awaitable exit is the trio way.

Restart semantics (Erlang "transient", as the reference)
---------------------------------------------------------
* A normal exit is final: status ``exited``, never restarted (``oneshot`` in
  ``declarative-supervision``).
* An error exit, a failed ``start()`` or a start that exceeds ``start_timeout`` ("start
  timeout") is a failure: status ``failed`` with the error and the next delay, then a new
  ``start()`` after the delay of :class:`wippy.backoff.RestartPolicy` (exponential -- we
  deliberately fix the reference's constant-delay quirk, spec C13).
* An error marked non-retryable (``Exit(retryable=False)`` or :class:`ServiceError`
  with ``retryable=False``) is terminal: status ``exited``.
* ``max_attempts`` counts total starts (0 = unlimited); when they are used up the service
  stays ``failed``. A run that lasted at least ``stable_threshold`` before failing
  resets the count to 1 (that failure alone), so a service that crashes once a day is
  restarted forever with the initial delay.

Stopping follows the reference's process services: ``stop("service stopping")``, then
wait for the exit up to ``stop_timeout``. Unlike the reference, which leaves a stuck
service running and only reports "stop timeout", we then call ``terminate()`` (spec C7:
a service stop may use force after its stop timeout) and report ``failed`` with "stop
timeout after 10s" so the timeout stays visible.

Ordering
--------
Dependencies are the lifecycle's ``requires``/``depends_on`` plus extra ones the caller
passes to :meth:`Supervisor.add` (the reference also extracts references from the
registry entry, e.g. a service's ``host``). A batch start (``start_all``/``start``) first
checks the batch for a cycle ("dependency cycle: a -> b -> a") and refuses to start
anything if there is one. Then every service in the batch gets its own task, which waits
until its requirements have returned from their *first* ``start()`` and starts it; so
independent chains come up concurrently. A requirement that is not registered, or that
failed its first start, *blocks* its dependents (status ``failed``, "service blocked:
requires X", not retried); unrelated services start anyway. A failed requirement keeps
retrying in the background according to its own policy. Stopping computes dependency
levels and stops the highest level first, each level in parallel.

Reporting
---------
Each status change produces one :class:`ServiceState` passed to the injected
``on_change`` callback (the event bus plugs in there: ``supervisor``/``service.update``)
and one log line through the injected logger, e.g.::

    service app:flaky failed: boom; retry 2 in 200ms
    service app:doomed failed: boom; no more retries after 3 starts

Concurrency model
-----------------
One controller per service; its "life" (start, watch, back off, restart) is one task in
the nursery the supervisor was opened with. All state changes happen between trio
checkpoints, so no locks are needed: e.g. between ``start()`` returning and the handle
being recorded there is no checkpoint a concurrent ``stop()`` could slip into.

Life tasks run in shielded cancel scopes: cancelling the code around the supervisor (a
SIGINT handler, a test's ``move_on_after``) must not kill them silently and orphan what
they run. Leaving ``Supervisor.open`` is the only way out: it refuses new starts, stops
everything in order (shielded, bounded by the stop timeouts) and only then cancels
whatever is left.

XX: a ``start()`` that ignores cancellation holds up ``stop()`` (there is no handle to
terminate yet); the kind handlers must keep ``start()`` cancellable.
XX: services blocked at start are not started later when their requirement finally
comes up (the reference does not either); a dependency watcher could do that.
XX: removing a running service stops only that service, not its dependents.
XX: ``startup: optional`` is parsed but treated like ``required``.
"""

from __future__ import annotations

import enum
import logging
import random as _random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio

from wippy.backoff import RestartPolicy
from wippy.durations import DurationError, format_duration, to_seconds
from wippy.entry import resolve_ref

__all__ = [
    "STOP_REASON",
    "DependencyCycle",
    "Exit",
    "Lifecycle",
    "RestartPolicy",
    "RunningService",
    "Service",
    "ServiceError",
    "ServiceState",
    "StartResult",
    "Status",
    "Supervisor",
    "SupervisorError",
    "UnknownService",
]

STOP_REASON = "service stopping"
"""The reason passed to :meth:`RunningService.stop` (the CANCEL reason users see)."""

# After terminate(), how long to wait for the exit before abandoning the service.
_TERMINATE_GRACE = 1.0


# --------------------------------------------------------------------------- contract


@dataclass(frozen=True)
class Exit:
    """How a running service ended.

    ``normal`` exits are final. Otherwise ``error`` says why; ``retryable=False`` makes the
    error terminal (status ``exited``, no restart).
    """

    normal: bool
    error: str | None = None
    retryable: bool = True


class ServiceError(Exception):
    """Raised by :meth:`Service.start` to fail a start; ``retryable=False`` makes it terminal."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class RunningService(Protocol):
    """The handle of one successful start. Each restart gets a new handle."""

    async def wait(self) -> Exit:
        """Return when the service has ended (raising counts as an error exit)."""
        ...

    async def stop(self, reason: str) -> None:
        """Ask the service to stop (cooperatively); may return before it has ended."""
        ...

    async def terminate(self) -> None:
        """Force the service to end; called when ``stop_timeout`` has passed."""
        ...


class Service(Protocol):
    """Something the supervisor can start, any number of times."""

    async def start(self) -> RunningService:
        """Start one run. Raise to fail the start; must be safe to cancel (start timeout)."""
        ...


class Logger(Protocol):
    """What the supervisor needs from a logger; ``logging.Logger`` fits."""

    def log(self, level: int, msg: str, *args: Any, **kwargs: Any) -> None: ...


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class Lifecycle:
    """The ``lifecycle`` block of a service entry; durations are float seconds.

    ``requires`` is the union of ``requires`` and the legacy ``depends_on``, with bare
    names resolved in the service's namespace.
    """

    auto_start: bool = False
    startup: str = "required"
    start_timeout: float = 10.0
    stop_timeout: float = 10.0
    stable_threshold: float = 5.0
    requires: tuple[str, ...] = ()
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    security: Mapping[str, Any] | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None, *, namespace: str = "") -> Lifecycle:
        """Parse the YAML mapping. Numbers are seconds; absent or zero durations take the
        defaults. Errors are ``ValueError`` naming the field (``lifecycle.stop_timeout: ...``).
        """
        if config is None:
            return cls()
        if not isinstance(config, Mapping):
            raise ValueError(f"lifecycle: expected a mapping, got {type(config).__name__}")
        defaults = cls()

        def seconds(key: str, default: float) -> float:
            try:
                value = to_seconds(config.get(key), default=default)
            except DurationError as e:
                raise ValueError(f"lifecycle.{key}: {e}") from None
            if value < 0:
                raise ValueError(f"lifecycle.{key}: must not be negative")
            return value or default

        auto_start = config.get("auto_start", False)
        if not isinstance(auto_start, bool):
            raise ValueError(f"lifecycle.auto_start: expected true or false, got {auto_start!r}")
        startup = config.get("startup") or "required"
        if startup not in ("required", "optional"):
            raise ValueError(f"lifecycle.startup: expected required or optional, got {startup!r}")

        requires: list[str] = []
        for key in ("requires", "depends_on"):
            raw = config.get(key) or []
            if isinstance(raw, str):
                raw = [raw]
            if not isinstance(raw, list | tuple) or not all(isinstance(r, str) for r in raw):
                raise ValueError(f"lifecycle.{key}: expected a list of service IDs")
            for ref in raw:
                ref_id = resolve_ref(ref, namespace) if namespace else ref
                if ref_id not in requires:
                    requires.append(ref_id)

        security = config.get("security")
        if security is not None and not isinstance(security, Mapping):
            raise ValueError("lifecycle.security: expected a mapping")

        return cls(
            auto_start=auto_start,
            startup=startup,
            start_timeout=seconds("start_timeout", defaults.start_timeout),
            stop_timeout=seconds("stop_timeout", defaults.stop_timeout),
            stable_threshold=seconds("stable_threshold", defaults.stable_threshold),
            requires=tuple(requires),
            restart=RestartPolicy.from_config(config.get("restart")),
            security=security,
        )


# --------------------------------------------------------------------------- state


class Status(enum.StrEnum):
    UNKNOWN = "unknown"  # registered, never started
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    EXITED = "exited"  # ended for good: normal exit or terminal error
    FAILED = "failed"  # failed; retrying if next_delay is set, else given up or blocked


@dataclass(frozen=True)
class ServiceState:
    """One reported state of a service (the payload of ``service.update``).

    ``retry_count`` is the number of failed starts in a row; ``next_delay`` (seconds) is
    set while a restart is scheduled; ``desired`` is ``"running"`` or ``"stopped"``;
    ``time`` is the wall-clock time of the change.
    """

    id: str
    status: Status
    details: str = ""
    retry_count: int = 0
    next_delay: float | None = None
    desired: str = "stopped"
    time: float = 0.0

    def to_event(self) -> dict[str, Any]:
        """The ``service.update`` payload of the reference (``last_update`` in seconds)."""
        return {
            "status": self.status.value,
            "details": self.details,
            "desired": self.desired,
            "retry_count": self.retry_count,
            "next_delay": self.next_delay,
            "last_update": self.time,
        }


@dataclass
class StartResult:
    """What a batch start achieved; start failures are reported here, never raised."""

    started: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # id -> error of its first start
    blocked: dict[str, str] = field(default_factory=dict)  # id -> "service blocked: ..."

    @property
    def ok(self) -> bool:
        return not self.failed and not self.blocked


class SupervisorError(Exception):
    pass


class DependencyCycle(SupervisorError):
    def __init__(self, cycle: list[str]) -> None:
        super().__init__("dependency cycle: " + " -> ".join(cycle))
        self.cycle = cycle


class UnknownService(SupervisorError, KeyError):
    def __init__(self, service_id: str) -> None:
        super().__init__(f"service not found: {service_id}")
        self.service_id = service_id

    def __str__(self) -> str:
        return str(self.args[0])


# --------------------------------------------------------------------------- controller

_RUNNING = "running"
_STOPPED = "stopped"


class _Controller:
    """The supervision of one service: its life task, its state, its stop protocol."""

    def __init__(
        self,
        sup: Supervisor,
        service_id: str,
        service: Service,
        lifecycle: Lifecycle,
        extra_deps: tuple[str, ...],
    ) -> None:
        self.sup = sup
        self.id = service_id
        self.service = service
        self.lifecycle = lifecycle
        self.extra_deps = extra_deps
        self.desired = _STOPPED
        self.state = ServiceState(service_id, Status.UNKNOWN, time=time.time())
        self.retry_count = 0
        self._running: RunningService | None = None
        self._scope: trio.CancelScope | None = None
        self._done: trio.Event | None = None  # set when the current life task has ended
        self._first: trio.Event | None = None  # set at the first start outcome of this life
        self._first_error: str | None = None
        self._stop_done: trio.Event | None = None  # set when a stop in progress finishes

    # ---- queries

    @property
    def deps(self) -> tuple[str, ...]:
        return self.lifecycle.requires + tuple(d for d in self.extra_deps if d not in self.lifecycle.requires)

    @property
    def alive(self) -> bool:
        """A life task exists: starting, running or waiting to restart."""
        return self._done is not None and not self._done.is_set()

    # ---- reporting

    def change(
        self,
        status: Status,
        details: str = "",
        *,
        next_delay: float | None = None,
        note: str = "",
        level: int | None = None,
    ) -> None:
        self.state = ServiceState(
            self.id, status, details, self.retry_count, next_delay, self.desired, time.time()
        )
        self.sup._report(self.state, note, level)

    # ---- start

    async def start(self) -> str | None:
        """Make the service run; return None once a start succeeded, else the first error."""
        while self._stop_done is not None and not self._stop_done.is_set():
            await self._stop_done.wait()
        if self.sup._closing:
            return "supervisor is shutting down"
        if not self.alive:
            self.desired = _RUNNING
            self.retry_count = 0
            self._first = trio.Event()
            self._first_error = None
            self._done = trio.Event()
            # Shielded: cancelling whoever called start() (or the scope around the
            # supervisor) must not silently kill the life task and orphan the running
            # service; only stop() and Supervisor shutdown end a life.
            self._scope = trio.CancelScope(shield=True)
            self.sup._nursery.start_soon(self._live, self._scope, self._first, self._done)
        assert self._first is not None
        await self._first.wait()
        return self._first_error

    async def _live(self, scope: trio.CancelScope, first: trio.Event, done: trio.Event) -> None:
        try:
            with scope:
                await self._supervise(first)
        finally:
            self._running = None
            if not first.is_set():
                self._first_error = self._first_error or "stopped before it started"
                first.set()
            done.set()

    async def _supervise(self, first: trio.Event) -> None:
        lc = self.lifecycle
        policy = lc.restart
        while True:
            self.change(Status.STARTING, f"attempt {self.retry_count + 1}")
            error: str | None = None
            retryable = True
            try:
                with trio.fail_after(lc.start_timeout):
                    running = await self.service.start()
            except trio.TooSlowError:
                error = "start timeout"
            except ServiceError as e:
                error, retryable = _describe(e), e.retryable
            except Exception as e:
                error = _describe(e)

            ran = 0.0
            if error is None:
                # No checkpoint between start() returning and here: a concurrent stop()
                # either cancelled start() or sees the handle.
                self._running = running
                self._first_error = None
                started_at = trio.current_time()
                first.set()
                self.change(Status.RUNNING)
                try:
                    outcome = await running.wait()
                except Exception as e:
                    outcome = Exit(normal=False, error=_describe(e))
                self._running = None
                ran = trio.current_time() - started_at
                if self.desired != _RUNNING:
                    return  # stop() reports the end
                if outcome.normal:
                    self.change(Status.EXITED, outcome.error or "service exited")
                    return
                error = outcome.error or "service failed"
                retryable = outcome.retryable
            else:
                self._first_error = error
                first.set()

            if not retryable:
                self.change(Status.EXITED, error, level=logging.WARNING)
                return
            self.retry_count = 1 if ran >= lc.stable_threshold else self.retry_count + 1
            if not policy.may_retry(self.retry_count):
                self.change(
                    Status.FAILED,
                    error,
                    level=logging.ERROR,
                    note=f"no more retries after {self.retry_count} starts",
                )
                return
            delay = policy.delay(self.retry_count, self.sup._rng)
            self.change(
                Status.FAILED,
                error,
                next_delay=delay,
                note=f"retry {self.retry_count + 1} in {format_duration(delay)}",
            )
            await trio.sleep(delay)

    # ---- stop

    async def stop(self, reason: str = STOP_REASON) -> None:
        """Stop the service if it is alive; return when it has ended (or been abandoned)."""
        if self._stop_done is not None and not self._stop_done.is_set():
            await self._stop_done.wait()
            return
        self.desired = _STOPPED
        if not self.alive:
            return
        done, scope = self._done, self._scope
        assert done is not None and scope is not None
        stop_done = self._stop_done = trio.Event()
        try:
            self.change(Status.STOPPING, reason)
            running = self._running
            if running is None:
                # Starting or waiting to restart: there is nothing to ask, just cancel.
                scope.cancel()
                await done.wait()
                self.change(Status.STOPPED)
                return
            timeout = self.lifecycle.stop_timeout
            with trio.move_on_after(timeout):
                try:
                    await running.stop(reason)
                except Exception as e:
                    self.sup._log(
                        logging.WARNING, f"service {self.id} stop request failed: {_describe(e)}", self.state
                    )
                await done.wait()
            if done.is_set():
                self.change(Status.STOPPED)
                return
            self.sup._log(
                logging.WARNING,
                f"service {self.id} did not stop within {format_duration(timeout)}; terminating",
                self.state,
            )
            with trio.move_on_after(max(timeout, _TERMINATE_GRACE)):
                try:
                    await running.terminate()
                except Exception as e:
                    self.sup._log(
                        logging.ERROR, f"service {self.id} terminate failed: {_describe(e)}", self.state
                    )
                with trio.move_on_after(_TERMINATE_GRACE):
                    await done.wait()
            scope.cancel()  # abandon wait() if the service is still stuck
            await done.wait()
            self.change(Status.FAILED, f"stop timeout after {format_duration(timeout)}", level=logging.ERROR)
        finally:
            stop_done.set()

    def abandon(self) -> None:
        self.desired = _STOPPED
        if self._scope is not None:
            self._scope.cancel()

    def block(self, reason: str) -> None:
        self.change(Status.FAILED, reason, level=logging.ERROR)


def _describe(e: BaseException) -> str:
    text = str(e)
    return text if text else type(e).__name__


# --------------------------------------------------------------------------- supervisor

_LEVELS: dict[Status, int] = {Status.FAILED: logging.WARNING}


class Supervisor:
    """Starts, watches, restarts and stops services. Open it with :meth:`open`.

    ``on_change`` gets every :class:`ServiceState` change (synchronously, in order; it
    must not block; exceptions are logged and ignored). ``logger`` gets one line per
    change. ``rng`` drives the jitter (inject a seeded one for reproducible delays).
    """

    def __init__(
        self,
        nursery: trio.Nursery,
        *,
        on_change: Callable[[ServiceState], None] | None = None,
        logger: Logger | None = None,
        rng: _random.Random | None = None,
    ) -> None:
        self._nursery = nursery
        self._on_change = on_change
        self._logger: Logger = logger or logging.getLogger("wippy.supervisor")
        self._rng = rng or _random.Random()
        self._controllers: dict[str, _Controller] = {}
        self._closing = False  # set when the supervisor shuts down: no new starts

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        *,
        on_change: Callable[[ServiceState], None] | None = None,
        logger: Logger | None = None,
        rng: _random.Random | None = None,
    ) -> AsyncIterator[Supervisor]:
        """Run a supervisor for the duration of the block; leaving it stops every service
        (gracefully, in reverse dependency order, even when the block is cancelled).
        """
        # The block's own exception is carried past the nursery and re-raised as itself,
        # so callers do not get their errors wrapped in an ExceptionGroup.
        body_error: BaseException | None = None
        async with trio.open_nursery() as nursery:
            sup = cls(nursery, on_change=on_change, logger=logger, rng=rng)
            try:
                yield sup
            except BaseException as e:
                body_error = e
            finally:
                sup._closing = True
                with trio.CancelScope(shield=True):
                    await sup.stop_all()
                sup._abandon()
                nursery.cancel_scope.cancel()
        if body_error is not None:
            raise body_error

    # ---- registration

    def add(
        self,
        service_id: str,
        service: Service,
        lifecycle: Lifecycle | None = None,
        *,
        depends_on: Iterable[str] = (),
    ) -> None:
        """Register a service (status ``unknown``; nothing starts).

        ``depends_on`` adds dependencies found elsewhere in the entry (e.g. its host); unlike
        ``lifecycle.requires`` they are ignored when not registered.
        """
        if service_id in self._controllers:
            raise SupervisorError(f"service already registered: {service_id}")
        self._controllers[service_id] = _Controller(
            self, service_id, service, lifecycle or Lifecycle(), tuple(depends_on)
        )

    async def remove(self, service_id: str) -> None:
        """Stop the service if it runs, then forget it."""
        ctl = self._get(service_id)
        await ctl.stop()
        if self._controllers.get(service_id) is ctl:
            del self._controllers[service_id]

    def __contains__(self, service_id: object) -> bool:
        return service_id in self._controllers

    def state(self, service_id: str) -> ServiceState:
        return self._get(service_id).state

    def states(self) -> dict[str, ServiceState]:
        return {sid: ctl.state for sid, ctl in sorted(self._controllers.items())}

    # ---- starting

    async def start_all(self) -> StartResult:
        """Start every ``auto_start`` service and what it requires (transitively)."""
        roots = [sid for sid, ctl in sorted(self._controllers.items()) if ctl.lifecycle.auto_start]
        return await self._start_batch(roots)

    async def start(self, service_id: str) -> StartResult:
        """Start one service, after what it requires (transitively)."""
        self._get(service_id)
        return await self._start_batch([service_id])

    async def _start_batch(self, roots: list[str]) -> StartResult:
        batch = self._closure(roots, lambda ctl: self._known_deps(ctl))
        cycle = self._find_cycle(batch)
        if cycle:
            err = DependencyCycle(cycle)
            self._log(logging.ERROR, str(err), None)
            raise err

        result = StartResult()
        root_set = set(roots)
        settled = {sid: trio.Event() for sid in batch}
        failed: set[str] = set()

        async def bring_up(sid: str) -> None:
            ctl = self._controllers[sid]
            try:
                if ctl.state.status is Status.RUNNING:
                    result.started.append(sid)
                    return
                if ctl.state.status is Status.EXITED and sid not in root_set:
                    # A finished job (e.g. a migration) satisfies its dependents; it is
                    # run again only when asked for by name.
                    result.started.append(sid)
                    return
                for dep in ctl.lifecycle.requires:
                    if dep not in self._controllers:
                        ctl.block(f"service blocked: requires {dep}")
                        result.blocked[sid] = ctl.state.details
                        failed.add(sid)
                        return
                for dep in self._known_deps(ctl):
                    await settled[dep].wait()
                    if dep in failed:
                        ctl.block(f"service blocked: requires {dep}, which did not start")
                        result.blocked[sid] = ctl.state.details
                        failed.add(sid)
                        return
                error = await ctl.start()
                if error is None:
                    result.started.append(sid)
                else:
                    result.failed[sid] = error
                    failed.add(sid)
            finally:
                settled[sid].set()

        async with trio.open_nursery() as nursery:
            for sid in batch:
                nursery.start_soon(bring_up, sid)
        result.started.sort()
        return result

    # ---- stopping

    async def stop_all(self) -> None:
        """Stop every live service, dependents before their requirements."""
        await self._stop_batch([sid for sid, ctl in self._controllers.items() if ctl.alive])

    async def stop(self, service_id: str) -> None:
        """Stop one service, after every live service that (transitively) requires it."""
        self._get(service_id)
        dependents: dict[str, list[str]] = {}
        for sid, ctl in self._controllers.items():
            for dep in self._known_deps(ctl):
                dependents.setdefault(dep, []).append(sid)
        batch = self._closure([service_id], lambda ctl: dependents.get(ctl.id, []))
        await self._stop_batch([sid for sid in batch if sid == service_id or self._controllers[sid].alive])

    async def _stop_batch(self, ids: list[str]) -> None:
        levels = self._levels()
        by_level: dict[int, list[str]] = {}
        for sid in ids:
            by_level.setdefault(levels[sid], []).append(sid)
        for level in sorted(by_level, reverse=True):
            async with trio.open_nursery() as nursery:
                for sid in sorted(by_level[level]):
                    nursery.start_soon(self._controllers[sid].stop)

    def _abandon(self) -> None:
        """Cancel every life task still there (a start that raced with shutdown)."""
        for ctl in self._controllers.values():
            ctl.abandon()

    # ---- graph helpers

    def _get(self, service_id: str) -> _Controller:
        try:
            return self._controllers[service_id]
        except KeyError:
            raise UnknownService(service_id) from None

    def _known_deps(self, ctl: _Controller) -> list[str]:
        return [d for d in ctl.deps if d in self._controllers]

    def _closure(self, roots: list[str], edges: Callable[[_Controller], Iterable[str]]) -> list[str]:
        seen: dict[str, None] = {}
        stack = list(reversed(roots))
        while stack:
            sid = stack.pop()
            if sid in seen or sid not in self._controllers:
                continue
            seen[sid] = None
            stack.extend(reversed(list(edges(self._controllers[sid]))))
        return list(seen)

    def _find_cycle(self, ids: list[str]) -> list[str] | None:
        """The first dependency cycle reachable from ``ids``, as ``[a, b, a]``."""
        on_path: list[str] = []
        state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

        def visit(sid: str) -> list[str] | None:
            state[sid] = 1
            on_path.append(sid)
            for dep in self._known_deps(self._controllers[sid]):
                if state.get(dep) == 1:
                    return on_path[on_path.index(dep) :] + [dep]
                if dep not in state:
                    found = visit(dep)
                    if found:
                        return found
            on_path.pop()
            state[sid] = 2
            return None

        for sid in sorted(ids):
            if sid not in state:
                found = visit(sid)
                if found:
                    return found
        return None

    def _levels(self) -> dict[str, int]:
        """Dependency level of every service: 0 without dependencies, else 1 + the deepest."""
        levels: dict[str, int] = {}
        visiting: set[str] = set()

        def level(sid: str) -> int:
            if sid in levels:
                return levels[sid]
            if sid in visiting:  # a cycle (never started); break it anywhere
                return 0
            visiting.add(sid)
            deps = self._known_deps(self._controllers[sid])
            value = 1 + max((level(d) for d in deps), default=-1)
            visiting.discard(sid)
            levels[sid] = value
            return value

        for sid in self._controllers:
            level(sid)
        return levels

    # ---- reporting

    def _report(self, state: ServiceState, note: str, level: int | None) -> None:
        text = f"service {state.id} {state.status.value}"
        if state.details:
            text += f": {state.details}"
        if note:
            text += f"; {note}"
        self._log(level if level is not None else _LEVELS.get(state.status, logging.INFO), text, state)
        if self._on_change is not None:
            try:
                self._on_change(state)
            except Exception:
                self._logger.log(logging.ERROR, "supervisor: on_change callback failed", exc_info=True)

    def _log(self, level: int, text: str, state: ServiceState | None) -> None:
        extra: dict[str, Any] = {}
        if state is not None:
            extra = {"service": state.id, "status": state.status.value, "retry_count": state.retry_count}
            if state.next_delay is not None:
                extra["next_delay"] = state.next_delay
        self._logger.log(level, text, extra=extra)
