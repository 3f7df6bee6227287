"""Running a loaded project: registry, hosts, code, and the run modes.

``run(project, options)`` is what `wippy run` calls once the project has loaded
without errors. Inside one trio run it starts the event bus, loads the entries into
the registry as one transition (kind listeners compile code and start hosts), then
either runs one process on the terminal host and exits with its code (``-x`` or a
named command) or starts the services and runs until SIGINT/SIGTERM
(:mod:`wippy.services`).

Worker threads reach trio through :meth:`Runtime.call_soon` (fire and forget) and
:meth:`Runtime.trio_command` (an external command of a Lua process whose completion
resumes the process).
"""

from __future__ import annotations

import gc
import json
import math
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from wippy.appcontext import AppContext
from wippy.boot import BootError, BootLoader, standard_components
from wippy.entry import Entry
from wippy.envstore import ENV_KINDS, EnvListener, entry_data
from wippy.eventbus import EventBus
from wippy.logs import get_logger
from wippy.lua.engine.code import CODE_KINDS
from wippy.lua.engine.scheduler import Scheduler
from wippy.lua.engine.shard import HostLimits
from wippy.metrics import metrics_for, start_prometheus
from wippy.node import ExitResult, Node, ProcessHostReceiver, WippyError, decode
from wippy.registry import Registry, RegistryError
from wippy.signals import ShutdownSignals

log = get_logger("runtime")


class ProcessLog:
    """Where `print` and the logger module of Lua processes write.

    Lines go to the component ``lua`` (``lua.<name>`` for a named logger). The user's
    fields come first, sorted by key (a Lua table has no order), then ``pid`` and, from
    the logger module, ``location``. Values are made printable here: an error object
    shows its message, bytes are decoded, tables become compact JSON, integral floats
    print without ``.0`` as Lua's tostring does.
    """

    def __init__(self) -> None:
        self._loggers: dict[str, Any] = {}

    def lua(self, pid: str, level: str, message: str, fields: Any, *, location: str | None = None,
            logger: str | None = None) -> None:  # fmt: skip
        name = f"lua.{logger}" if logger else "lua"
        target = self._loggers.get(name)
        if target is None:
            target = self._loggers[name] = get_logger(name)
        if isinstance(fields, bytes):
            fields = decode(fields)
        extra: dict[str, Any] = {}
        if isinstance(fields, dict):
            for key in sorted(fields, key=_field_text):
                text = _field_text(key)
                if text in _RESERVED:  # keyword names of the logger call itself
                    text += "_"
                extra[text] = _field_value(fields[key])
        extra.setdefault("pid", pid)
        if location:
            extra.setdefault("location", location)
        method = {"debug": target.debug, "warn": target.warn, "error": target.error}.get(level, target.info)
        method(message, **extra)

    def error(self, message: str, **fields: Any) -> None:
        log.error(message, **fields)


_RESERVED = frozenset({"message", "exc_info"})


def _field_text(key: Any) -> str:
    if isinstance(key, bytes):
        return key.decode("utf-8", "surrogateescape")
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def _field_value(value: Any) -> Any:
    if isinstance(value, WippyError):
        return value.message
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    if isinstance(value, dict | list):
        return json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False, default=str)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {_field_text(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, WippyError | bytes | float):
        return _field_value(value)
    return value


def exit_code(result: ExitResult) -> int:
    """The OS exit code of a `-x` process (integer -> itself, true/nil -> 0, false -> 1)."""
    if not result.ok:
        return 1
    value = result.value
    if value is None or value is True:
        return 0
    if value is False:
        return 1
    if isinstance(value, float) and not math.isfinite(value):
        return 1  # inf and nan name no exit status: treat them as a failure
    if isinstance(value, (int, float)):
        return int(value) & 0xFF
    return 0


def error_text(err: Any) -> str:
    if isinstance(err, WippyError):
        return err.message
    if isinstance(err, bytes):
        return err.decode("utf-8", "replace")
    return str(err)


class CodeListener:
    """Registry listener of the code kinds: compile on add/update, forget on delete."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def add(self, entry: Entry) -> None:
        self._compile(entry)

    async def update(self, old: Entry, new: Entry) -> None:
        self._compile(new)
        self.runtime.forget_code(new.id)

    async def delete(self, entry: Entry) -> None:
        self.runtime.node.code.remove(entry.id)
        self.runtime.forget_code(entry.id)

    def _compile(self, entry: Entry) -> None:
        try:
            self.runtime.node.code.add(entry)
        except Exception as exc:
            raise RegistryError("Invalid", str(exc)) from exc


class HostListener:
    """Registry listener of process.host and terminal.host: one scheduler per entry."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def add(self, entry: Entry) -> None:
        try:
            self.runtime.add_host(entry)
        except ValueError as exc:
            raise RegistryError("Invalid", f"{entry.id}: {exc}") from exc

    async def update(self, old: Entry, new: Entry) -> None:
        pass

    async def delete(self, entry: Entry) -> None:
        scheduler = self.runtime.node.hosts.pop(entry.id, None)
        if scheduler is not None:
            self.runtime.relay.node.unregister(entry.id)
            scheduler.stop()


def register_kind_listeners(runtime: Runtime, registry: Registry) -> None:
    """The kind handlers of the engine: code kinds, hosts and env entries."""
    hosts = HostListener(runtime)
    registry.register_listener("process.host", hosts)
    registry.register_listener("terminal.host", hosts)
    code = CodeListener(runtime)
    for kind in CODE_KINDS:
        registry.register_listener(kind, code)
    env = EnvListener(runtime)
    for kind in ENV_KINDS:
        registry.register_listener(kind, env)


class Runtime:
    """The running node with its hosts, registry and bus; shared by the run modes.

    The services come from the boot components (components/): :meth:`boot` loads them
    level by level into a sealed AppContext, starts them, then loads the project's
    entries into the registry as one transition.
    """

    def __init__(self, project: Any, options: Any) -> None:
        self.project = project
        self.options = options
        self.entries: dict[str, Entry] = {e.id: e for e in project.entries}
        self.config = getattr(project, "config", None)
        self.root = getattr(project, "root", None)
        self.process_log = ProcessLog()
        self.exit_requested = trio.Event()
        self.requested_code = 0
        self.prometheus: Any = None
        self.nursery: trio.Nursery | None = None
        self.token: trio.lowlevel.TrioToken | None = None
        self.extensions: list[Any] = []
        self.supervisor: Any = None
        self.ctx: AppContext | None = None
        self.loader: BootLoader | None = None
        self.node: Node | None = None

    # ------------------------------------------------------------------ boot

    def compile_all(self) -> list[str]:
        """Compile every code entry up front so that all syntax errors show at once."""
        problems = []
        for entry in self.entries.values():
            if entry.kind in CODE_KINDS:
                try:
                    self.node.code.add(entry)
                except Exception as exc:
                    where = f"{entry.origin}: " if entry.origin else ""
                    problems.append(f"{where}entry {entry.id}: {exc}")
        return problems

    def add_host(self, entry: Entry) -> None:
        if entry.id in self.node.hosts:
            return
        data = entry_data(self, entry)
        if entry.kind == "process.host":
            host = data.get("host") or {}
            scheduler = Scheduler(self.node, entry.id, workers=host.get("workers"), shards=host.get("shards"),
                                  limits=HostLimits.from_config(host))
        else:
            scheduler = Scheduler(self.node, entry.id, workers=1, shards=1, terminal=True)
        self.node.hosts[entry.id] = scheduler
        self.relay.node.register(entry.id, ProcessHostReceiver(self.node, entry.id))
        scheduler.start()

    def forget_code(self, entry_id: str) -> None:
        for scheduler in self.node.hosts.values():
            for shard in scheduler.shards:
                if shard.built:  # (one built later loads the new code anyway)
                    shard.push((6, entry_id.encode()))

    async def boot(self, nursery: trio.Nursery) -> list[str]:
        self.nursery = nursery
        self.token = trio.lowlevel.current_trio_token()
        ctx = AppContext()
        for key, value in (("project", self.project), ("config", self.config), ("runtime", self),
                           ("nursery", nursery)):
            ctx.put(key, value)
        loader = BootLoader(ctx)
        for component in standard_components():
            loader.register(component)
        await loader.load()
        self.ctx, self.loader = ctx, loader
        self.node = ctx.get("topology", Node)
        self.node.terminal_args = []
        self.node.runtime = self
        self.bus = ctx.get("eventbus", EventBus)
        self.registry = ctx.get("registry", Registry)
        self.relay = ctx.get("relay")
        self.control = ctx.get("relay.control")
        await loader.start()
        problems = self.compile_all()
        if problems:
            return problems
        try:
            await self.registry.load_state(self.entries.values())
        except RegistryError as exc:
            return [str(exc)]
        for ext in self.extensions:
            await ext.start(self)
        self.prometheus = start_prometheus(self.config, metrics_for(self)) if self.config is not None else None
        return []

    async def shutdown(self) -> None:
        """Stop the components in reverse boot order (bounded by their stop timeout)."""
        if self.loader is not None:
            with trio.CancelScope(shield=True):
                for problem in await self.loader.stop():
                    log.warn("component stop failed", error=problem)

    def request_exit(self, code: int) -> None:
        """`system.exit(code)`: end the run with ``code`` (from any thread)."""
        self.requested_code = int(code)
        self.call_soon(self.exit_requested.set)

    # ------------------------------------------------------------------ bridges from worker threads

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the trio thread (from any thread)."""
        assert self.token is not None
        self.token.run_sync_soon(fn, *args)

    def trio_command(self, pid: str, tag: int, fn: Callable[..., Awaitable[Any]], *args: Any) -> tuple:
        """Run ``await fn(*args)`` on trio; its result (or error) completes the Lua command."""

        async def runner() -> None:
            try:
                value = await fn(*args)
            except (WippyError, RegistryError) as exc:
                self.node.complete(pid, tag, None, WippyError(getattr(exc, "kind", ""), _message(exc)))
                return
            except Exception as exc:  # a failed command must not kill the runtime
                self.node.complete(pid, tag, None, WippyError("Internal", str(exc)))
                return
            self.node.complete(pid, tag, value, None)

        def start() -> None:
            assert self.nursery is not None
            self.nursery.start_soon(runner)

        self.call_soon(start)
        return (False,)

    # ------------------------------------------------------------------ run modes

    def control_pid(self) -> str:
        """A fresh PID on the control host, for a receiver attached on the Python side."""
        return self.node.new_pid("node:control")

    def terminal_host(self, wanted: str | None) -> str:
        terminals = [e.id for e in self.entries.values() if e.kind == "terminal.host"]
        if wanted:
            if wanted not in terminals:
                raise WippyError("NotFound", f"terminal host {wanted} not found")
            return wanted
        if not terminals:
            raise WippyError("NotFound", "no terminal.host entry in the project")
        return terminals[0]

    async def exec(self, entry_id: str, host: str | None, args: list[str]) -> int:
        """Run one process on the terminal host; return its exit code."""
        assert self.token is not None
        token = self.token
        done = trio.Event()
        box: list[ExitResult] = []

        def on_exit(result: ExitResult) -> None:
            box.append(result)
            token.run_sync_soon(done.set)

        terminal = self.terminal_host(host)
        self.node.terminal_args = list(args)
        pid = self.node.spawn(entry_id, terminal, [a.encode() for a in args], watcher=on_exit)
        signals = ShutdownSignals()
        interrupted = False
        async with trio.open_nursery() as waiters:

            async def exit_request() -> None:
                await self.exit_requested.wait()
                waiters.cancel_scope.cancel()

            async def interrupt() -> None:
                # Ctrl-C or SIGTERM ends the process (even one stuck in a loop: it is
                # preempted at its next safepoint) and the run exits 130 / 143
                nonlocal interrupted
                await signals.requested.wait()
                interrupted = True
                self.node.terminate(pid)
                waiters.cancel_scope.cancel()

            await waiters.start(signals.watch)
            waiters.start_soon(exit_request)
            waiters.start_soon(interrupt)
            await done.wait()
            waiters.cancel_scope.cancel()
        if interrupted:
            sys.stdout.flush()
            return signals.exit_code
        if not box or self.exit_requested.is_set():
            sys.stdout.flush()
            return self.requested_code & 0xFF
        result = box[0]
        sys.stdout.flush()
        if not result.ok:
            sys.stderr.write(error_text(result.error) + "\n")
            sys.stderr.flush()
        return exit_code(result)

    def stop(self) -> None:
        if self.prometheus is not None:
            self.prometheus.shutdown()
        if self.node is not None:
            self.node.stop()


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc)


def find_command(entries: dict[str, Entry], name: str) -> str | None:
    for e in entries.values():
        cmd = e.meta.get("command") if isinstance(e.meta, dict) else None
        if isinstance(cmd, dict) and cmd.get("name") == name:
            return e.id
    return None


async def _main(runtime: Runtime, options: Any) -> int:
    exec_id = getattr(options, "exec_id", None)
    command = getattr(options, "command", None)
    args = list(getattr(options, "args", None) or [])
    host = getattr(options, "host", None)
    if command:
        target = find_command(runtime.entries, command)
        if target is None:
            sys.stderr.write(f'command "{command}" not found\n')
            return 1
        exec_id = target
    async with trio.open_nursery() as nursery:
        try:
            problems = await runtime.boot(nursery)
            if problems:
                for p in problems:
                    sys.stderr.write(p + "\n")
                return 2
            # what booting made lives as long as the runtime: keep it out of the cyclic
            # collector's passes (spawning allocates a record per process; full passes
            # over the whole startup heap were a tenth of a spawn's cost)
            gc.freeze()
            if exec_id:
                try:
                    return await runtime.exec(exec_id, host, args)
                except WippyError as exc:
                    sys.stderr.write(f"{exc.message}\n")
                    return 1
            from wippy.services import serve

            return await serve(runtime, options)
        finally:
            await runtime.shutdown()
            nursery.cancel_scope.cancel()


def _root_cause(error: BaseException) -> BaseException:
    """The one error behind trio's exception groups and the boot loader's wrapping."""
    while True:
        if isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]
        elif isinstance(error, BootError) and error.__cause__ is not None:
            error = error.__cause__
        else:
            return error


def run(project: Any, options: Any) -> int:
    """Entry point of `wippy run` after the project loaded."""
    runtime = Runtime(project, options)
    try:
        return trio.run(_main, runtime, options)
    except BaseExceptionGroup as group:
        cause = _root_cause(group)
        if cause is group:
            raise
        raise cause from None
    finally:
        runtime.stop()
