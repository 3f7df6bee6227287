"""Boot component `dispatcher`: The command dispatcher: maps commands yielded by Lua to their handlers.

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("dispatcher", depends_on=())
