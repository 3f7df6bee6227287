"""Boot component `finder`: queries over the registry (the registry's own finder)."""

from wippy.appcontext import AppContext
from wippy.boot import Component


async def load(ctx: AppContext) -> None:
    ctx.put("finder", ctx.get("registry"))


COMPONENT = Component("finder", ("registry",), load)
