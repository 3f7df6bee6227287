"""Mailbox throughput: packages per second from 1, 8 and 50 senders through 16 workers.

Each sender task sends its share of N packages with `await mailbox.send_async(pkg)`
into one `Mailbox(buffer=1024, workers=16)`; every package targets one of 10 attached
receivers (plain `async def` callbacks that count). The clock stops when all N were
delivered. Beside it, in the same run, the plain trio peer: the same senders do
`await send_channel.send(pkg)` into one `trio.open_memory_channel(1024)` read by one
consumer task (no per-sender ordering across workers, no routing -- the floor a trio
program would pay for a hand-off).

An extra row measures OS-thread senders (where Lua runs): 4 threads calling
`mailbox.send_threadsafe(pkg, on_done)` and waiting on a `threading.Event` when parked.

A third column measures the try-first pattern for trio senders: `mailbox.send(pkg)`
(non-blocking) and `await send_async(pkg)` only when it reports full.

Each figure is the median of 3 runs. Usage: python bench/bench_relay.py [N]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

import trio

from wippy.relay import Mailbox, Message, Package, RelayError

WORKERS = 16
BUFFER = 1024
TARGETS = 10


def _packages(sender: int, count: int) -> list[Package]:
    src = f"{{app:processes|0x{sender + 1:05x}}}"
    msg = [Message("bench", [sender])]
    return [Package(src, f"{{node:control|0x{0x1000 + i % TARGETS:05x}}}", msg) for i in range(count)]


async def mailbox_run(n: int, senders: int, fast: bool = False) -> float:
    mb = Mailbox(buffer=BUFFER, workers=WORKERS)
    done = trio.Event()
    got = 0

    async def receiver(_pkg: Package) -> None:
        nonlocal got
        got += 1
        if got == n:
            done.set()

    for i in range(TARGETS):
        mb.attach(f"{{node:control|0x{0x1000 + i:05x}}}", receiver)
    per = n // senders
    batches = [_packages(s, per) for s in range(senders)]

    async def sender(pkgs: list[Package]) -> None:
        send = mb.send_async
        for p in pkgs:
            await send(p)

    async def fast_sender(pkgs: list[Package]) -> None:
        # the non-blocking try first; await only when that worker is full
        try_send, send = mb.send, mb.send_async
        for p in pkgs:
            if not try_send(p):
                await send(p)

    async with mb.running():
        t0 = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for b in batches:
                nursery.start_soon(fast_sender if fast else sender, b)
        await done.wait()
        dt = time.perf_counter() - t0
    return per * senders / dt


async def channel_run(n: int, senders: int) -> float:
    send_ch, recv_ch = trio.open_memory_channel[Package](BUFFER)
    per = n // senders
    batches = [_packages(s, per) for s in range(senders)]
    total = per * senders

    async def consumer() -> None:
        got = 0
        async for _p in recv_ch:
            got += 1
            if got == total:
                return

    async def sender(pkgs: list[Package], ch: trio.MemorySendChannel[Package]) -> None:
        async with ch:
            for p in pkgs:
                await ch.send(p)

    t0 = time.perf_counter()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        async with send_ch:
            for b in batches:
                nursery.start_soon(sender, b, send_ch.clone())
    return total / (time.perf_counter() - t0)


async def thread_run(n: int, threads: int) -> float:
    mb = Mailbox(buffer=BUFFER, workers=WORKERS)
    done = trio.Event()
    got = 0

    async def receiver(_pkg: Package) -> None:
        nonlocal got
        got += 1
        if got == total:
            done.set()

    for i in range(TARGETS):
        mb.attach(f"{{node:control|0x{0x1000 + i:05x}}}", receiver)
    per = n // threads
    total = per * threads
    batches = [_packages(s, per) for s in range(threads)]

    def sender(pkgs: list[Package]) -> None:
        ev = threading.Event()
        errs: list[RelayError | None] = []

        def on_done(err: RelayError | None) -> None:
            errs.append(err)
            ev.set()

        for p in pkgs:
            if not mb.send_threadsafe(p, on_done):
                ev.wait()
                ev.clear()
                if errs.pop() is not None:
                    return

    async with mb.running():
        t0 = time.perf_counter()
        async with trio.open_nursery() as nursery:
            for b in batches:
                nursery.start_soon(trio.to_thread.run_sync, sender, b)
        await done.wait()
        dt = time.perf_counter() - t0
    return total / dt


def median3(fn, *args) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(trio.run(fn, *args) for _ in range(3))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"relay mailbox: {n:,} packages, {WORKERS} workers, buffer {BUFFER}; median of 3 runs (msgs/s)")
    head = f"{'senders':>8} {'send_async':>12} {'send|async':>12} {'trio chan':>12} {'ratio':>6} {'ratio':>6}"
    print(head)
    for senders in (1, 8, 50):
        mb = median3(mailbox_run, n, senders)
        fast = median3(mailbox_run, n, senders, True)
        ch = median3(channel_run, n, senders)
        print(f"{senders:>8} {mb:12,.0f} {fast:12,.0f} {ch:12,.0f} {mb / ch:6.2f} {fast / ch:6.2f}")
    th = median3(thread_run, n, 4)
    print(f"4 OS threads with send_threadsafe: {th:,.0f} msgs/s")
    print("send_async: await mailbox.send_async(pkg) per package (checkpoints like a trio channel)")
    print("send|async: `if not mailbox.send(pkg): await mailbox.send_async(pkg)`")


if __name__ == "__main__":
    main()
