"""Boot component `supervisor`: Supervised services: start order, restarts with backoff.

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("supervisor", depends_on=("eventbus", "registry"))
