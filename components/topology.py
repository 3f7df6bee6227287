"""Boot component `topology`: the node's process directory, links, monitors and names.

Its service is :class:`wippy.node.Node`, which also spawns across hosts and routes the
messages that leave a shard.
"""

from wippy.appcontext import AppContext
from wippy.boot import Component
from wippy.node import Node


async def load(ctx: AppContext) -> None:
    runtime = ctx.get("runtime")
    ctx.put("topology", Node(pidgen=ctx.get("pidgen"), commands=ctx.get("dispatcher"),
                             relay=ctx.get("relay"), log=runtime.process_log))


async def stop(ctx: AppContext) -> None:
    ctx.get("topology", Node).stop()


COMPONENT = Component("topology", ("relay", "dispatcher", "pidgen"), load, stop=stop)
