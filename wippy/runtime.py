"""Running a loaded project: hosts, code, and the `-x` / command / service modes.

``run(project, options)`` is what `wippy run` calls once the project has loaded
without errors. It builds the node (process directory and topology), compiles every
code entry, starts one scheduler per ``process.host`` and ``terminal.host`` entry, then
either runs one process on the terminal host and exits with its code (``-x`` or a
named command) or starts the services and runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from wippy.entry import Entry
from wippy.lua.engine.code import CODE_KINDS, CodeStore
from wippy.lua.engine.modules import ModuleStore
from wippy.lua.engine.scheduler import Scheduler
from wippy.node import ExitResult, Node, WippyError


class RuntimeLog:
    """Minimal structured log sink used until the console logger is wired in."""

    def __init__(self, silent: bool = False) -> None:
        self.silent = silent

    def _emit(self, level: str, message: str, fields: dict[str, Any]) -> None:
        if self.silent:
            return
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        sys.stderr.write(f"{level.upper():5} {message} {extra}\n".rstrip() + "\n")

    def lua(self, pid: str, level: str, message: str, fields: Any) -> None:
        self._emit(level, message, {"pid": pid})

    def info(self, message: str, **fields: Any) -> None:
        self._emit("info", message, fields)

    def error(self, message: str, **fields: Any) -> None:
        self._emit("error", message, fields)

    def warn(self, message: str, **fields: Any) -> None:
        self._emit("warn", message, fields)


def exit_code(result: ExitResult) -> int:
    """The OS exit code of a `-x` process (integer -> itself, true/nil -> 0, false -> 1)."""
    if not result.ok:
        return 1
    value = result.value
    if value is None or value is True:
        return 0
    if value is False:
        return 1
    if isinstance(value, (int, float)):
        return int(value) & 0xFF if int(value) >= 0 else int(value) & 0xFF
    return 0


def error_text(err: Any) -> str:
    if isinstance(err, WippyError):
        return err.message
    if isinstance(err, bytes):
        return err.decode("utf-8", "replace")
    return str(err)


class Runtime:
    """The running node with its hosts; shared by the run modes."""

    def __init__(
        self,
        entries: list[Entry],
        *,
        node_name: str = "local",
        silent: bool = False,
        cache_dir: str | None = None,
    ) -> None:
        self.entries = {e.id: e for e in entries}
        self.log = RuntimeLog(silent)
        self.node = Node(node_name, self.log)
        self.node.code = CodeStore(cache_dir)
        self.node.modules = ModuleStore()
        self.node.global_modules = self.node.modules.globals()
        self.node.terminal_args = []

    def compile_all(self) -> list[str]:
        problems = []
        for entry in self.entries.values():
            if entry.kind in CODE_KINDS:
                try:
                    self.node.code.add(entry)
                except Exception as exc:  # syntax errors and unreadable files
                    problems.append(f"{entry.id}: {exc}")
        return problems

    def start_hosts(self) -> None:
        for entry in self.entries.values():
            data = entry.data if isinstance(entry.data, dict) else {}
            if entry.kind == "process.host":
                host = data.get("host") or {}
                self.node.hosts[entry.id] = Scheduler(
                    self.node, entry.id, workers=host.get("workers"), shards=host.get("shards")
                )
            elif entry.kind == "terminal.host":
                self.node.hosts[entry.id] = Scheduler(self.node, entry.id, workers=1, shards=1, terminal=True)
        for scheduler in self.node.hosts.values():
            scheduler.start()

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
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()
        box: list[ExitResult] = []

        def on_exit(result: ExitResult) -> None:
            box.append(result)
            token.run_sync_soon(done.set)

        terminal = self.terminal_host(host)
        self.node.terminal_args = list(args)
        self.node.spawn(entry_id, terminal, [a.encode() for a in args], watcher=on_exit)
        await done.wait()
        result = box[0]
        sys.stdout.flush()
        if not result.ok:
            sys.stderr.write(error_text(result.error) + "\n")
            sys.stderr.flush()
        return exit_code(result)

    def stop(self) -> None:
        self.node.stop()


def run(project: Any, options: Any) -> int:
    """Entry point of `wippy run` after the project loaded."""
    exec_id = getattr(options, "exec_id", None)
    command = getattr(options, "command", None)
    args = list(getattr(options, "args", None) or [])
    host = getattr(options, "host", None)
    silent = bool(exec_id or command) or bool(getattr(options, "silent", False))
    root = getattr(project, "root", None)
    cache_dir = str(root / ".wippy" / "cache" / "lua") if root is not None else None
    node_name = "local"
    config = getattr(project, "config", None)
    if config is not None and hasattr(config, "get"):
        node_name = config.get("relay.node_name") or "local"
    runtime = Runtime(list(project.entries), node_name=node_name, silent=silent, cache_dir=cache_dir)
    problems = runtime.compile_all()
    if problems:
        for p in problems:
            sys.stderr.write(p + "\n")
        return 2
    if command and not exec_id:
        target = None
        for e in runtime.entries.values():
            cmd = (e.meta or {}).get("command") if isinstance(e.meta, dict) else None
            if isinstance(cmd, dict) and cmd.get("name") == command:
                target = e.id
                break
        if target is None:
            sys.stderr.write(f'command "{command}" not found\n')
            return 1
        exec_id = target
    runtime.start_hosts()
    try:
        if exec_id:
            try:
                return trio.run(runtime.exec, exec_id, host, args)
            except WippyError as exc:
                sys.stderr.write(f"{exc.message}\n")
                return 1
        sys.stderr.write("service mode is not available yet\n")
        return 1
    finally:
        runtime.stop()
