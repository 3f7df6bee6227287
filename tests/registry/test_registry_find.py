"""find() semantics (spec C12), the query cache and snapshot isolation."""

from __future__ import annotations

import threading

import pytest
from helpers_registry import E

from wippy.registry import ChangeSet, Registry, RegistryError

ENTRIES = [
    E(
        "test:reg.find.alpha",
        meta={
            "conf_find": "ops",
            "label": "alpha-service",
            "color": "red",
            "tags": ["backend", "api"],
            "rank": 1,
            "on": True,
        },
    ),
    E(
        "test:reg.find.beta",
        meta={
            "conf_find": "ops",
            "label": "beta-worker",
            "color": "blue",
            "tags": ["worker"],
            "rank": 2,
            "nested": {"deep": "yes"},
        },
    ),
    E(
        "test:reg.find.gamma",
        meta={"conf_find": "ops", "label": "gamma-service", "color": "red", "tags": ["frontend", "api"]},
    ),
    E(
        "test:reg.other.delta",
        meta={"conf_find": "other", "label": "alpha-service", "color": "red", "tags": ["backend"]},
    ),
    E("other:proc", "process.lua", meta={"role": "worker"}),
]

A, B, G, D = (f"test:reg.find.{n}" for n in ("alpha", "beta", "gamma", "x"))
DELTA = "test:reg.other.delta"
OPS = {"meta.conf_find": "ops"}

CASES = [
    ({"meta.conf_find": "ops"}, [A, B, G]),
    ({"meta.color": "red"}, [A, G, DELTA]),
    ({**OPS, "meta.color": "red"}, [A, G]),
    ({**OPS, "meta.color": "re"}, []),
    ({**OPS, "meta.label": "alpha*"}, []),
    ({**OPS, "meta.no_such_field": "x"}, []),
    ({"meta.rank": 1}, [A]),
    ({"meta.rank": 2.0}, [B]),
    ({"meta.on": True}, [A]),
    ({"meta.rank": True}, []),
    ({"meta.nested.deep": "yes"}, [B]),
    ({**OPS, "~meta.label": "^(alpha|beta)-"}, [A, B]),
    ({**OPS, "~meta.label": "service$"}, [A, G]),
    ({**OPS, "~meta.label": "a-w"}, [B]),
    ({**OPS, "~meta.tags": "api"}, []),
    ({**OPS, "*meta.label": "service"}, [A, G]),
    ({**OPS, "*meta.label": "ta-wo"}, [B]),
    ({**OPS, "*meta.tags": "end"}, [A, G]),
    ({**OPS, "*meta.tags": "work"}, [B]),
    ({**OPS, "*meta.label": "xyz"}, []),
    ({**OPS, "^meta.label": "beta"}, [B]),
    ({**OPS, "^meta.label": "service"}, []),
    ({**OPS, "$meta.label": "-service"}, [A, G]),
    ({**OPS, "$meta.label": "alpha"}, []),
    ({**OPS, "^meta.label": "gam", "$meta.label": "ice"}, [G]),
    ({".name": "reg.find.*"}, [A, B, G]),
    ({".name": "*.delta"}, [DELTA]),
    ({".name": "reg.*.beta"}, [B]),
    ({".id": "test:reg.find.gamma"}, [G]),
    ({".ns": "test", ".name": "reg.find.alpha"}, [A]),
    ({".ns": "other", ".name": "reg.find.alpha"}, []),
    ({".kind": "registry.entry", **OPS}, [A, B, G]),
    ({".kind": "process.*", **OPS}, []),
    ({".kind": "process.*"}, ["other:proc"]),
    ({".kind": "registry", **OPS}, []),
    ({**OPS, "kind": "no.such.kind", "type": "no-such-type", "color": "blue"}, [A, B, G]),
    ({".kind": "process.lua", "meta.role": "worker"}, ["other:proc"]),
]


@pytest.fixture
async def reg() -> Registry:
    r = Registry()
    await r.load_state(ENTRIES)
    return r


@pytest.mark.parametrize(("filters", "want"), CASES)
async def test_find_operators(reg: Registry, filters: dict, want: list[str]) -> None:
    assert sorted(e.id for e in reg.find(filters)) == sorted(want)


async def test_unprefixed_keys_are_ignored_with_warning(
    reg: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    everything = [e.id for e in reg.find({})]
    assert len(everything) == len(ENTRIES)
    assert [e.id for e in reg.find({"kind": "no.such.kind"})] == everything
    assert [e.id for e in reg.find({"type": "test", ".foo": "x", "~kind": "y"})] == everything
    assert "ignoring filter key" in caplog.text


async def test_bad_regex_is_invalid(reg: Registry) -> None:
    with pytest.raises(RegistryError) as info:
        reg.find({"~meta.label": "("})
    assert info.value.kind == "Invalid"


async def test_query_cache_is_per_version(reg: Registry) -> None:
    first = reg.find(OPS)
    cache = reg._state.cache
    assert reg.find(OPS) == first and cache.hits == 1
    await reg.apply(ChangeSet().create(E("test:reg.find.late", meta={"conf_find": "ops"})))
    assert len(reg.find(OPS)) == 4 and reg._state.cache is not cache
    assert reg.find({"meta.tags": ["worker"]})  # list values are cacheable and comparable


async def test_snapshot_isolation(reg: Registry) -> None:
    snap = reg.snapshot()
    n = len(snap.entries())
    v = await reg.apply(ChangeSet().create(E("test:snap.later", meta={"conf_find": "ops"})).delete(B))
    assert snap.get("test:snap.later") is None and snap.get(B) is not None
    assert len(snap.entries()) == n and snap.version().id + 1 == v.id
    assert sorted(e.id for e in snap.find(OPS)) == [A, B, G]
    fresh = reg.snapshot()
    assert fresh.get("test:snap.later") is not None and len(fresh.entries()) == n
    assert all(e.id.startswith("test:") for e in snap.namespace("test")) and len(snap.namespace("other")) == 1
    with pytest.raises(RegistryError) as info:
        snap.lookup("test:snap.later")
    assert info.value.message == "entry not found: test:snap.later"


async def test_reads_from_threads_during_applies(reg: Registry) -> None:
    import trio

    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            snap = reg.snapshot()
            ids = {e.id for e in snap.entries()}
            found = {e.id for e in snap.find({".name": "bulk.*"})}
            if not found <= ids:
                errors.append("find saw entries outside its snapshot")
            n = len(found)
            if n not in (0, 10):
                errors.append(f"torn changeset: {n}")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(30):
            cs = ChangeSet()
            for i in range(10):
                cs.create(E(f"test:bulk.{i}"))
            await reg.apply(cs)
            cs = ChangeSet()
            for i in range(10):
                cs.delete(f"test:bulk.{i}")
            await reg.apply(cs)
            await trio.sleep(0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
