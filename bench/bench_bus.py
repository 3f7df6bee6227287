"""Event bus throughput: deliveries per second with 10 subscribers.

A delivery is one event reaching one subscriber's consumer code. One publisher task
sends N events (same system/kind, in chunks with a yield between chunks so the
dispatcher and the consumers get to run, as a real publisher would); ten subscribers on
`**` consume them. The clock stops when every subscriber has seen every event (or the
event was dropped by its drop-oldest buffer; drops are reported, not counted as
deliveries).

Consumers measured:
  batches   `async for batch in sub.batches()` (takes everything buffered per wake-up)
  iterator  `async for ev in sub`
  handler   `bus.subscribe(..., handler=fn)` with a plain function
  trio-chan baseline in the same run: the publisher fans out with `await send` into 10
            `trio.open_memory_channel(1024)` channels (blocking fan-out, as the
            reference's bus does), 10 consumers `async for ev in ch`

The baseline runs n/10 events (it is ~100x slower). Each row is the median of 3 runs. Usage: python bench/bench_bus.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import trio
import trio.testing

from wippy.eventbus import Event, EventBus

SUBSCRIBERS = 10
CHUNK = 256


async def _publish(send: Callable[[Event], None], n: int) -> None:
    ev = Event("bench.system", "tick", "p", None)
    sent = 0
    while sent < n:
        k = min(CHUNK, n - sent)
        for _ in range(k):
            send(ev)
        sent += k
        await trio.sleep(0)


async def bus_run(n: int, mode: str) -> tuple[float, int, int]:
    bus = EventBus()
    counts = [0] * SUBSCRIBERS
    async with bus.running():
        subs = []
        async with trio.open_nursery() as nursery:
            for i in range(SUBSCRIBERS):
                if mode == "handler":

                    def h(_ev: Event, _i: int = i) -> None:
                        counts[_i] += 1

                    subs.append(bus.subscribe("**", handler=h))
                    continue
                sub = bus.subscribe("**")
                subs.append(sub)

                if mode == "batches":

                    async def consume(s=sub, i=i) -> None:
                        async for batch in s.batches():
                            counts[i] += len(batch)

                else:

                    async def consume(s=sub, i=i) -> None:
                        async for _ev in s:
                            counts[i] += 1

                nursery.start_soon(consume)
            await trio.testing.wait_all_tasks_blocked()
            t0 = time.perf_counter()
            await _publish(bus.send, n)
            while True:
                await trio.testing.wait_all_tasks_blocked()
                if all(c + s.dropped >= n for c, s in zip(counts, subs, strict=True)):
                    break
            dt = time.perf_counter() - t0
            dropped = sum(s.dropped for s in subs)
            for s in subs:
                s.close()
    return dt, sum(counts), dropped


async def chan_run(n: int) -> tuple[float, int, int]:
    counts = [0] * SUBSCRIBERS
    sends = []
    async with trio.open_nursery() as nursery:
        for i in range(SUBSCRIBERS):
            s, r = trio.open_memory_channel[Event](1024)
            sends.append(s)

            async def consume(r=r, i=i) -> None:
                async for _ev in r:
                    counts[i] += 1

            nursery.start_soon(consume)
        await trio.testing.wait_all_tasks_blocked()
        ev = Event("bench.system", "tick", "p", None)
        t0 = time.perf_counter()
        for _ in range(n):
            for s in sends:
                await s.send(ev)  # blocking fan-out (what the reference's bus does)
        while sum(counts) < n * SUBSCRIBERS:
            await trio.testing.wait_all_tasks_blocked()
        dt = time.perf_counter() - t0
        for s in sends:
            s.close()
    return dt, sum(counts), 0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    rows: list[tuple[str, float, int]] = []
    for label, runner in (
        ("bus: batches", lambda: bus_run(n, "batches")),
        ("bus: iterator", lambda: bus_run(n, "iterator")),
        ("bus: handler", lambda: bus_run(n, "handler")),
        ("trio memory channels (baseline)", lambda: chan_run(n // 10)),
    ):
        rates, drops = [], []
        for _ in range(3):
            dt, delivered, dropped = trio.run(runner)
            rates.append(delivered / dt)
            drops.append(dropped)
        rows.append((label, statistics.median(rates), max(drops)))
    print(f"event bus: {n:,} events x {SUBSCRIBERS} subscribers, median of 3 runs")
    print(f"{'consumer':34} {'deliveries/s':>14} {'ns/delivery':>12} {'max dropped':>12}")
    for label, rate, dropped in rows:
        print(f"{label:34} {rate:14,.0f} {1e9 / rate:12.0f} {dropped:12,}")


if __name__ == "__main__":
    main()
