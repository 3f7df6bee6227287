"""Mailbox: per-sender order under back-pressure, thread senders, stop without loss."""

from __future__ import annotations

import threading

import pytest
import trio
import trio.testing

from wippy.relay import Mailbox, Message, Node, Package, RelayError

N_TARGETS = 5


def src(i: int) -> str:
    return f"{{app:processes|0x{i:05x}}}"


def dst(i: int) -> str:
    return f"{{node:control|0x{0x100 + i:05x}}}"


def make(i: int, seq: int) -> Package:
    return Package(src(i), dst(i % N_TARGETS), [Message("seq", [seq])])


class Recorder:
    """Attached to every target; records (source, seq) and yields to trio each time."""

    def __init__(self, gate: trio.Event | None = None) -> None:
        self.got: list[tuple[str, int]] = []
        self.gate = gate

    async def __call__(self, pkg: Package) -> None:
        if self.gate is not None:
            await self.gate.wait()
        await trio.sleep(0)  # a slow receiver: every delivery is a scheduling round
        self.got.append((pkg.source, pkg.messages[0].payloads[0]))


def attach_all(mb: Mailbox, rec: Recorder) -> None:
    for t in range(N_TARGETS):
        mb.attach(dst(t), rec)


def per_sender(got: list[tuple[str, int]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for s, seq in got:
        out.setdefault(s, []).append(seq)
    return out


async def test_per_sender_order_50_senders_8_workers_with_back_pressure() -> None:
    senders, per = 50, 1000
    mb = Mailbox("node:control", buffer=4, workers=8)
    rec = Recorder()
    attach_all(mb, rec)
    blocked = 0

    async def sender(i: int) -> None:
        nonlocal blocked
        for seq in range(per):
            w = mb._workers[mb.worker_for(src(i))]
            if len(w.queue) >= mb.buffer:
                blocked += 1
            await mb.send_async(make(i, seq))

    with trio.fail_after(15):
        async with mb.running():
            async with trio.open_nursery() as n:
                for i in range(senders):
                    n.start_soon(sender, i)
    assert blocked > 0  # back-pressure really happened
    assert len(rec.got) == senders * per
    by = per_sender(rec.got)
    assert len(by) == senders
    for seqs in by.values():
        assert seqs == list(range(per))
    assert mb.delivered == senders * per and mb.dropped == 0


async def test_thread_senders_via_send_threadsafe_keep_order() -> None:
    threads, per = 6, 1000
    mb = Mailbox(buffer=2, workers=3)
    rec = Recorder()
    attach_all(mb, rec)
    parked = [0] * threads

    def sender(i: int) -> None:
        for seq in range(per):
            done = threading.Event()
            err: list[RelayError | None] = []

            def on_done(e: RelayError | None, _d: threading.Event = done, _r: list = err) -> None:
                _r.append(e)
                _d.set()

            if not mb.send_threadsafe(make(i, seq), on_done):
                parked[i] += 1  # like a Lua process: suspended until accepted
                assert done.wait(10)
                assert err == [None]

    with trio.fail_after(15):
        async with mb.running():
            async with trio.open_nursery() as n:
                for i in range(threads):
                    n.start_soon(trio.to_thread.run_sync, sender, i)
    assert sum(parked) > 0
    by = per_sender(rec.got)
    assert sorted(by) == sorted(src(i) for i in range(threads))
    for seqs in by.values():
        assert seqs == list(range(per))


async def test_sync_send_reports_full_and_stopped() -> None:
    mb = Mailbox(buffer=1, workers=1)
    rec = Recorder()
    attach_all(mb, rec)
    assert mb.send(make(0, 0)) is True
    assert mb.send(make(0, 1)) is False  # full: nothing queued
    node = Node()
    node.register("node:control", mb)
    assert node.send(make(1, 7)) is False  # through the Node, the same signal
    async with mb.running():
        await trio.testing.wait_all_tasks_blocked()
        assert node.send(make(1, 8)) is True
        await trio.testing.wait_all_tasks_blocked()
    assert rec.got == [(src(0), 0), (src(1), 8)]
    with pytest.raises(RelayError, match="^mailbox stopped$"):
        mb.send(make(0, 2))
    with pytest.raises(RelayError, match="^mailbox stopped$"):
        await mb.send_async(make(0, 2))
    with pytest.raises(RelayError, match="^mailbox stopped$"):
        mb.send_threadsafe(make(0, 2), lambda e: None)


async def test_stop_while_full_loses_nothing_and_duplicates_nothing() -> None:
    """Every package is delivered exactly once, or its sender got 'mailbox stopped'."""
    gate = trio.Event()
    mb = Mailbox(buffer=2, workers=4)
    rec = Recorder(gate)
    attach_all(mb, rec)
    failed: dict[str, int] = {}
    attempted: dict[str, int] = {}
    thread_done = threading.Event()
    n_async, n_threads, per = 20, 4, 50

    async def async_sender(i: int) -> None:
        for seq in range(per):
            attempted[src(i)] = seq + 1
            try:
                await mb.send_async(make(i, seq))
            except RelayError as e:
                assert e.message == "mailbox stopped"
                failed[src(i)] = seq
                return

    def thread_sender(i: int) -> None:
        for seq in range(per):
            attempted[src(i)] = seq + 1
            done = threading.Event()
            res: list[RelayError | None] = []

            def on_done(e: RelayError | None, _d: threading.Event = done, _r: list = res) -> None:
                _r.append(e)
                _d.set()

            try:
                queued = mb.send_threadsafe(make(i, seq), on_done)
            except RelayError:
                failed[src(i)] = seq
                return
            if not queued:
                done.wait(10)
                if res[0] is not None:
                    failed[src(i)] = seq
                    return
        thread_done.set()

    async def all_threads_parked() -> None:
        # wait until each thread sender has a package waiting in some worker's FIFO
        while True:
            waiting = {w.pkg.source for wk in mb._workers for w in wk.waiters}
            if all(src(100 + t) in waiting for t in range(n_threads)):
                return
            await trio.sleep(0.001)

    with trio.fail_after(15):
        async with trio.open_nursery() as outer:
            await outer.start(mb.run)
            async with trio.open_nursery() as n:
                for i in range(n_async):
                    n.start_soon(async_sender, i)
                for t in range(n_threads):
                    n.start_soon(trio.to_thread.run_sync, thread_sender, 100 + t)
                await all_threads_parked()
                await trio.testing.wait_all_tasks_blocked()
                queued = sum(len(w.queue) for w in mb._workers)
                assert queued > 0 and sum(len(w.waiters) for w in mb._workers) > 0
                mb.stop()
                gate.set()
    assert not thread_done.is_set()
    delivered = per_sender(rec.got)
    assert len(rec.got) == len(set(rec.got))  # no duplicates
    everyone = [src(i) for i in range(n_async)] + [src(100 + t) for t in range(n_threads)]
    for s in everyone:
        got = delivered.get(s, [])
        # delivered = an in-order prefix; the next one failed; nothing after was sent
        assert got == list(range(len(got)))
        assert s in failed, s
        assert failed[s] == len(got)
        assert attempted[s] == len(got) + 1
    assert mb.lost == 0


async def test_cancelled_send_async_is_not_queued() -> None:
    mb = Mailbox(buffer=1, workers=1)
    rec = Recorder()
    attach_all(mb, rec)
    await mb.send_async(make(0, 0))  # fills the only slot (mailbox not running yet)
    with trio.move_on_after(0.01) as cs:
        await mb.send_async(make(0, 1))
    assert cs.cancelled_caught
    assert not mb._workers[0].waiters
    async with mb.running():
        await mb.send_async(make(0, 2))
        await trio.testing.wait_all_tasks_blocked()
    assert rec.got == [(src(0), 0), (src(0), 2)]


async def test_attach_detach_channels_and_unknown_targets() -> None:
    mb = Mailbox(buffer=8, workers=2)
    send_ch, recv_ch = trio.open_memory_channel[Package](10)
    mb.attach(dst(0), send_ch)
    with pytest.raises(RelayError, match="^receiver already attached$"):
        mb.attach(dst(0), send_ch)
    async with mb.running():
        await mb.send_async(make(0, 1))
        assert (await recv_ch.receive()).messages[0].payloads == [1]
        await mb.send_async(make(1, 1))  # dst(1): nobody attached -> dropped
        await trio.testing.wait_all_tasks_blocked()
        assert mb.dropped == 1
        await recv_ch.aclose()
        await mb.send_async(make(0, 2))  # channel closed -> dropped and detached
        await trio.testing.wait_all_tasks_blocked()
        assert mb.dropped == 2
        assert not mb.detach(dst(0))
        mb.attach(dst(0), send_ch)  # may attach again after detach
        assert mb.detach(dst(0))


def test_worker_choice_is_stable() -> None:
    mb = Mailbox(workers=16)
    picks = {mb.worker_for(src(i)) for i in range(200)}
    assert len(picks) > 8  # senders spread
    assert all(mb.worker_for(src(3)) == mb.worker_for(src(3)) for _ in range(3))
    assert mb.buffer == 1024 and len(mb._workers) == 16 and mb.host_id == "node:control"
