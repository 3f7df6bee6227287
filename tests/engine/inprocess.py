"""A node with one real process host, run inside the test process (no CLI, no project
directory): for tests that need to look at or set up the node itself."""

from __future__ import annotations

from wippy.entry import Entry
from wippy.lua.engine.code import CodeStore
from wippy.lua.engine.modules import ModuleStore
from wippy.lua.engine.scheduler import Scheduler
from wippy.node import Node


def host_node(host: str, sources: dict[str, str], node: Node | None = None, *, workers: int = 1,
              shards: int = 1) -> tuple[Node, Scheduler]:
    """`node` (a fresh one by default) with process entries ``{id: source}`` (method
    `main`) and a host `host` of `workers` and `shards`, not started yet."""
    node = node if node is not None else Node()
    node.code = CodeStore(None)
    node.modules = ModuleStore()
    for entry_id, src in sources.items():
        node.code.add(Entry(entry_id, "process.lua", data={"source": src, "method": "main"}))
    sched = Scheduler(node, host, workers=workers, shards=shards)
    node.hosts[host] = sched
    return node, sched
