"""Boot component `lifecycle`: the kind handlers that turn entries into live objects.

It registers the registry listeners: code kinds are compiled, `process.host` and
`terminal.host` get a scheduler each, env entries feed the env store. Services are
started later by the supervisor (service mode).
"""

from wippy.appcontext import AppContext
from wippy.boot import Component


async def load(ctx: AppContext) -> None:
    from wippy.runtime import register_kind_listeners

    register_kind_listeners(ctx.get("runtime"), ctx.get("registry"))
    ctx.put("lifecycle", True)


COMPONENT = Component("lifecycle", ("supervisor", "registry", "factory", "functions"), load)
