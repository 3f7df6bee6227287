"""Boot component `factory`: Process factories registered by the code kinds (process.lua...).

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("factory", depends_on=("registry",))
