"""Boot component `eventbus`: The control-plane event bus (registry changes, service states).

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("eventbus", depends_on=())
