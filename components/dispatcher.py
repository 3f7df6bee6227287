"""Boot component `dispatcher`: the table of external commands Lua processes yield."""

from wippy.appcontext import AppContext
from wippy.boot import Component
from wippy.dispatcher import CommandDispatcher


async def load(ctx: AppContext) -> None:
    ctx.put("dispatcher", CommandDispatcher())


COMPONENT = Component("dispatcher", (), load)
