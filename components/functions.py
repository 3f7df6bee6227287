"""Boot component `functions`: the Lua modules that processes and functions bind.

Function calls themselves run inside the caller's shard (see lua/engine/prelude.lua);
what they need from Python is the module store, found once per node here.
"""

from wippy.appcontext import AppContext
from wippy.boot import Component
from wippy.lua.engine.modules import ModuleStore
from wippy.node import Node


async def load(ctx: AppContext) -> None:
    modules = ModuleStore()
    node = ctx.get("topology", Node)
    node.modules = modules
    node.global_modules = modules.globals()
    ctx.put("functions", modules)


COMPONENT = Component("functions", ("dispatcher", "registry", "topology"), load)
