"""Boot component `pidgen`: the node's PID generator (`{host|0x00001}` style IDs)."""

from wippy.appcontext import AppContext
from wippy.boot import Component
from wippy.pid import PidGen


async def load(ctx: AppContext) -> None:
    config = ctx.find("config")
    name = (config.get("relay.node_name") if config is not None else None) or "local"
    ctx.put("pidgen", PidGen("" if name == "local" else name))


COMPONENT = Component("pidgen", (), load)
