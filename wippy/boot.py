"""The boot loader: components, their dependency levels, load / start / stop.

A :class:`Component` declares a name and the names it depends on. The loader orders
components into *levels* with Kahn's algorithm (a level is every component whose
dependencies are all in earlier levels, sorted by name). ``load`` runs each level's
``load`` calls concurrently in a trio nursery (components of one level cannot depend on
each other), then seals the AppContext. ``start`` runs in level order, ``stop`` in the
reverse order with a timeout per component, collecting errors instead of stopping at
the first so every component gets its chance to release resources.

XX: the reference loads a level sequentially; concurrent loading is ours, and safe
because a component only writes its own keys to the context.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from wippy.appcontext import AppContext

Hook = Callable[[AppContext], Awaitable[None]]


class BootError(RuntimeError):
    """Registration or ordering of components failed, or a component failed to load/start."""


class Component:
    """A unit of boot: a name, the names it depends on, and load/start/stop hooks.

    Build one from functions (``Component("registry", ("eventbus",), load=...)``) or
    subclass it, setting ``name``/``depends_on`` as class attributes and overriding the
    async methods. ``load`` puts the component's services in the AppContext; ``start``
    runs after the context is sealed; ``stop`` releases what ``start`` acquired.
    """

    name: str = ""
    depends_on: tuple[str, ...] = ()

    def __init__(
        self,
        name: str | None = None,
        depends_on: tuple[str, ...] | list[str] | None = None,
        load: Hook | None = None,
        start: Hook | None = None,
        stop: Hook | None = None,
    ) -> None:
        if name is not None:
            self.name = name
        if depends_on is not None:
            self.depends_on = tuple(depends_on)
        if not self.name:
            raise BootError("a component needs a name")
        self._hooks = {"load": load, "start": start, "stop": stop}

    async def load(self, ctx: AppContext) -> None:
        if (hook := self._hooks["load"]) is not None:
            await hook(ctx)

    async def start(self, ctx: AppContext) -> None:
        if (hook := self._hooks["start"]) is not None:
            await hook(ctx)

    async def stop(self, ctx: AppContext) -> None:
        if (hook := self._hooks["stop"]) is not None:
            await hook(ctx)

    def __repr__(self) -> str:
        return f"Component({self.name!r}, depends_on={self.depends_on!r})"


@dataclass(frozen=True)
class Placeholder:
    """Stands in the AppContext for a service whose implementation is not wired in yet."""

    name: str


def placeholder(name: str, depends_on: tuple[str, ...] = ()) -> Component:
    """A component whose load puts a :class:`Placeholder` under its own name."""

    async def load(ctx: AppContext) -> None:
        ctx.put(name, Placeholder(name))

    return Component(name, depends_on, load)


def standard_components() -> list[Component]:
    """The ``COMPONENT`` of every module in :mod:`wippy.components`, sorted by name."""
    import importlib
    import pkgutil

    import wippy.components as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        component = getattr(module, "COMPONENT", None)
        if isinstance(component, Component):
            found.append(component)
    return sorted(found, key=lambda c: c.name)


class BootLoader:
    def __init__(self, ctx: AppContext | None = None, stop_timeout: float = 10.0) -> None:
        self.ctx = ctx if ctx is not None else AppContext()
        self.stop_timeout = stop_timeout
        self._components: dict[str, Component] = {}
        self._started: list[Component] = []

    def register(self, component: Component) -> None:
        if component.name in self._components:
            raise BootError(f"component already registered: {component.name}")
        self._components[component.name] = component

    @property
    def components(self) -> dict[str, Component]:
        return dict(self._components)

    def levels(self) -> list[list[str]]:
        """Dependency levels (Kahn's algorithm), each level sorted by name."""
        for component in self._components.values():
            for dep in component.depends_on:
                if dep not in self._components:
                    raise BootError(f"component not found: {dep} (required by {component.name})")
        indegree = {name: len(set(c.depends_on)) for name, c in self._components.items()}
        dependents: dict[str, list[str]] = {name: [] for name in self._components}
        for name, component in self._components.items():
            for dep in set(component.depends_on):
                dependents[dep].append(name)
        levels: list[list[str]] = []
        ready = sorted(name for name, degree in indegree.items() if degree == 0)
        while ready:
            levels.append(ready)
            following: list[str] = []
            for name in ready:
                for dependent in dependents[name]:
                    indegree[dependent] -= 1
                    if indegree[dependent] == 0:
                        following.append(dependent)
            ready = sorted(following)
        placed = sum(len(level) for level in levels)
        if placed != len(self._components):
            raise BootError(f"dependency cycle: {' -> '.join(self._find_cycle(indegree))}")
        return levels

    def _find_cycle(self, indegree: dict[str, int]) -> list[str]:
        """A cycle among the components Kahn's algorithm could not place."""
        remaining = {name for name, degree in indegree.items() if degree > 0}
        start = min(remaining)
        path: list[str] = []
        seen: dict[str, int] = {}
        node = start
        while node not in seen:
            seen[node] = len(path)
            path.append(node)
            node = min(d for d in self._components[node].depends_on if d in remaining)
        cycle = path[seen[node] :]  # each name depends on the next one
        return [*cycle, cycle[0]]

    async def load(self) -> None:
        """Load level by level (each level concurrently), then seal the context.

        A failing component does not cancel its level-mates; once the level is done the
        failures are raised as one :class:`BootError` naming every failed component.
        """
        for level in self.levels():
            failures: list[tuple[str, Exception]] = []
            async with trio.open_nursery() as nursery:
                for name in level:
                    nursery.start_soon(self._load_one, self._components[name], failures)
            if failures:
                error = BootError("; ".join(f"failed to load component {n}: {e}" for n, e in failures))
                raise error from failures[0][1]
        self.ctx.seal()

    async def _load_one(self, component: Component, failures: list[tuple[str, Exception]]) -> None:
        try:
            await component.load(self.ctx)
        except Exception as exc:
            failures.append((component.name, exc))

    async def start(self) -> None:
        """Start every component in level order."""
        for level in self.levels():
            for name in level:
                component = self._components[name]
                try:
                    await component.start(self.ctx)
                except Exception as exc:
                    raise BootError(f"failed to start component {name}: {exc}") from exc
                self._started.append(component)

    async def stop(self) -> list[str]:
        """Stop started components in reverse order; returns the errors (empty when clean)."""
        errors: list[str] = []
        while self._started:
            component = self._started.pop()
            with trio.move_on_after(self.stop_timeout) as scope:
                try:
                    await component.stop(self.ctx)
                except Exception as exc:
                    errors.append(f"failed to stop component {component.name}: {exc}")
            if scope.cancelled_caught:
                errors.append(f"failed to stop component {component.name}: timed out")
        return errors
