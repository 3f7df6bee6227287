"""Boot component `relay`: the router of messages by PID and the control host mailbox.

The control host (`node:control`) is the mailbox of receivers that live on the Python
side; its buffer and worker count come from `supervisor.host.buffer_size` and
`supervisor.host.worker_count` in .wippy.yaml (1024 and 16 by default).
"""

from wippy.appcontext import AppContext
from wippy.boot import Component
from wippy.relay import Mailbox, Node, Router


async def load(ctx: AppContext) -> None:
    config = ctx.find("config")
    name = (config.get("relay.node_name") if config is not None else None) or "local"
    buffer = int(config.get("supervisor.host.buffer_size") or 1024) if config is not None else 1024
    workers = int(config.get("supervisor.host.worker_count") or 16) if config is not None else 16
    node = Node(name)
    control = Mailbox("node:control", buffer=buffer, workers=workers)
    node.register("node:control", control)
    ctx.put("relay", Router(node))
    ctx.put("relay.control", control)


async def start(ctx: AppContext) -> None:
    await ctx.get("nursery").start(ctx.get("relay.control", Mailbox).run)


async def stop(ctx: AppContext) -> None:
    ctx.get("relay.control", Mailbox).stop()


COMPONENT = Component("relay", ("eventbus", "pidgen"), load, start, stop)
