"""Boot component `lifecycle`: Lifecycle registry: which entries start at boot and in what order.

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("lifecycle", depends_on=("supervisor",))
