"""Boot component `factory`: compiled code of the code entries, which shards load.

Processes and function executions are created from it (`process.lua`, `function.lua`,
`library.lua`, `workflow.lua`), through the typed-Lua compile cache under
`.wippy/cache/lua`.
"""

from wippy.appcontext import AppContext
from wippy.boot import Component
from wippy.lua.engine.code import CodeStore
from wippy.node import Node


async def load(ctx: AppContext) -> None:
    project = ctx.find("project")
    root = getattr(project, "root", None)
    config = ctx.find("config")
    preempt = config.get("lua.preempt", True) if config is not None else True
    code = CodeStore(str(root / ".wippy" / "cache" / "lua") if root is not None else None, preempt=preempt is not False)
    ctx.get("topology", Node).code = code
    ctx.put("factory", code)


COMPONENT = Component("factory", ("registry", "topology"), load)
