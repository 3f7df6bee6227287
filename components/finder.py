"""Boot component `finder`: Registry queries (registry.find) with their caches.

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("finder", depends_on=("registry",))
