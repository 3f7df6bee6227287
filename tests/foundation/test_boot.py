"""AppContext sealing and the boot loader's levels, load, start and stop."""

from __future__ import annotations

import pytest
import trio

from wippy.appcontext import AppContext, AppContextError
from wippy.boot import BootError, BootLoader, Component, Placeholder, standard_components


def test_put_and_typed_get() -> None:
    ctx = AppContext()
    ctx.put("answer", 42)
    assert ctx.get("answer", int) == 42 and "answer" in ctx
    with pytest.raises(AppContextError, match="holds int, not str"):
        ctx.get("answer", str)
    with pytest.raises(AppContextError, match="service not found"):
        ctx.get("missing")
    assert ctx.find("missing", "dflt") == "dflt"


def test_duplicate_key_raises() -> None:
    ctx = AppContext()
    ctx.put("registry", object())
    with pytest.raises(AppContextError, match="key already set"):
        ctx.put("registry", object())


def test_write_after_seal_raises_reads_still_work() -> None:
    ctx = AppContext()
    ctx.put("a", 1)
    ctx.seal()
    with pytest.raises(AppContextError, match="sealed"):
        ctx.put("b", 2)
    assert ctx.sealed and ctx.get("a") == 1


def comp(name: str, *deps: str, log: list[str] | None = None, **hooks) -> Component:
    async def record(ctx: AppContext, what: str = "") -> None:
        if log is not None:
            log.append(f"{what}:{name}")

    async def load(ctx: AppContext) -> None:
        await record(ctx, "load")
        ctx.put(name, Placeholder(name))

    async def start(ctx: AppContext) -> None:
        await record(ctx, "start")

    async def stop(ctx: AppContext) -> None:
        await record(ctx, "stop")

    return Component(name, deps, hooks.get("load", load), hooks.get("start", start), hooks.get("stop", stop))


def loader_of(*components: Component) -> BootLoader:
    loader = BootLoader()
    for component in components:
        loader.register(component)
    return loader


def test_levels_are_kahn_levels_sorted_by_name() -> None:
    loader = loader_of(
        comp("zeta"), comp("alpha"), comp("mid", "zeta", "alpha"), comp("top", "mid"), comp("beta", "alpha")
    )
    assert loader.levels() == [["alpha", "zeta"], ["beta", "mid"], ["top"]]


def test_duplicate_component_is_refused() -> None:
    loader = loader_of(comp("a"))
    with pytest.raises(BootError, match="component already registered: a"):
        loader.register(comp("a"))


def test_cycle_is_named() -> None:
    with pytest.raises(BootError, match=r"dependency cycle: a -> b -> a"):
        loader_of(comp("a", "b"), comp("b", "a")).levels()
    with pytest.raises(BootError, match=r"dependency cycle: b -> c -> d -> b"):
        loader_of(comp("a", "b"), comp("b", "c"), comp("c", "d"), comp("d", "b")).levels()


def test_unknown_dependency_is_named() -> None:
    with pytest.raises(BootError, match="component not found: ghost"):
        loader_of(comp("a", "ghost")).levels()


async def test_load_start_stop_order_and_seal() -> None:
    log: list[str] = []
    loader = loader_of(comp("a", log=log), comp("b", "a", log=log), comp("c", "b", log=log))
    await loader.load()
    assert loader.ctx.sealed and loader.ctx.keys() == ["a", "b", "c"]
    await loader.start()
    assert await loader.stop() == []
    assert log == [
        "load:a",
        "load:b",
        "load:c",
        "start:a",
        "start:b",
        "start:c",
        "stop:c",
        "stop:b",
        "stop:a",
    ]


async def test_a_level_loads_concurrently() -> None:
    both_started = trio.Event()
    arrived: list[str] = []

    def meeting(name: str):
        async def load(ctx: AppContext) -> None:
            arrived.append(name)
            if len(arrived) == 2:
                both_started.set()
            await both_started.wait()  # deadlocks unless the other load runs at the same time

        return load

    loader = loader_of(comp("x", load=meeting("x")), comp("y", load=meeting("y")))
    with trio.fail_after(5):
        await loader.load()
    assert sorted(arrived) == ["x", "y"]


async def test_load_failure_names_the_component() -> None:
    async def broken(ctx: AppContext) -> None:
        raise ValueError("boom")

    with pytest.raises(BootError, match="failed to load component bad: boom"):
        await loader_of(comp("bad", load=broken)).load()


async def test_stop_collects_errors_and_times_out(autojump_clock: trio.abc.Clock) -> None:
    async def failing(ctx: AppContext) -> None:
        raise RuntimeError("disk gone")

    async def hanging(ctx: AppContext) -> None:
        await trio.sleep_forever()

    log: list[str] = []
    loader = loader_of(comp("a", log=log), comp("b", "a", stop=failing), comp("c", "b", stop=hanging))
    loader.stop_timeout = 3
    await loader.load()
    await loader.start()
    errors = await loader.stop()
    assert errors == ["failed to stop component c: timed out", "failed to stop component b: disk gone"]
    assert log[-1] == "stop:a"


async def test_standard_components_boot_the_real_services(tmp_path) -> None:
    from wippy.eventbus import EventBus
    from wippy.node import Node
    from wippy.registry import Registry
    from wippy.runtime import Runtime
    from wippy.runtime_options import RunOptions

    class Project:
        root = tmp_path
        entries: list = []
        config = None

    names = {c.name for c in standard_components()}
    assert {"pidgen", "dispatcher", "registry", "finder", "supervisor", "topology", "lifecycle", "factory",
            "functions", "eventbus", "relay"} <= names  # fmt: skip
    runtime = Runtime(Project(), RunOptions())
    async with trio.open_nursery() as nursery:
        loader = loader_of(*standard_components())
        for key, value in (("runtime", runtime), ("nursery", nursery), ("project", Project()), ("config", None)):
            loader.ctx.put(key, value)
        await loader.load()
        assert isinstance(loader.ctx.get("registry"), Registry)
        assert isinstance(loader.ctx.get("eventbus"), EventBus)
        assert isinstance(loader.ctx.get("topology"), Node)
        assert isinstance(loader.ctx.get("supervisor"), Placeholder)  # service mode opens the real one
        assert loader.levels()[0] == ["dispatcher", "eventbus", "pidgen"]
        await loader.start()
        assert await loader.stop() == []
        nursery.cancel_scope.cancel()


async def test_component_subclass_overrides_hooks() -> None:
    class Clock(Component):
        name = "clock"
        depends_on = ("pidgen",)

        async def load(self, ctx: AppContext) -> None:
            ctx.put("clock", "tick")

    loader = loader_of(comp("pidgen"), Clock())
    assert loader.levels() == [["pidgen"], ["clock"]]
    await loader.load()
    assert loader.ctx.get("clock", str) == "tick"
