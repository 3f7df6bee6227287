"""Boot component `registry`: The versioned registry of entries; changesets are applied through the bus.

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("registry", depends_on=("eventbus",))
