"""Supervision of a single service: restarts, backoff, timeouts, stop protocol, reports.

Every test runs on trio's MockClock with autojump (the ``autojump_clock`` fixture), so
delays of seconds cost nothing and times are exact.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest
import trio
from supervisor_fakes import FakeService, Recorder, gaps, policy, settle  # noqa: E402

from wippy.supervisor import (
    STOP_REASON,
    Exit,
    ServiceState,
    Status,
    Supervisor,
)

# --------------------------------------------------------------------------- restarts


async def test_exact_exponential_delays_until_max_attempts(autojump_clock: trio.testing.MockClock) -> None:
    journal: list = []
    svc = FakeService("w", journal, default=("fail", "boom"))
    rec = Recorder()
    async with Supervisor.open(on_change=rec, logger=rec) as sup:
        sup.add("w", svc, policy(initial_delay=1, backoff_factor=2, max_delay=5, max_attempts=5))
        result = await sup.start_all()
        assert result.failed == {"w": "boom"}
        st = await settle(sup, "w", Status.FAILED)
    assert gaps(svc.start_times) == [1, 2, 4, 5]  # the fifth start is the last
    assert st.retry_count == 5
    assert st.details == "boom"
    assert [s.next_delay for s in rec.states if s.status is Status.FAILED] == [1, 2, 4, 5, None]
    assert [s.details for s in rec.states if s.status is Status.STARTING] == [
        f"attempt {n}" for n in range(1, 6)
    ]


async def test_other_policies_give_their_own_delays(autojump_clock: trio.testing.MockClock) -> None:
    journal: list = []
    crashing = FakeService("c", journal, default=("crash", 0.5, "bad"))
    flat = FakeService("f", journal, default=("fail", "nope"))
    async with Supervisor.open() as sup:
        # a run of 0.5 s (< stable_threshold) that crashes: delays 0.1, 0.3, 0.9, 1 (capped)
        sup.add("c", crashing, policy(initial_delay=0.1, backoff_factor=3, max_delay=1, max_attempts=5))
        # factor 1: constant delay (what the reference does for every policy)
        sup.add("f", flat, policy(initial_delay=0.25, backoff_factor=1, max_attempts=4))
        await sup.start_all()
        await settle(sup, "c", Status.FAILED)
        await settle(sup, "f", Status.FAILED)
    assert gaps(crashing.start_times) == [0.6, 0.8, 1.4, 1.5]
    assert gaps(flat.start_times) == [0.25, 0.25, 0.25]


async def test_jittered_delays_stay_within_bounds(autojump_clock: trio.testing.MockClock) -> None:
    svc = FakeService("w", [], default=("fail", "boom"))
    async with Supervisor.open(rng=random.Random(3)) as sup:
        sup.add(
            "w", svc, policy(initial_delay=1, backoff_factor=2, max_delay=100, jitter=0.2, max_attempts=7)
        )
        await sup.start_all()
        await settle(sup, "w", Status.FAILED)
    observed = gaps(svc.start_times)
    assert len(observed) == 6
    for n, gap in enumerate(observed, start=1):
        base = 2 ** (n - 1)
        assert base * 0.8 <= gap <= base * 1.2
    assert observed != [1, 2, 4, 8, 16, 32]


async def test_flaky_service_is_restarted_until_it_stays_up(autojump_clock: trio.testing.MockClock) -> None:
    # declarative-supervision's app:flaky: crashes on starts 1..3, stable on start 4.
    journal: list = []
    svc = FakeService("flaky", journal, ("crash", 0, "e1"), ("crash", 0, "e2"), ("crash", 0, "e3"))
    async with Supervisor.open() as sup:
        sup.add("flaky", svc, policy(initial_delay=0.1, backoff_factor=2, max_delay=1, max_attempts=6))
        await sup.start_all()
        st = await settle(sup, "flaky", Status.RUNNING)
        assert st.retry_count == 3
        await trio.sleep(60)
        assert sup.state("flaky").status is Status.RUNNING
    assert len(svc.start_times) == 4
    assert gaps(svc.start_times) == [0.1, 0.2, 0.4]


async def test_max_attempts_is_the_total_number_of_starts(autojump_clock: trio.testing.MockClock) -> None:
    # declarative-supervision's app:doomed: max_attempts 3 -> three starts in all.
    rec = Recorder()
    svc = FakeService("doomed", [], default=("crash", 0, "failing on purpose"))
    async with Supervisor.open(on_change=rec, logger=rec) as sup:
        sup.add("doomed", svc, policy(initial_delay=0.1, max_attempts=3))
        await sup.start_all()
        await trio.sleep(100)
        st = sup.state("doomed")
    assert len(svc.start_times) == 3
    assert st.status is Status.FAILED and st.next_delay is None and st.retry_count == 3
    assert rec.lines[-1] == (
        logging.ERROR,
        "service doomed failed: failing on purpose; no more retries after 3 starts",
    )


async def test_a_stable_run_resets_the_count(autojump_clock: trio.testing.MockClock) -> None:
    journal: list = []
    # Runs 10 s (> stable_threshold 5 s) before each crash: the count never reaches 2.
    stable = FakeService("stable", journal, default=("crash", 10, "daily crash"))
    # Runs 1 s: the second crash exhausts max_attempts 2.
    unstable = FakeService("unstable", journal, default=("crash", 1, "quick crash"))
    rec = Recorder()
    async with Supervisor.open(on_change=rec) as sup:
        sup.add(
            "stable", stable, policy(initial_delay=1, backoff_factor=2, max_attempts=2, stable_threshold=5)
        )
        sup.add(
            "unstable",
            unstable,
            policy(initial_delay=1, backoff_factor=2, max_attempts=2, stable_threshold=5),
        )
        await sup.start_all()
        await trio.sleep(60)
        assert sup.state("stable").status in (Status.RUNNING, Status.STARTING)
        assert sup.state("unstable").status is Status.FAILED
    assert len(unstable.start_times) == 2
    assert len(stable.start_times) >= 5
    assert set(gaps(stable.start_times)) == {11}  # 10 s run + the initial delay every time
    assert {s.retry_count for s in rec.states if s.id == "stable" and s.status is Status.FAILED} == {1}


async def test_normal_exit_is_final(autojump_clock: trio.testing.MockClock) -> None:
    rec = Recorder()
    svc = FakeService("oneshot", [], ("exit", 0))
    async with Supervisor.open(on_change=rec, logger=rec) as sup:
        sup.add("oneshot", svc, policy(initial_delay=0.1))
        result = await sup.start_all()
        assert result.started == ["oneshot"]
        await trio.sleep(10)
        st = sup.state("oneshot")
    assert st.status is Status.EXITED and st.details == "service exited"
    assert len(svc.start_times) == 1
    assert rec.statuses("oneshot") == ["starting", "running", "exited"]  # no stop: it had ended


async def test_non_retryable_errors_end_the_service(autojump_clock: trio.testing.MockClock) -> None:
    exits = FakeService("exits", [], ("fatal_exit", 1, "bad config"))
    refuses = FakeService("refuses", [], ("fatal", "license expired"))
    async with Supervisor.open() as sup:
        sup.add("exits", exits, policy())
        sup.add("refuses", refuses, policy())
        result = await sup.start_all()
        assert result.failed == {"refuses": "license expired"}
        await trio.sleep(30)
        assert sup.state("exits").status is Status.EXITED
        assert sup.state("exits").details == "bad config"
        assert sup.state("refuses").status is Status.EXITED
        assert sup.state("refuses").details == "license expired"
    assert len(exits.start_times) == 1
    assert len(refuses.start_times) == 1


async def test_start_timeout_fails_and_retries(autojump_clock: trio.testing.MockClock) -> None:
    rec = Recorder()
    svc = FakeService("slowpoke", [], ("hang",))
    async with Supervisor.open(on_change=rec, logger=rec) as sup:
        sup.add("slowpoke", svc, policy(initial_delay=1, start_timeout=2))
        result = await sup.start_all()
        assert result.failed == {"slowpoke": "start timeout"}
        await settle(sup, "slowpoke", Status.RUNNING)
    assert svc.start_times == [0, 3]  # 2 s timeout + 1 s delay
    assert (logging.WARNING, "service slowpoke failed: start timeout; retry 2 in 1s") in rec.lines


async def test_a_slow_start_within_the_timeout_is_fine(autojump_clock: trio.testing.MockClock) -> None:
    svc = FakeService("s", [], ("slow", 9, "run"))
    async with Supervisor.open() as sup:
        sup.add("s", svc, policy(start_timeout=10))
        assert (await sup.start_all()).started == ["s"]
        assert trio.current_time() == 9
    assert len(svc.start_times) == 1


# --------------------------------------------------------------------------- stopping


async def test_stop_is_cooperative_then_reports_stopped(autojump_clock: trio.testing.MockClock) -> None:
    rec = Recorder()
    svc = FakeService("w", [], ("slow_stop", 2))
    async with Supervisor.open(on_change=rec, logger=rec) as sup:
        sup.add("w", svc, policy(stop_timeout=5))
        await sup.start_all()
        await sup.stop("w")
        assert trio.current_time() == 2
        assert sup.state("w").status is Status.STOPPED
    assert svc.runs[0].stop_reasons == [STOP_REASON]
    assert not svc.runs[0].terminated
    assert rec.statuses("w") == ["starting", "running", "stopping", "stopped"]
    assert len(svc.start_times) == 1  # a stopped service is not restarted


async def test_stop_timeout_terminates_a_stubborn_service(autojump_clock: trio.testing.MockClock) -> None:
    rec = Recorder()
    journal: list = []
    svc = FakeService("mule", journal, ("stubborn",))
    async with Supervisor.open(on_change=rec, logger=rec) as sup:
        sup.add("mule", svc, policy(stop_timeout=3))
        await sup.start_all()
        await sup.stop("mule")
        st = sup.state("mule")
    assert [(t, what) for t, _, what in journal] == [
        (0, "start"),
        (0, "started"),
        (0, "stop"),
        (3, "terminate"),
    ]
    assert st.status is Status.FAILED and st.details == "stop timeout after 3s"
    assert rec.statuses("mule")[-2:] == ["stopping", "failed"]
    assert len(svc.start_times) == 1


async def test_stop_during_backoff_cancels_the_restart(autojump_clock: trio.testing.MockClock) -> None:
    rec = Recorder()
    svc = FakeService("w", [], default=("fail", "boom"))
    async with Supervisor.open(on_change=rec) as sup:
        sup.add("w", svc, policy(initial_delay=10))
        await sup.start_all()
        await trio.sleep(1)
        await sup.stop("w")
        assert trio.current_time() == 1
        await trio.sleep(100)
    assert len(svc.start_times) == 1
    assert rec.statuses("w") == ["starting", "failed", "stopping", "stopped"]


async def test_stop_during_start_cancels_the_start(autojump_clock: trio.testing.MockClock) -> None:
    svc = FakeService("w", [], ("hang",))
    async with Supervisor.open() as sup:
        sup.add("w", svc, policy(start_timeout=60))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sup.start_all)
            await trio.sleep(1)
            await sup.stop("w")
        assert sup.state("w").status is Status.STOPPED
        assert trio.current_time() == 1


async def test_start_again_after_stop(autojump_clock: trio.testing.MockClock) -> None:
    svc = FakeService("w", [], ("crash", 0, "x"))
    async with Supervisor.open() as sup:
        sup.add("w", svc, policy(initial_delay=1))
        await sup.start_all()
        await settle(sup, "w", Status.RUNNING)
        assert sup.state("w").retry_count == 1
        await sup.stop("w")
        assert (await sup.start("w")).started == ["w"]
        st = sup.state("w")
        assert st.status is Status.RUNNING and st.retry_count == 0 and st.details == ""
    assert len(svc.start_times) == 3


async def test_remove_stops_and_forgets(autojump_clock: trio.testing.MockClock) -> None:
    svc = FakeService("w", [])
    async with Supervisor.open() as sup:
        sup.add("w", svc, policy())
        await sup.start_all()
        await sup.remove("w")
        assert "w" not in sup
        assert sup.states() == {}
    assert svc.runs[0].stop_reasons == [STOP_REASON]


# --------------------------------------------------------------------------- reporting


async def test_state_changes_are_reported_in_order(autojump_clock: trio.testing.MockClock) -> None:
    rec = Recorder()
    svc = FakeService("app:w", [], ("crash", 2, "process failed: boom"))
    async with Supervisor.open(on_change=rec, logger=rec) as sup:
        sup.add("app:w", svc, policy(initial_delay=1.5))
        assert sup.state("app:w").status is Status.UNKNOWN
        await sup.start_all()
        await trio.sleep(10)
    got = [(s.status.value, s.details, s.retry_count, s.next_delay, s.desired) for s in rec.states]
    assert got == [
        ("starting", "attempt 1", 0, None, "running"),
        ("running", "", 0, None, "running"),
        ("failed", "process failed: boom", 1, 1.5, "running"),
        ("starting", "attempt 2", 1, None, "running"),
        ("running", "", 1, None, "running"),
        ("stopping", STOP_REASON, 1, None, "stopped"),
        ("stopped", "", 1, None, "stopped"),
    ]
    assert [t for t in (s.time for s in rec.states)] == sorted(s.time for s in rec.states)
    assert rec.lines == [
        (logging.INFO, "service app:w starting: attempt 1"),
        (logging.INFO, "service app:w running"),
        (logging.WARNING, "service app:w failed: process failed: boom; retry 2 in 1.5s"),
        (logging.INFO, "service app:w starting: attempt 2"),
        (logging.INFO, "service app:w running"),
        (logging.INFO, f"service app:w stopping: {STOP_REASON}"),
        (logging.INFO, "service app:w stopped"),
    ]


async def test_a_failing_callback_does_not_hurt(autojump_clock: trio.testing.MockClock) -> None:
    def explode(state: ServiceState) -> None:
        raise RuntimeError("bus down")

    rec = Recorder()
    async with Supervisor.open(on_change=explode, logger=rec) as sup:
        sup.add("w", FakeService("w", []), policy())
        assert (await sup.start_all()).ok
        assert sup.state("w").status is Status.RUNNING
    assert (logging.ERROR, "supervisor: on_change callback failed") in rec.lines


async def test_a_service_whose_wait_raises_is_failed(autojump_clock: trio.testing.MockClock) -> None:
    class Broken:
        starts = 0

        async def start(self) -> Broken:
            Broken.starts += 1
            return self

        async def wait(self) -> Exit:
            await trio.sleep(1)
            raise ValueError("watcher lost")

        async def stop(self, reason: str) -> None:
            pass

        async def terminate(self) -> None:
            pass

    rec = Recorder()
    async with Supervisor.open(on_change=rec) as sup:
        sup.add("b", Broken(), policy(max_attempts=2))
        await sup.start_all()
        await trio.sleep(10)
    assert Broken.starts == 2
    assert [s.details for s in rec.states if s.status is Status.FAILED] == ["watcher lost", "watcher lost"]


@pytest.mark.parametrize("bad", ["a", 3])
def test_unknown_ids_raise(bad: Any) -> None:
    sup = Supervisor(None)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="service not found"):
        sup.state(bad)
