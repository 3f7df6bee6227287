"""Service mode: `wippy run` without `-x` keeps the project's services running.

What happens
------------
:func:`serve` opens a :class:`wippy.supervisor.Supervisor`, registers one supervised
service per service-like registry entry, starts the ``auto_start`` ones (with what they
require), logs ``running`` and then waits for SIGINT/SIGTERM
(:class:`wippy.signals.ShutdownSignals`). The first signal stops every service in
reverse dependency order, bounded by the config's ``shutdown.timeout`` (30 s); a second
signal exits at once (130/143, done by ``ShutdownSignals``). A graceful stop returns 0.
If the bounded stop runs out of time we log it and leave the OS process at once with
code 1: the supervisor's own stop of a stuck service is shielded (it waits for its
``stop_timeout`` and a terminate), and a Lua loop that never yields cannot be
interrupted at all, so there is no cleaner way to keep the promise of the bound.

Every state change of a service is one log line (component ``supervisor``) and one
``supervisor``/``service.update`` event on the runtime's bus (path = service id, data =
:meth:`ServiceState.to_event`).

The kinds
---------
* ``process.service`` -> :class:`ProcessService`. ``start()`` spawns ``data.process`` on
  ``data.host`` (bare names resolved in the entry's namespace) with ``data.input`` as the
  arguments of its main, watched through the node's Python exit watcher (called on a
  worker thread, hopped onto trio with ``runtime.call_soon``). It returns at once: a
  spawned process is a running service, as in the reference (a dependent is started when
  its requirement's process exists, not when its main has done anything). The exit
  decides: a normal return is final ("service exited"), an error is
  ``process failed: <error>`` and restarted per the restart policy (terminal when the
  Lua error says ``retryable = false``). ``stop()`` sends CANCEL with reason
  ``"service stopping"`` from a control PID (``{node:control|0x...}``) and waits for the
  exit; ``terminate()`` kills the process (the supervisor does this only after
  ``stop_timeout``). The service's host is an implicit dependency.
* ``process.host`` / ``terminal.host`` -> :class:`HostService`. The registry's host
  listener already started the scheduler at boot; the service models it as running, so a
  ``requires`` on a host works and, having no requirements, the hosts are stopped last.
  Stopping a host sends CANCEL to every process still on it (children spawned by services,
  say), waits for them, then stops its worker threads; ``terminate()`` kills what is left.

Other components can add kinds with :func:`register_kind` (a factory returning the
:class:`wippy.supervisor.Service` and its implicit dependencies).

Registry changes after boot
---------------------------
The initial entries are registered before the first start. Later commits (the
``registry`` module, a hot reload) arrive as ``registry``/``entry.*`` bus events and are
applied one at a time, in commit order: a new service entry is registered (and started
when ``auto_start``), a deleted one is stopped and forgotten, an updated one is stopped,
replaced and started again if it was alive or is ``auto_start``. Host entries are the
exception on update: the registry's host listener owns live changes of a host (workers
only, processes preserved), so the service is left as it is.

XX: removing or replacing a service stops only that service, not its dependents (the
supervisor's ``remove``); the reference buffers the changes of a transaction between
``registry.begin`` and ``registry.commit`` and starts the roots of the batch together.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import trio

from wippy.durations import format_duration
from wippy.entry import Entry, resolve_ref
from wippy.envstore import PlaceholderError, entry_data
from wippy.logs import get_logger
from wippy.node import ExitResult, WippyError
from wippy.signals import ShutdownSignals
from wippy.supervisor import (
    STOP_REASON,
    DependencyCycle,
    Exit,
    Lifecycle,
    RunningService,
    Service,
    ServiceError,
    ServiceState,
    Status,
    Supervisor,
    SupervisorError,
)

__all__ = [
    "CONTROL_HOST",
    "HostService",
    "ProcessService",
    "SupervisorLog",
    "follow_registry",
    "register_kind",
    "register_services",
    "serve",
    "state_publisher",
]

log = get_logger("runtime")

CONTROL_HOST = "node:control"
"""The host part of the PID that sends CANCEL to a stopping service's process."""

DEFAULT_SHUTDOWN_TIMEOUT = 30.0

ServiceFactory = Callable[[Any, Entry], tuple[Service, tuple[str, ...]]]
"""``factory(runtime, entry) -> (service, implicit dependencies)``."""

_KINDS: dict[str, ServiceFactory] = {}

# How the OS process is left when the shutdown bound is exceeded (replaceable in-process).
_hard_exit: Callable[[int], Any] = os._exit


def register_kind(kind: str, factory: ServiceFactory) -> None:
    """Make entries of ``kind`` supervised services (other components call this)."""
    _KINDS[kind] = factory


# --------------------------------------------------------------------------- helpers


def _error_text(err: Any) -> str:
    if isinstance(err, WippyError):
        return err.message
    if isinstance(err, bytes):
        return err.decode("utf-8", "replace")
    return str(err) if err is not None else "unknown error"


def _post(runtime: Any, fn: Callable[..., Any], *args: Any) -> None:
    """Hop from a worker thread to trio; a finished trio run drops the call."""
    try:
        runtime.call_soon(fn, *args)
    except (trio.RunFinishedError, AssertionError):
        pass



# --------------------------------------------------------------------------- process.service


class _ProcessRun:
    """One spawned process of a :class:`ProcessService` (a RunningService)."""

    def __init__(self, service: ProcessService) -> None:
        self.service = service
        self.pid = ""
        self.result: ExitResult | None = None
        self._exited = trio.Event()

    def on_exit(self, result: ExitResult) -> None:  # worker thread
        _post(self.service.runtime, self._record, result)

    def _record(self, result: ExitResult) -> None:  # trio thread
        self.result = result
        self._exited.set()

    async def wait(self) -> Exit:
        await self._exited.wait()
        result = self.result
        assert result is not None
        if result.ok:
            return Exit(normal=True)
        err = result.error
        retryable = not (isinstance(err, WippyError) and err.retryable is False)
        return Exit(normal=False, error=f"process failed: {_error_text(err)}", retryable=retryable)

    async def stop(self, reason: str) -> None:
        node = self.service.runtime.node
        if not self._exited.is_set():
            node.cancel(self.pid, self.service.control_pid, reason or STOP_REASON)
        await self._exited.wait()

    async def terminate(self) -> None:
        self.service.runtime.node.terminate(self.pid)


@dataclass
class ProcessService:
    """A ``process.service`` entry: keeps one process of ``process`` alive on ``host``."""

    runtime: Any
    service_id: str
    process: str
    host: str
    args: list[Any]
    control_pid: str = ""

    def __post_init__(self) -> None:
        if not self.control_pid:
            self.control_pid = self.runtime.node.new_pid(CONTROL_HOST)

    @classmethod
    def from_entry(cls, runtime: Any, entry: Entry) -> ProcessService:
        data = entry_data(runtime, entry)  # `${env:NAME}` placeholders resolved
        ns = entry.namespace
        process = data.get("process")
        if not isinstance(process, str) or not process:
            raise ValueError("process.service: missing process")
        host = data.get("host")
        if not isinstance(host, str) or not host:
            hosts = [e.id for e in runtime.entries.values() if e.kind == "process.host"]
            if len(hosts) != 1:
                raise ValueError("process.service: missing host")
            host = hosts[0]
        raw = data.get("input")
        args = [] if raw is None else list(raw) if isinstance(raw, list | tuple) else [raw]
        return cls(runtime, entry.id, resolve_ref(process, ns), resolve_ref(host, ns), args)

    async def start(self) -> RunningService:
        run = _ProcessRun(self)
        try:
            run.pid = self.runtime.node.spawn(self.process, self.host, list(self.args), watcher=run.on_exit)
        except WippyError as exc:
            raise ServiceError(f"cannot spawn {self.process} on {self.host}: {exc.message}") from None
        log.debug("service process spawned", service=self.service_id, pid=run.pid)
        return run


def _process_service(runtime: Any, entry: Entry) -> tuple[Service, tuple[str, ...]]:
    service = ProcessService.from_entry(runtime, entry)
    return service, (service.host,)


# --------------------------------------------------------------------------- hosts


class _HostRun:
    """A running host: ends only when stopped."""

    def __init__(self, service: HostService) -> None:
        self.service = service
        self._ended = trio.Event()

    async def wait(self) -> Exit:
        await self._ended.wait()
        return Exit(normal=True)

    async def stop(self, reason: str) -> None:
        service = self.service
        node = service.runtime.node
        scheduler = node.hosts.get(service.host_id)
        if scheduler is None or getattr(scheduler, "stopped", False):
            self._finish()  # deleted from the registry: its listener stopped it already
            return
        pids = service.processes()
        if pids:
            remaining = trio.Event()
            left = {"n": 0}

            def gone(_result: ExitResult) -> None:  # worker thread
                _post(service.runtime, one_gone)

            def one_gone() -> None:
                left["n"] -= 1
                if left["n"] <= 0:
                    remaining.set()

            for pid in pids:
                if node.watch_exit(pid, gone):
                    left["n"] += 1
                    node.cancel(pid, service.control_pid, reason or STOP_REASON)
            if left["n"] > 0:
                await remaining.wait()
        self._finish()

    async def terminate(self) -> None:
        node = self.service.runtime.node
        for pid in self.service.processes():
            node.terminate(pid)
        self._finish()

    def _finish(self) -> None:
        scheduler = self.service.runtime.node.hosts.get(self.service.host_id)
        if scheduler is not None:
            scheduler.stop()
        self._ended.set()


@dataclass
class HostService:
    """A ``process.host`` or ``terminal.host`` entry as a supervised service."""

    runtime: Any
    entry: Entry
    control_pid: str = ""

    def __post_init__(self) -> None:
        if not self.control_pid:
            self.control_pid = self.runtime.node.new_pid(CONTROL_HOST)

    @property
    def host_id(self) -> str:
        return self.entry.id

    def processes(self) -> list[str]:
        node = self.runtime.node
        with node.lock:
            return [pid for pid, info in node.procs.items() if info.host == self.host_id]

    async def start(self) -> RunningService:
        hosts = self.runtime.node.hosts
        scheduler = hosts.get(self.host_id)
        if scheduler is not None and getattr(scheduler, "stopped", False):
            del hosts[self.host_id]  # stopped by an earlier stop(): start a fresh one
        self.runtime.add_host(self.entry)  # no-op when the registry listener started it
        return _HostRun(self)


def _host_service(runtime: Any, entry: Entry) -> tuple[Service, tuple[str, ...]]:
    return HostService(runtime, entry), ()


register_kind("process.service", _process_service)
register_kind("process.host", _host_service)
register_kind("terminal.host", _host_service)


# --------------------------------------------------------------------------- reporting


class SupervisorLog:
    """The supervisor's logger protocol (``log(level, msg, extra=...)``) over wippy.logs.

    The service id moves from the message into a ``service`` field (``service stopped
    service=app:pinger``): an app's own log lines are matched by their message text, and
    ``service app:pinger stopped`` would read as the app's ``pinger stopped``. A non-zero
    retry count is added as a field too.
    """

    def __init__(self, component: str = "supervisor") -> None:
        self._log = get_logger(component)

    def log(self, level: int, msg: str, *args: Any, extra: dict[str, Any] | None = None,
            exc_info: Any = None, **_: Any) -> None:  # fmt: skip
        text = msg % args if args else msg
        fields: dict[str, Any] = {}
        service = extra.get("service") if extra else None
        if service:
            prefix = f"service {service} "
            if text.startswith(prefix):
                text = "service " + text[len(prefix) :]
            fields["service"] = service
        if extra and extra.get("retry_count"):
            fields["retry_count"] = extra["retry_count"]
        if exc_info:
            fields["exc_info"] = exc_info
        if level >= logging.ERROR:
            self._log.error(text, **fields)
        elif level >= logging.WARNING:
            self._log.warn(text, **fields)
        elif level >= logging.INFO:
            self._log.info(text, **fields)
        else:
            self._log.debug(text, **fields)


def state_publisher(runtime: Any) -> Callable[[ServiceState], None]:
    """The supervisor's ``on_change``: every state as ``supervisor``/``service.update``."""

    def on_change(state: ServiceState) -> None:
        runtime.bus.publish("supervisor", "service.update", state.id, state.to_event())

    return on_change


# --------------------------------------------------------------------------- serve


def _build(runtime: Any, entry: Entry) -> tuple[Service, Lifecycle, tuple[str, ...]] | None:
    """The service of a service-kind entry, or None (not a service kind, or invalid: logged)."""
    factory = _KINDS.get(entry.kind)
    if factory is None:
        return None
    try:
        lifecycle = Lifecycle.from_config(entry_data(runtime, entry).get("lifecycle"), namespace=entry.namespace)
        service, implicit = factory(runtime, entry)
    except (ValueError, TypeError, PlaceholderError) as exc:
        log.error(f"service {entry.id} not registered: {exc}", service=entry.id)
        return None
    return service, lifecycle, implicit


def register_services(sup: Supervisor, runtime: Any) -> list[str]:
    """Add a service for every entry of a service kind; return the ids added.

    An entry whose configuration is invalid is logged and skipped.
    """
    added: list[str] = []
    for entry in sorted(runtime.entries.values(), key=lambda e: e.id):
        built = _build(runtime, entry)
        if built is None:
            continue
        service, lifecycle, implicit = built
        sup.add(entry.id, service, lifecycle, depends_on=implicit)
        added.append(entry.id)
    return added


_HOST_KINDS = ("process.host", "terminal.host")


async def apply_change(sup: Supervisor, runtime: Any, kind: str, entry_id: str, entry: Any) -> None:
    """Bring the supervisor in line with one committed registry operation."""
    known = entry_id in sup
    if kind == "entry.delete":
        if known:
            await sup.remove(entry_id)
        return
    if kind not in ("entry.create", "entry.update") or not isinstance(entry, Entry):
        return
    if known and kind == "entry.update" and entry.kind in _HOST_KINDS:
        return  # the host listener applies live host changes
    was_alive = False
    if known:
        state = sup.state(entry_id)
        was_alive = state.status in (Status.STARTING, Status.RUNNING) or (
            state.status is Status.FAILED and state.next_delay is not None
        )
        await sup.remove(entry_id)
    built = _build(runtime, entry)
    if built is None:
        return
    service, lifecycle, implicit = built
    sup.add(entry_id, service, lifecycle, depends_on=implicit)
    if lifecycle.auto_start or was_alive:
        try:
            await sup.start(entry_id)
        except SupervisorError as exc:
            log.error(f"service {entry_id} not started: {exc}", service=entry_id)


async def follow_registry(
    sup: Supervisor, runtime: Any, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Apply registry commits to the supervisor until cancelled (``nursery.start`` it)."""
    with runtime.bus.subscribe("registry", "entry.*") as sub:
        task_status.started()
        async for event in sub:
            try:
                await apply_change(sup, runtime, str(event.kind), str(event.path), event.data)
            except Exception as exc:  # one bad change must not end the follower
                log.error(f"registry change of {event.path} not applied: {exc}", service=str(event.path))


def _shutdown_timeout(runtime: Any) -> float:
    config = getattr(runtime, "config", None)
    if config is None:
        return DEFAULT_SHUTDOWN_TIMEOUT
    try:
        return config.duration("shutdown.timeout", DEFAULT_SHUTDOWN_TIMEOUT) or DEFAULT_SHUTDOWN_TIMEOUT
    except Exception as exc:
        log.warn(f"shutdown.timeout: {exc}; using 30s")
        return DEFAULT_SHUTDOWN_TIMEOUT


async def serve(runtime: Any, options: Any) -> int:
    """Run the services until SIGINT/SIGTERM; return the exit code (0 after a graceful stop)."""
    signals = ShutdownSignals()
    async with trio.open_nursery() as nursery:
        await nursery.start(signals.watch)
        try:
            return await _supervise(runtime, signals.requested, lambda: _signal_name(signals))
        finally:
            nursery.cancel_scope.cancel()


def _signal_name(signals: ShutdownSignals) -> str:
    return signal.Signals(signals.signum).name if signals.signum is not None else "request"


async def _supervise(runtime: Any, requested: trio.Event, signal_name: Callable[[], str]) -> int:
    timeout = _shutdown_timeout(runtime)
    async with Supervisor.open(on_change=state_publisher(runtime), logger=SupervisorLog()) as sup:
        runtime.supervisor = sup
        ids = register_services(sup, runtime)
        async with trio.open_nursery() as followers:
            # subscribed before the first start: no commit made from then on is missed
            await followers.start(follow_registry, sup, runtime)
            try:
                result = await sup.start_all()
            except DependencyCycle as exc:
                log.error(f"services not started: {exc}")
                followers.cancel_scope.cancel()
                return 1
            fields: dict[str, Any] = {"services": len(ids), "started": len(result.started)}
            if result.failed or result.blocked:
                fields["failed"] = len(result.failed) + len(result.blocked)
            log.info("running", **fields)

            await requested.wait()
            followers.cancel_scope.cancel()
        log.info("shutting down", signal=signal_name(), timeout=format_duration(timeout))
        with trio.move_on_after(timeout) as bound:
            await sup.stop_all()
        if bound.cancelled_caught:
            log.error(f"shutdown timed out after {format_duration(timeout)}; exiting")
            _flush()
            _hard_exit(1)
            return 1
    log.info("stopped")
    return 0


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
