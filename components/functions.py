"""Boot component `functions`: function.lua pools and funcs.call.

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("functions", depends_on=("dispatcher", "registry"))
