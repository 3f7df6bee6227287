"""Starting in dependency order, stopping in reverse, cycles, missing and failed requirements."""

from __future__ import annotations

import logging

import pytest
import trio
from supervisor_fakes import FakeService, Recorder, policy

from wippy.supervisor import DependencyCycle, Lifecycle, Status, Supervisor


def lc(*requires: str, auto_start: bool = True, **kw: float) -> Lifecycle:
    base = policy(**kw)
    return Lifecycle(
        auto_start=auto_start,
        requires=requires,
        restart=base.restart,
        start_timeout=base.start_timeout,
        stop_timeout=base.stop_timeout,
    )


def events(journal: list[tuple[float, str, str]], *whats: str) -> list[tuple[float, str, str]]:
    return [e for e in journal if e[2] in whats]


async def test_three_tiers_start_in_order_and_stop_in_reverse(autojump_clock: trio.testing.MockClock) -> None:
    # graceful-shutdown: db <- cache <- api; each takes 1 s to start and 1 s to stop.
    journal: list = []
    rec = Recorder()
    async with Supervisor.open(on_change=rec, logger=rec) as sup:
        # registered in an order that is not the dependency order
        sup.add("app:api", FakeService("api", journal, ("slow", 1, "slow_stop", 1)), lc("app:cache"))
        sup.add("app:db", FakeService("db", journal, ("slow", 1, "slow_stop", 1)), lc())
        sup.add("app:cache", FakeService("cache", journal, ("slow", 1, "slow_stop", 1)), lc("app:db"))
        result = await sup.start_all()
        assert result.started == ["app:api", "app:cache", "app:db"] and result.ok
        assert trio.current_time() == 3
        assert events(journal, "start", "started") == [
            (0, "db", "start"),
            (1, "db", "started"),
            (1, "cache", "start"),
            (2, "cache", "started"),
            (2, "api", "start"),
            (3, "api", "started"),
        ]
        journal.clear()
        await sup.stop_all()
        assert trio.current_time() == 6
    # each tier is asked to stop only after everything that requires it has exited
    assert events(journal, "stop", "exit") == [
        (3, "api", "stop"),
        (4, "api", "exit"),
        (4, "cache", "stop"),
        (5, "cache", "exit"),
        (5, "db", "stop"),
        (6, "db", "exit"),
    ]
    assert {s.id: s.status for s in sup.states().values()} == dict.fromkeys(
        ("app:api", "app:cache", "app:db"), Status.STOPPED
    )


async def test_independent_services_start_and_stop_concurrently(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: list = []
    async with Supervisor.open() as sup:
        for name in ("a", "b", "c"):
            sup.add(name, FakeService(name, journal, ("slow", 2, "slow_stop", 2)), lc())
        sup.add("top", FakeService("top", journal, ("slow", 2, "slow_stop", 2)), lc("a", "b", "c"))
        await sup.start_all()
        assert trio.current_time() == 4  # a, b, c together, then top
        await sup.stop_all()
        assert trio.current_time() == 8  # top, then a, b, c together
    started = [e[1] for e in events(journal, "started")]
    assert set(started[:3]) == {"a", "b", "c"} and started[3] == "top"


async def test_a_chain_comes_up_as_soon_as_its_requirements_do(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # x <- y is quick; slow <- after_slow takes long; y need not wait for slow.
    journal: list = []
    async with Supervisor.open() as sup:
        sup.add("x", FakeService("x", journal, ("slow", 1, "run")), lc())
        sup.add("y", FakeService("y", journal, ("slow", 1, "run")), lc("x"))
        sup.add("slow", FakeService("slow", journal, ("slow", 5, "run")), lc())
        sup.add("after_slow", FakeService("after_slow", journal), lc("slow"))
        await sup.start_all()
    started = {name: t for t, name, what in journal if what == "started"}
    assert started == {"x": 1, "y": 2, "slow": 5, "after_slow": 5}


async def test_only_auto_start_services_and_their_requirements_start(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: list = []
    async with Supervisor.open() as sup:
        sup.add("app:processes", FakeService("host", journal), lc(auto_start=False))
        sup.add("app:idle", FakeService("idle", journal), lc(auto_start=False))
        # the host comes in as an extra (registry-extracted) dependency, not via requires
        sup.add(
            "app:svc", FakeService("svc", journal), lc(), depends_on=["app:processes", "app:not_a_service"]
        )
        result = await sup.start_all()
        assert result.started == ["app:processes", "app:svc"]
        assert sup.state("app:idle").status is Status.UNKNOWN
    assert [e[1] for e in events(journal, "started")] == ["host", "svc"]


async def test_a_dependency_cycle_is_refused_before_anything_starts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: list = []
    rec = Recorder()
    async with Supervisor.open(logger=rec) as sup:
        sup.add("a", FakeService("a", journal), lc("b"))
        sup.add("b", FakeService("b", journal), lc("a"))
        sup.add("c", FakeService("c", journal), lc())
        with pytest.raises(DependencyCycle) as info:
            await sup.start_all()
        assert str(info.value) == "dependency cycle: a -> b -> a"
        assert info.value.cycle == ["a", "b", "a"]
        assert (logging.ERROR, "dependency cycle: a -> b -> a") in rec.lines
    assert journal == []


async def test_a_longer_cycle_is_named_in_full(autojump_clock: trio.testing.MockClock) -> None:
    async with Supervisor.open() as sup:
        sup.add("root", FakeService("root", []), lc("p"))
        sup.add("p", FakeService("p", []), lc("q", auto_start=False))
        sup.add("q", FakeService("q", []), lc("r", auto_start=False))
        sup.add("r", FakeService("r", []), lc("p", auto_start=False))
        with pytest.raises(DependencyCycle, match=r"^dependency cycle: p -> q -> r -> p$"):
            await sup.start("root")
        # a service that requires itself
        sup.add("narcissus", FakeService("n", []), lc("narcissus"))
        with pytest.raises(DependencyCycle, match=r"^dependency cycle: narcissus -> narcissus$"):
            await sup.start("narcissus")


async def test_a_missing_requirement_blocks_only_its_dependents(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: list = []
    rec = Recorder()
    async with Supervisor.open(on_change=rec, logger=rec) as sup:
        sup.add("app:web", FakeService("web", journal), lc("app:db"))  # app:db is not registered
        sup.add("app:front", FakeService("front", journal), lc("app:web"))
        sup.add("app:other", FakeService("other", journal), lc())
        result = await sup.start_all()
        assert result.started == ["app:other"]
        assert result.blocked == {
            "app:web": "service blocked: requires app:db",
            "app:front": "service blocked: requires app:web, which did not start",
        }
        web = sup.state("app:web")
        assert web.status is Status.FAILED and web.details == "service blocked: requires app:db"
        await trio.sleep(60)  # blocked services are not retried
        assert sup.state("app:front").status is Status.FAILED
        assert sup.state("app:other").status is Status.RUNNING
    assert [e[1] for e in events(journal, "started")] == ["other"]
    assert (logging.ERROR, "service app:web failed: service blocked: requires app:db") in rec.lines


async def test_a_failing_requirement_blocks_its_subtree_and_keeps_retrying(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: list = []
    async with Supervisor.open() as sup:
        sup.add(
            "ledger",
            FakeService("ledger", journal, ("fail", "disk full"), ("fail", "disk full")),
            lc(initial_delay=1),
        )
        sup.add("worker", FakeService("worker", journal), lc("ledger"))
        sup.add("reporter", FakeService("reporter", journal), lc("worker"))
        sup.add("sibling", FakeService("sibling", journal, ("slow", 1, "run")), lc())
        result = await sup.start_all()
        assert result.failed == {"ledger": "disk full"}
        assert result.blocked == {
            "worker": "service blocked: requires ledger, which did not start",
            "reporter": "service blocked: requires worker, which did not start",
        }
        assert result.started == ["sibling"]
        # the failed requirement itself keeps retrying in the background
        await trio.sleep(10)
        assert sup.state("ledger").status is Status.RUNNING
        assert sup.state("worker").status is Status.FAILED
        # starting the dependent explicitly now works
        assert (await sup.start("reporter")).started == ["ledger", "reporter", "worker"]
    assert [e[1] for e in events(journal, "started")] == ["sibling", "ledger", "worker", "reporter"]


async def test_stop_one_stops_its_dependents_first(autojump_clock: trio.testing.MockClock) -> None:
    journal: list = []
    async with Supervisor.open() as sup:
        sup.add("db", FakeService("db", journal), lc())
        sup.add("cache", FakeService("cache", journal), lc("db"))
        sup.add("api", FakeService("api", journal), lc("cache"))
        sup.add("admin", FakeService("admin", journal), lc("db"))
        sup.add("unrelated", FakeService("unrelated", journal), lc())
        await sup.start_all()
        journal.clear()
        await sup.stop("cache")
        assert [e[1] for e in events(journal, "stop")] == ["api", "cache"]
        assert sup.state("db").status is Status.RUNNING
        assert sup.state("admin").status is Status.RUNNING
        journal.clear()
        # starting api brings cache back too (db is already running)
        result = await sup.start("api")
        assert result.started == ["api", "cache", "db"]
        assert [e[1] for e in events(journal, "started")] == ["cache", "api"]
        journal.clear()
    # leaving the block stops everything: level 2 (api), 1 (admin, cache), 0 (db, unrelated)
    stops = [e[1] for e in events(journal, "stop")]
    assert stops[0] == "api"
    assert set(stops[1:3]) == {"admin", "cache"}
    assert set(stops[3:]) == {"db", "unrelated"}


async def test_leaving_the_block_stops_gracefully_even_when_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: list = []
    with trio.move_on_after(5):
        async with Supervisor.open() as sup:
            sup.add("db", FakeService("db", journal, ("slow_stop", 1)), lc())
            sup.add("api", FakeService("api", journal, ("slow_stop", 1)), lc("db"))
            await sup.start_all()
            await trio.sleep_forever()
    assert events(journal, "stop", "exit") == [
        (5, "api", "stop"),
        (6, "api", "exit"),
        (6, "db", "stop"),
        (7, "db", "exit"),
    ]


async def test_a_finished_job_satisfies_dependents_without_rerunning(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: list = []
    migrate = FakeService("migrate", journal, ("exit", 0), ("exit", 0))
    async with Supervisor.open() as sup:
        sup.add("migrate", migrate, lc(auto_start=False))
        sup.add("app", FakeService("app", journal), lc("migrate"))
        await sup.start_all()
        await trio.sleep(1)
        assert sup.state("migrate").status is Status.EXITED
        await sup.stop("app")
        assert (await sup.start("app")).started == ["app", "migrate"]
        assert len(migrate.start_times) == 1
        await sup.start("migrate")  # by name: runs again
        assert len(migrate.start_times) == 2
        assert sup.state("migrate").to_event()["status"] in ("running", "exited")


async def test_shutdown_during_a_batch_start_starts_nothing_new(
    autojump_clock: trio.testing.MockClock,
) -> None:
    journal: list = []
    with trio.move_on_after(1.5):
        async with Supervisor.open() as sup:
            sup.add("db", FakeService("db", journal, ("slow", 1, "slow_stop", 1)), lc())
            sup.add("api", FakeService("api", journal, ("slow", 1, "run")), lc("db"))
            sup.add("late", FakeService("late", journal), lc("api"))
            await sup.start_all()
    # api's start was under way at 1.5 s: it is cancelled, db is stopped, late never starts
    assert journal == [
        (0, "db", "start"),
        (1, "db", "started"),
        (1, "api", "start"),
        (1.5, "db", "stop"),
        (2.5, "db", "exit"),
    ]
    assert sup.state("api").status is Status.STOPPED
    assert sup.state("late").status is Status.UNKNOWN


async def test_errors_of_the_block_are_not_wrapped(autojump_clock: trio.testing.MockClock) -> None:
    journal: list = []
    with pytest.raises(LookupError, match="boom"):
        async with Supervisor.open() as sup:
            sup.add("w", FakeService("w", journal), lc())
            await sup.start_all()
            raise LookupError("boom")
    assert [what for _, _, what in journal] == ["start", "started", "stop", "exit"]
