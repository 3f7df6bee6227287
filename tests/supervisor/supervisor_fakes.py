"""Fake services for the supervisor tests: scripted starts, exits and stop behaviour."""

from __future__ import annotations

import math
from typing import Any

import trio

from wippy.backoff import RestartPolicy
from wippy.supervisor import Exit, Lifecycle, ServiceError, ServiceState, Status, Supervisor

# --------------------------------------------------------------------------- fakes

Step = tuple[Any, ...]


class FakeService:
    """A service following a script, one step per start (then ``default`` forever).

    Steps: ("run",) runs until asked to stop; ("crash", after, error) ends with an error;
    ("exit", after) ends normally; ("fatal_exit", after, error) ends with a non-retryable
    error; ("stubborn",) ignores stop; ("slow_stop", d) exits d seconds after stop;
    ("fail", error) fails start(); ("fatal", error) fails start() for good; ("hang",)
    never returns from start(); ("slow", d, then...) takes d seconds to start.
    """

    def __init__(
        self, name: str, journal: list[tuple[float, str, str]], *steps: Step, default: Step = ("run",)
    ) -> None:
        self.name = name
        self.journal = journal
        self.steps = list(steps)
        self.default = default
        self.start_times: list[float] = []
        self.runs: list[FakeRun] = []

    def note(self, what: str) -> None:
        self.journal.append((trio.current_time(), self.name, what))

    async def start(self) -> FakeRun:
        self.start_times.append(trio.current_time())
        step = self.steps.pop(0) if self.steps else self.default
        self.note("start")
        kind, *args = step
        if kind == "slow":
            await trio.sleep(args[0])
            kind, *args = args[1:] or ("run",)
        if kind == "fail":
            raise RuntimeError(args[0])
        if kind == "fatal":
            raise ServiceError(args[0], retryable=False)
        if kind == "hang":
            await trio.sleep_forever()
        self.note("started")
        run = FakeRun(self, kind, args)
        self.runs.append(run)
        return run


class FakeRun:
    def __init__(self, svc: FakeService, kind: str, args: list[Any]) -> None:
        self.svc = svc
        self.kind = kind
        self.args = args
        self.ended = trio.Event()
        self.exit = Exit(normal=True)
        self.stop_reasons: list[str] = []
        self.terminated = False

    async def wait(self) -> Exit:
        after = self.args[0] if self.kind in ("crash", "exit", "fatal_exit") else math.inf
        with trio.move_on_after(after):
            await self.ended.wait()
            return self.exit
        self.svc.note(self.kind)
        if self.kind == "crash":
            return Exit(normal=False, error=self.args[1])
        if self.kind == "fatal_exit":
            return Exit(normal=False, error=self.args[1], retryable=False)
        return Exit(normal=True)

    async def stop(self, reason: str) -> None:
        self.stop_reasons.append(reason)
        self.svc.note("stop")
        if self.kind == "stubborn":
            return
        if self.kind == "slow_stop":
            await trio.sleep(self.args[0])
        self.svc.note("exit")
        self.ended.set()

    async def terminate(self) -> None:
        self.terminated = True
        self.svc.note("terminate")
        self.exit = Exit(normal=False, error="terminated")
        self.ended.set()


class Recorder:
    """Collects on_change states and log lines."""

    def __init__(self) -> None:
        self.states: list[ServiceState] = []
        self.lines: list[tuple[int, str]] = []

    def __call__(self, state: ServiceState) -> None:
        self.states.append(state)

    def log(self, level: int, msg: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append((level, msg))

    def statuses(self, sid: str) -> list[str]:
        return [s.status.value for s in self.states if s.id == sid]


def policy(**restart: Any) -> Lifecycle:
    extra = {
        k: restart.pop(k) for k in list(restart) if k in ("start_timeout", "stop_timeout", "stable_threshold")
    }
    restart.setdefault("jitter", 0.0)
    return Lifecycle(auto_start=True, restart=RestartPolicy(**restart), **extra)


async def settle(sup: Supervisor, sid: str, *statuses: Status) -> ServiceState:
    """Let (mock) time pass until ``sid`` has one of ``statuses`` and no pending restart."""
    for _ in range(10_000):
        st = sup.state(sid)
        if st.status in statuses and st.next_delay is None:
            return st
        await trio.sleep(0.01)
    raise AssertionError(f"{sid} stuck at {sup.state(sid)}")


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in zip(times, times[1:], strict=False)]
