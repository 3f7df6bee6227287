"""ProcessService, HostService and the logger module against a real booted Runtime."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import trio

from wippy.entry import Entry
from wippy.node import ExitResult
from wippy.registry.changeset import ChangeSet
from wippy.runtime import Runtime
from wippy.runtime_options import RunOptions
from wippy.services import (
    HostService,
    ProcessService,
    SupervisorLog,
    follow_registry,
    register_services,
    state_publisher,
)
from wippy.supervisor import ServiceError, Status, Supervisor

HOST = "t:procs"

SOURCES = {
    # returns normally when its two arguments are what the service passed
    "echo": """
        local function main(a, b)
            if a ~= "one" or b ~= 2 then error("bad args: " .. tostring(a) .. " " .. tostring(b)) end
            return 0
        end
        return { main = main }
    """,
    "boom": """
        local function main() error("boom") end
        return { main = main }
    """,
    # waits for the supervisor's CANCEL and checks who sent it and why
    "waiter": """
        local function main()
            local ev = process.events():receive()
            if ev.kind ~= process.event.CANCEL then error("not a cancel") end
            if not ev.from:match("^{node:control|0x%x+}$") then error("cancel from " .. ev.from) end
            if ev.reason ~= "service stopping" then error("reason " .. tostring(ev.reason)) end
            return 0
        end
        return { main = main }
    """,
    "stubborn": """
        local function main()
            local events = process.events()
            while true do events:receive() end
        end
        return { main = main }
    """,
    "logs": """
        local logger = require("logger")
        local function main()
            logger:info("plain")
            logger:warn("with fields", {n = 1, ratio = 0.5, whole = 2.0, list = {1, 2}, e = errors.new("bad thing")})
            local child = logger:named("sub"):with({a = 1})
            child:error("from child", {b = 2})
            logger:debug("hidden")
            local ok, err = pcall(function() logger.info("dot call") end)
            if ok then error("dot call did not raise") end
            if pcall(function() logger:info() end) then error("missing message accepted") end
            if pcall(function() logger:named("") end) then error("empty name accepted") end
            if pcall(function() logger:info("x", "not a table") end) then error("string fields accepted") end
            return tostring(err)
        end
        return { main = main }
    """,
}


def _entries(tmp: Path) -> list[Entry]:
    entries = [Entry(HOST, "process.host", data={"host": {"workers": 1}})]
    for name, code in SOURCES.items():
        path = tmp / f"{name}.lua"
        path.write_text(textwrap.dedent(code).lstrip())
        data = {"source": f"file://{path}", "method": "main", "modules": ["logger"]}
        entries.append(Entry(f"t:{name}", "process.lua", data=data))
    return entries


@asynccontextmanager
async def booted(tmp: Path) -> AsyncIterator[Runtime]:
    project = SimpleNamespace(entries=_entries(tmp), config=None, root=None)
    runtime = Runtime(project, RunOptions())
    try:
        async with trio.open_nursery() as nursery:
            problems = await runtime.boot(nursery)
            assert problems == []
            yield runtime
            runtime.bus.close()
            nursery.cancel_scope.cancel()
    finally:
        runtime.stop()


def service(
    runtime: Runtime, process: str, args: list[Any] | None = None, host: str = HOST
) -> ProcessService:
    return ProcessService(runtime, f"t:svc_{process}", f"t:{process}", host, list(args or []))


async def test_normal_return_is_a_normal_exit_with_the_input_as_arguments(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        run = await service(runtime, "echo", ["one", 2]).start()
        with trio.fail_after(5):
            outcome = await run.wait()
        assert outcome.normal, outcome


async def test_error_exit_is_a_process_failure(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        run = await service(runtime, "boom").start()
        with trio.fail_after(5):
            outcome = await run.wait()
        assert not outcome.normal
        assert outcome.retryable
        assert outcome.error is not None and outcome.error.startswith("process failed: ")
        assert "boom" in outcome.error


async def test_stop_sends_cancel_from_a_control_pid_and_waits_for_the_exit(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        svc = service(runtime, "waiter")
        run = await svc.start()
        assert svc.control_pid.startswith("{node:control|")
        with trio.fail_after(5):
            await run.stop("service stopping")
            outcome = await run.wait()
        assert outcome.normal, outcome


async def test_terminate_ends_a_process_that_ignores_cancel(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        run = await service(runtime, "stubborn").start()
        with trio.move_on_after(0.3) as scope:
            await run.stop("service stopping")
        assert scope.cancelled_caught  # still running: CANCEL was ignored
        await run.terminate()
        with trio.fail_after(5):
            outcome = await run.wait()
        assert not outcome.normal
        assert outcome.error is not None and "terminated" in outcome.error


async def test_each_start_is_a_new_process(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        svc = service(runtime, "echo", ["one", 2])
        first = await svc.start()
        second = await svc.start()
        with trio.fail_after(5):
            assert (await first.wait()).normal and (await second.wait()).normal
        assert first.pid != second.pid  # type: ignore[attr-defined]


async def test_start_fails_for_an_unknown_host_or_process(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        with pytest.raises(ServiceError, match="host not found"):
            await service(runtime, "echo", host="t:nowhere").start()
        with pytest.raises(ServiceError, match="factory not found"):
            await service(runtime, "missing").start()


async def test_from_entry_resolves_bare_names_and_input(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        entry = Entry(
            "t:svc", "process.service", data={"process": "echo", "host": "procs", "input": ["one", 2]}
        )
        svc = ProcessService.from_entry(runtime, entry)
        assert (svc.process, svc.host, svc.args) == ("t:echo", "t:procs", ["one", 2])
        with trio.fail_after(5):
            assert (await (await svc.start()).wait()).normal
        with pytest.raises(ValueError, match="missing process"):
            ProcessService.from_entry(runtime, Entry("t:bad", "process.service", data={"host": "procs"}))


async def test_host_stop_cancels_what_still_runs_there(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        host_entry = runtime.entries[HOST]
        host = HostService(runtime, host_entry)
        running = await host.start()
        box: list[ExitResult] = []
        runtime.node.spawn("t:waiter", HOST, [], watcher=box.append)
        with trio.fail_after(5):
            await running.stop("service stopping")
            assert (await running.wait()).normal
        assert len(box) == 1 and box[0].ok
        assert runtime.node.hosts[HOST].stopped


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Any:
    root = logging.getLogger("wippy")
    handler = Capture()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_logger_module_lines(tmp_path: Path, captured: Capture) -> None:
    async with booted(tmp_path) as runtime:
        done = trio.Event()
        box: list[ExitResult] = []

        def on_exit(result: ExitResult) -> None:
            box.append(result)
            runtime.call_soon(done.set)

        pid = runtime.node.spawn("t:logs", HOST, [], watcher=on_exit)
        with trio.fail_after(5):
            await done.wait()
    assert box[0].ok, box[0].error
    assert "colon" in str(box[0].value)
    lines = [(r.name, r.levelname, r.getMessage(), getattr(r, "wippy_fields", {})) for r in captured.records]
    lua = [line for line in lines if line[0].startswith("wippy.lua")]
    assert [(n, lvl, m) for n, lvl, m, _ in lua] == [
        ("wippy.lua", "INFO", "plain"),
        ("wippy.lua", "WARNING", "with fields"),
        ("wippy.lua.sub", "ERROR", "from child"),
    ]
    assert lua[0][3] == {"pid": pid, "location": "t:logs:3"}
    assert lua[1][3] == {
        "e": "bad thing", "list": "[1,2]", "n": 1, "ratio": 0.5, "whole": 2, "pid": pid, "location": "t:logs:4",
    }  # fmt: skip
    assert list(lua[1][3]) == ["e", "list", "n", "ratio", "whole", "pid", "location"]
    assert lua[2][3] == {"a": 1, "b": 2, "pid": pid, "location": "t:logs:6"}


def test_supervisor_log_moves_the_service_id_into_a_field(captured: Capture) -> None:
    SupervisorLog().log(logging.WARNING, "service app:x failed: boom; retry 2 in 1s",
                        extra={"service": "app:x", "status": "failed", "retry_count": 1})  # fmt: skip
    record = captured.records[-1]
    assert record.name == "wippy.supervisor"
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "service failed: boom; retry 2 in 1s"
    assert record.wippy_fields == {"service": "app:x", "retry_count": 1}  # type: ignore[attr-defined]


async def _until(predicate: Any, timeout: float = 5.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():
            await trio.sleep(0.01)


async def test_registry_commits_reach_the_supervisor(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime, Supervisor.open(logger=SupervisorLog()) as sup:
        register_services(sup, runtime)
        async with trio.open_nursery() as nursery:
            await nursery.start(follow_registry, sup, runtime)
            await sup.start_all()
            entry = Entry(
                "t:late",
                "process.service",
                data={"process": "waiter", "host": "procs", "lifecycle": {"auto_start": True}},
            )
            await runtime.registry.apply(ChangeSet().create(entry))
            await _until(lambda: "t:late" in sup and sup.state("t:late").status is Status.RUNNING)
            run = sup._controllers["t:late"]._running  # the process the waiter runs in
            pid = run.pid  # type: ignore[union-attr]
            assert pid in runtime.node.procs

            # an update replaces the running process with a new one
            changed = Entry("t:late", "process.service", data=dict(entry.data, input=[]))
            await runtime.registry.apply(ChangeSet().update(changed))
            await _until(
                lambda: (
                    sup.state("t:late").status is Status.RUNNING
                    and sup._controllers["t:late"]._running is not run
                )
            )
            assert pid not in runtime.node.procs  # the old one got CANCEL and returned

            # a delete stops and forgets it
            await runtime.registry.apply(ChangeSet().delete("t:late"))
            await _until(lambda: "t:late" not in sup)
            assert not any(info.entry == "t:waiter" for info in runtime.node.procs.values())
            nursery.cancel_scope.cancel()


async def test_state_changes_are_published_on_the_bus(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        with runtime.bus.subscribe("supervisor", "service.update") as sub:
            async with Supervisor.open(on_change=state_publisher(runtime), logger=SupervisorLog()) as sup:
                sup.add("t:svc", service(runtime, "waiter"))
                await sup.start("t:svc")
            seen: list[tuple[str, str]] = []
            with trio.fail_after(5):
                async for event in sub:
                    seen.append((event.path, event.data["status"]))
                    if event.data["status"] == "stopped":
                        break
            assert seen == [("t:svc", s) for s in ("starting", "running", "stopping", "stopped")]
            assert set(event.data) >= {
                "status",
                "details",
                "desired",
                "retry_count",
                "next_delay",
                "last_update",
            }


async def test_from_entry_resolves_env_placeholders_in_its_data(tmp_path: Path) -> None:
    async with booted(tmp_path) as runtime:
        runtime.entries["t:vars"] = Entry("t:vars", "env.storage.static", data={"values": {"GREETING": "hi"}})
        runtime.entries["t:greeting"] = Entry(
            "t:greeting", "env.variable", data={"variable": "GREETING", "storage": "vars"}
        )
        entry = Entry(
            "t:svc",
            "process.service",
            data={"process": "echo", "host": "procs", "input": ["${env:GREETING}", "${env:MISSING|fallback}"]},
        )
        assert ProcessService.from_entry(runtime, entry).args == ["hi", "fallback"]
        assert entry.data["input"][0] == "${env:GREETING}"  # the stored entry keeps the placeholder
