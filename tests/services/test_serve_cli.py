"""`wippy run` in service mode, as a user runs it: start, SIGINT, ordered stop.

The runtime is a subprocess; the test reads its log lines (stderr) as they come and
sends SIGINT once the ``running`` line is there, so nothing waits on a fixed sleep.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.services.projects import chain_project, write_project

SCRIPT = Path(sys.executable).parent / "wippy"
WIPPY = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wippy"]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals")


class Running:
    """A `wippy run` subprocess whose stderr lines are collected by a thread."""

    def __init__(self, cwd: Path, *args: str) -> None:
        env = dict(os.environ, NO_COLOR="1")
        self.proc = subprocess.Popen(
            [*WIPPY, "run", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 15.0) -> str:
        """Collect lines until one matches ``pattern`` (regex); fail after ``timeout``."""
        rx = re.compile(pattern)
        for line in self.lines:
            if rx.search(line):
                return line
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._queue.put(None)
                break
            self.lines.append(line)
            if rx.search(line):
                return line
        pytest.fail(f"no line matching {pattern!r}; got:\n" + "\n".join(self.lines))

    def finish(self, timeout: float = 20.0) -> int:
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return rc

    def index(self, pattern: str) -> int:
        rx = re.compile(pattern)
        for i, line in enumerate(self.lines):
            if rx.search(line):
                return i
        raise AssertionError(f"no line matching {pattern!r}:\n" + "\n".join(self.lines))

    def count(self, pattern: str) -> int:
        rx = re.compile(pattern)
        return sum(1 for line in self.lines if rx.search(line))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def chain(tmp_path: Path):
    run = Running(chain_project(tmp_path))
    try:
        yield run
    finally:
        run.kill()


def test_chain_starts_in_order_restarts_a_crasher_and_stops_in_reverse(chain: Running) -> None:
    chain.wait_for(r"runtime\s+running\b")
    # every tier is up (their own log lines) and the crasher has used up its 3 starts
    for tier in ("db", "cache", "api"):
        chain.wait_for(rf"\b{tier} up\b")
    chain.wait_for(r"service failed: .*no more retries after 3 starts\s+service=app:crasher")
    chain.proc.send_signal(signal.SIGINT)
    rc = chain.finish()
    assert rc == 0, "\n".join(chain.lines)

    # start order: a dependent starts only after its requirement runs
    assert chain.index(r"service running\s+service=app:processes") < chain.index(
        r"service starting.*service=app:db\b"
    )
    assert chain.index(r"service running\s+service=app:db\b") < chain.index(
        r"service starting.*service=app:cache\b"
    )
    assert chain.index(r"service running\s+service=app:cache\b") < chain.index(
        r"service starting.*service=app:api\b"
    )

    # stop order: api, cache, db, then the host; each tier saw the supervisor's CANCEL
    downs = [chain.index(rf"\b{t} down\b") for t in ("api", "cache", "db")]
    assert downs == sorted(downs)
    assert chain.index(r"service stopped\s+service=app:db\b") < chain.index(
        r"service stopping.*service=app:processes"
    )
    assert chain.index(r"service stopped\s+service=app:api\b") < chain.index(
        r"service stopping.*service=app:cache\b"
    )
    assert chain.index(r"service stopped\s+service=app:cache\b") < chain.index(
        r"service stopping.*service=app:db\b"
    )
    line = chain.lines[chain.index(r"\bapi down\b")]
    assert 'reason="service stopping"' in line
    assert re.search(r"from=\{node:control\|0x[0-9a-f]+\}", line)

    # the crasher was started exactly max_attempts times, each a failure with the Lua error
    assert chain.count(r"crasher started") == 3
    assert chain.count(r"service failed: process failed: .*crasher: boom") == 3
    # not auto-started and nobody requires it
    assert chain.count(r"\bidle up\b") == 0
    assert chain.count(r"service=app:idle\b") == 0
    # the logger's automatic fields
    up = chain.lines[chain.index(r"\bdb up\b")]
    assert re.search(r"tier=db pid=\{app:processes\|0x[0-9a-f]+\} location=app:tier:6$", up), up


def test_sigterm_is_graceful_too(chain: Running) -> None:
    chain.wait_for(r"runtime\s+running\b")
    chain.wait_for(r"\bapi up\b")
    chain.proc.send_signal(signal.SIGTERM)
    assert chain.finish() == 0
    assert chain.count(r"\bdb down\b") == 1
    assert chain.index(r"shutting down\s+signal=SIGTERM") < chain.index(r"\bapi down\b")


STUBBORN = """
local logger = require("logger")

local function main()
    local events = process.events()
    logger:info("stubborn up")
    while true do
        events:receive()
        logger:info("stubborn ignores cancel")
    end
end

return { main = main }
"""

STUBBORN_INDEX = """
version: "1.0"
namespace: app

entries:
  - name: processes
    kind: process.host
    lifecycle: {auto_start: true}

  - name: stubborn_proc
    kind: process.lua
    source: file://stubborn.lua
    method: main
    modules: [logger]

  - name: stubborn
    kind: process.service
    process: stubborn_proc
    host: processes
    lifecycle:
      auto_start: true
      stop_timeout: 200ms
"""


def test_a_process_ignoring_cancel_is_terminated_after_stop_timeout(tmp_path: Path) -> None:
    run = Running(write_project(tmp_path, STUBBORN_INDEX, {"stubborn.lua": STUBBORN}))
    try:
        run.wait_for(r"runtime\s+running\b")
        run.wait_for(r"stubborn up")
        run.proc.send_signal(signal.SIGINT)
        assert run.finish() == 0
    finally:
        run.kill()
    assert run.count("stubborn ignores cancel") == 1
    run.index(r"did not stop within 200ms; terminating")
    run.index(r"service failed: stop timeout after 200ms\s+service=app:stubborn")


def _stubborn_project(root: Path, stop_timeout: str) -> Path:
    index = STUBBORN_INDEX.replace("stop_timeout: 200ms", f"stop_timeout: {stop_timeout}")
    return write_project(root, index, {"stubborn.lua": STUBBORN})


def test_a_second_signal_forces_the_exit(tmp_path: Path) -> None:
    run = Running(_stubborn_project(tmp_path, "20s"))
    try:
        run.wait_for(r"runtime\s+running\b")
        run.wait_for(r"stubborn up")
        run.proc.send_signal(signal.SIGINT)
        run.wait_for(r"stubborn ignores cancel")
        run.proc.send_signal(signal.SIGINT)
        assert run.finish() == 130
    finally:
        run.kill()
    run.index(r"forced exit")


def test_shutdown_timeout_bounds_the_whole_stop(tmp_path: Path) -> None:
    root = _stubborn_project(tmp_path, "20s")
    (root / ".wippy.yaml").write_text("shutdown:\n  timeout: 300ms\n")
    run = Running(root)
    try:
        run.wait_for(r"runtime\s+running\b")
        run.wait_for(r"stubborn up")
        started = time.monotonic()
        run.proc.send_signal(signal.SIGINT)
        assert run.finish() == 1
        assert time.monotonic() - started < 5
    finally:
        run.kill()
    run.index(r"shutdown timed out after 300ms")
