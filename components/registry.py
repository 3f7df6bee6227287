"""Boot component `registry`: the versioned registry of entries.

Every committed change is published on the event bus as `registry` / `entry.create` (or
update, delete) with the entry ID as path. History is kept as `registry.history_type`
says (memory by default, `sqlite` under `registry.history_path`).
"""

from wippy.appcontext import AppContext
from wippy.boot import Component
from wippy.eventbus import EventBus
from wippy.registry import Registry, open_history


async def load(ctx: AppContext) -> None:
    config = ctx.find("config")
    project = ctx.find("project")
    block = config.get("registry", {}) if config is not None else {}
    root = getattr(project, "root", None)
    registry = Registry(open_history(block if isinstance(block, dict) else None, str(root) if root else "."))
    bus = ctx.get("eventbus", EventBus)

    def publish(version, ops) -> None:
        for op in ops:
            bus.publish("registry", str(op.kind), op.entry.id, op.entry)

    registry.on_commit.append(publish)
    ctx.put("registry", registry)


COMPONENT = Component("registry", ("eventbus",), load)
