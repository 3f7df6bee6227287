"""Boot component `eventbus`: the control-plane pub/sub bus (one dispatcher task)."""

from wippy.appcontext import AppContext
from wippy.boot import Component
from wippy.eventbus import EventBus


async def load(ctx: AppContext) -> None:
    ctx.put("eventbus", EventBus())


async def start(ctx: AppContext) -> None:
    await ctx.get("nursery").start(ctx.get("eventbus", EventBus).run)


async def stop(ctx: AppContext) -> None:
    ctx.get("eventbus", EventBus).close()


COMPONENT = Component("eventbus", (), load, start, stop)
