"""Registry micro-benchmarks: applying a large changeset and querying with find().

Measures, each as the median of 3 runs on a fresh registry:

* apply of one changeset creating 1,000 entries with one no-op listener on their kind
  (squash, validation, dependency ordering, listener dispatch, history record, swap);
* the same with the SQLite history backend (write-through of the msgpack changeset);
* apply of a 1-op changeset on top of 1,000 entries (the per-apply overhead: the state
  dict is copied on every commit, so this is O(N));
* find() on 1,000 entries: a cold meta-equality query, a cold operator query, a root
  ``.kind`` glob, and a cached (warm) repeat of the first;
* snapshot_at(v) one version back from 1,000 entries.

Run: ``python bench/bench_registry.py``. Prints a table in milliseconds.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

from wippy.entry import Entry
from wippy.registry import ChangeSet, Registry, SqliteHistory

N = 1000


class NoopListener:
    async def add(self, entry: Entry) -> None:
        return None

    async def update(self, old: Entry, new: Entry) -> None:
        return None

    async def delete(self, entry: Entry) -> None:
        return None


def make_entries(n: int = N) -> list[Entry]:
    return [
        Entry(
            f"bench:e{i}",
            "bench.thing",
            {"group": f"g{i % 10}", "label": f"label-{i}", "tags": ["a", f"t{i % 7}"]},
            {"value": i, "ref": f"bench:e{i - 1}" if i else "", "nested": {"k": [1, 2, 3]}},
        )
        for i in range(n)
    ]


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    t0 = time.perf_counter()
    await fn()
    return (time.perf_counter() - t0) * 1000


def median(values: list[float]) -> float:
    return statistics.median(values)


async def bench_apply(sqlite: bool) -> float:
    runs = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            history = SqliteHistory(Path(tmp) / "registry.db") if sqlite else None
            reg = Registry(history)
            reg.register_listener("bench.*", NoopListener())
            await reg.load_state([])
            cs = ChangeSet()
            for e in make_entries():
                cs.create(e)
            runs.append(await timed(lambda reg=reg, cs=cs: reg.apply(cs)))
            if history is not None:
                history.close()
    return median(runs)


async def filled() -> Registry:
    reg = Registry()
    reg.register_listener("bench.*", NoopListener())
    await reg.load_state(make_entries())
    return reg


async def bench_small_apply() -> float:
    reg = await filled()
    runs = []
    for i in range(3):
        cs = ChangeSet().create(Entry(f"bench:extra{i}", "bench.thing", {}, {}))
        runs.append(await timed(lambda cs=cs: reg.apply(cs)))
    return median(runs)


def time_sync(fn: Callable[[], object], repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return median(runs)


async def main() -> None:
    rows: list[tuple[str, float]] = []
    rows.append((f"apply {N} creates, no-op listener (memory history)", await bench_apply(False)))
    rows.append((f"apply {N} creates, no-op listener (sqlite history)", await bench_apply(True)))
    rows.append((f"apply 1 create on top of {N} entries", await bench_small_apply()))

    reg = await filled()
    queries = [
        ("find meta.group=g3 (cold)", {"meta.group": "g3"}),
        ("find *meta.tags=t5 + ^meta.label (cold)", {"*meta.tags": "t5", "^meta.label": "label-1"}),
        ("find .kind=bench.* .name=e9* (cold)", {".kind": "bench.*", ".name": "e9*"}),
    ]
    for label, q in queries:

        def cold(q: dict = q) -> None:
            reg._state.cache._data.clear()
            reg.find(q)

        rows.append((f"{label}, {N} entries", time_sync(cold)))
    reg.find({"meta.group": "g3"})
    rows.append(
        (
            "find meta.group=g3 (cached), x1000 calls",
            time_sync(lambda: [reg.find({"meta.group": "g3"}) for _ in range(1000)]),
        )
    )
    first = await reg.apply(ChangeSet().create(Entry("bench:one_more", "bench.thing", {}, {})))
    await reg.apply(ChangeSet().update(Entry("bench:e5", "bench.thing", {}, {"changed": True})))
    rows.append((f"snapshot_at(previous version), {N} entries", time_sync(lambda: reg.snapshot_at(first.id))))

    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark'.ljust(width)} | median ms")
    print(f"{'-' * width}-+----------")
    for label, ms in rows:
        print(f"{label.ljust(width)} | {ms:9.3f}")


if __name__ == "__main__":
    trio.run(main)
