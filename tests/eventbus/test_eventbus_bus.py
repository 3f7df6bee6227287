"""Event bus behaviour: ordering, isolation of slow subscribers, threads, caps, close."""

from __future__ import annotations

import logging
import threading

import pytest
import trio
import trio.testing

from wippy.eventbus import Event, EventBus, EventBusError


async def settle() -> None:
    """Let the dispatcher and every subscriber run until nothing is runnable."""
    await trio.testing.wait_all_tasks_blocked()


async def test_events_arrive_in_publish_order_with_mixed_topics() -> None:
    bus = EventBus()
    async with bus.running():
        every = bus.subscribe(buffer=4096)
        reg = bus.subscribe("registry.**", buffer=4096)
        creates = bus.subscribe("(registry|entry).*", "create", buffer=4096)
        sent = []
        for i in range(3000):
            system = ("registry", "registry.entry", "entry.x", "other")[i % 4]
            kind = ("create", "update")[i % 3 == 0]
            ev = Event(system, kind, str(i))
            sent.append(ev)
            bus.send(ev)
            if i % 700 == 0:
                await trio.sleep(0)
        await settle()
        assert every.drain_nowait() == sent
        assert reg.drain_nowait() == [e for e in sent if e.system.startswith("registry")]
        assert creates.drain_nowait() == [
            e for e in sent if e.system in ("registry.entry", "entry.x") and e.kind == "create"
        ]


async def test_subscribe_unsubscribe_send_are_totally_ordered() -> None:
    bus = EventBus()
    async with bus.running():
        bus.publish("s", "k", "before")
        sub = bus.subscribe("s")
        bus.publish("s", "k", "during-1")
        bus.publish("s", "k", "during-2")
        sub.close()
        bus.publish("s", "k", "after")
        got = [ev.path async for ev in sub]  # ends after the unsubscribe point
        assert got == ["during-1", "during-2"]
        assert sub.closed


async def test_actions_queued_before_the_bus_runs_are_applied_in_order() -> None:
    bus = EventBus()
    bus.publish("s", "k", "lost")  # nobody subscribed yet
    sub = bus.subscribe("s")
    bus.publish("s", "k", "kept")
    async with bus.running():
        assert (await sub.__anext__()).path == "kept"


async def test_kind_empty_or_star_means_every_kind() -> None:
    bus = EventBus()
    async with bus.running():
        a = bus.subscribe("sys", "")
        b = bus.subscribe("sys", "*")
        c = bus.subscribe("sys", "only")
        for kind in ("only", "entry.create", "x"):
            bus.publish("sys", kind)
        await settle()
        assert [e.kind for e in a.drain_nowait()] == ["only", "entry.create", "x"]
        assert [e.kind for e in b.drain_nowait()] == ["only", "entry.create", "x"]
        assert [e.kind for e in c.drain_nowait()] == ["only"]


async def test_slow_subscriber_does_not_stall_others(caplog: pytest.LogCaptureFixture) -> None:
    gate = trio.Event()
    slow_seen: list[int] = []

    async def slow(ev: Event) -> None:
        await gate.wait()
        slow_seen.append(ev.data)

    bus = EventBus()
    caplog.set_level(logging.WARNING, logger="wippy.eventbus")
    async with bus.running():
        slow_sub = bus.subscribe("load", handler=slow, buffer=100)
        fast_seen: list[int] = []
        bus.subscribe("load", handler=lambda ev: fast_seen.append(ev.data))
        fast_iter = bus.subscribe("load")
        await settle()  # handler tasks are running and parked
        total = 5000
        iter_seen: list[int] = []
        for i in range(total):
            bus.publish("load", "tick", data=i)
            if i % 250 == 249:
                await settle()
                iter_seen.extend(e.data for e in fast_iter.drain_nowait())
        await settle()
        iter_seen.extend(e.data for e in fast_iter.drain_nowait())
        # the fast subscribers got everything, in order, while the slow one was stuck
        assert fast_seen == list(range(total))
        assert iter_seen == list(range(total))
        assert slow_seen == []
        # drop-oldest: the slow one keeps the newest `buffer` events (plus the one it holds)
        assert slow_sub.dropped == total - 1 - 100
        assert any("dropped" in r.getMessage() for r in caplog.records)
        gate.set()
        await settle()
        # it was holding one event when the rest piled up; then it got the newest 100
        assert slow_seen[1:] == list(range(total - 100, total))
        assert slow_seen[0] < total - 100


async def test_publishing_from_other_threads() -> None:
    bus = EventBus()
    n_threads, per_thread = 4, 2000
    async with bus.running():
        sub = bus.subscribe("t.*", buffer=n_threads * per_thread)

        def publisher(t: int) -> None:
            for i in range(per_thread):
                bus.send(Event(f"t.{t}", "tick", "", i))

        threads = [threading.Thread(target=publisher, args=(t,)) for t in range(n_threads)]
        for th in threads:
            th.start()
        got: list[Event] = []
        with trio.fail_after(10):
            while len(got) < n_threads * per_thread:
                got.extend(await sub.receive_batch())
        for th in threads:
            th.join()
        assert sub.dropped == 0
        for t in range(n_threads):
            assert [e.data for e in got if e.system == f"t.{t}"] == list(range(per_thread))


async def test_subscribe_from_another_thread() -> None:
    bus = EventBus()
    async with bus.running():
        holder: list = []
        await trio.to_thread.run_sync(lambda: holder.append(bus.subscribe("x")))
        bus.publish("x", "k", "p")
        with trio.fail_after(5):
            assert (await holder[0].__anext__()).path == "p"


async def test_subscriber_cap_and_release() -> None:
    bus = EventBus(max_subscribers=3)
    subs = [bus.subscribe() for _ in range(3)]
    with pytest.raises(EventBusError, match="eventbus subscribers cap reached"):
        bus.subscribe()
    bus.unsubscribe(subs[0])
    bus.unsubscribe(subs[0])  # idempotent
    assert bus.subscriber_count == 2
    bus.subscribe()


def test_default_cap_is_4096() -> None:
    bus = EventBus()
    for _ in range(4096):
        bus.subscribe()
    with pytest.raises(EventBusError, match="eventbus subscribers cap reached"):
        bus.subscribe()


async def test_close_ends_subscriptions_and_refuses_new_ones() -> None:
    bus = EventBus()
    async with bus.running():
        sub = bus.subscribe()
        bus.publish("a", "b", "before-close")
        bus.close()
        bus.publish("a", "b", "after-close")  # dropped silently
        with pytest.raises(EventBusError, match="bus is closed"):
            bus.subscribe()
        assert [e.path async for e in sub] == ["before-close"]
    assert bus.closed


async def test_handlers_sync_and_async_and_errors_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def bad(ev: Event) -> None:
        if ev.path == "boom":
            raise RuntimeError("boom")
        seen.append("sync:" + ev.path)

    async def good(ev: Event) -> None:
        await trio.sleep(0)
        seen.append("async:" + ev.path)

    bus = EventBus()
    async with bus.running():
        bus.subscribe("h", handler=bad)
        bus.subscribe("h", handler=good)
        for p in ("1", "boom", "2"):
            bus.publish("h", "k", p)
        await settle()
    assert [s for s in seen if s.startswith("sync")] == ["sync:1", "sync:2"]
    assert [s for s in seen if s.startswith("async")] == ["async:1", "async:boom", "async:2"]
    assert any("failed" in r.getMessage() for r in caplog.records)


async def test_iteration_parks_and_wakes() -> None:
    bus = EventBus()
    async with bus.running():
        sub = bus.subscribe("p")
        got: list[str] = []

        async def consume() -> None:
            async for ev in sub:
                got.append(ev.path)

        async with trio.open_nursery() as n:
            n.start_soon(consume)
            await settle()
            bus.publish("p", "k", "x")
            await settle()
            assert got == ["x"]
            bus.publish("p", "k", "y")
            sub.close()
        assert got == ["x", "y"]


async def test_cancelled_bus_ends_every_subscription() -> None:
    bus = EventBus()
    early = bus.subscribe("x")
    with trio.CancelScope() as cs:
        async with trio.open_nursery() as n:
            await n.start(bus.run)
            await settle()
            late = bus.subscribe("x")  # queued; never processed before the cancel
            cs.cancel()
    assert bus.closed
    assert [e async for e in early] == []
    assert [e async for e in late] == []


def test_send_rejects_non_events() -> None:
    with pytest.raises(TypeError):
        EventBus().send(("a", "b", "c", None))  # type: ignore[arg-type]


async def test_one_consumer_per_subscription_and_context_manager() -> None:
    bus = EventBus()
    async with bus.running():
        with bus.subscribe("c") as sub:
            async with trio.open_nursery() as n:
                n.start_soon(sub.__anext__)
                await settle()
                with pytest.raises(trio.BusyResourceError):
                    await sub.__anext__()
                n.cancel_scope.cancel()
        await settle()
        assert sub.closed
        assert bus.subscriber_count == 0
