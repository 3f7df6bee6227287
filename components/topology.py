"""Boot component `topology`: Links, monitors and local names between processes.

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("topology", depends_on=("relay",))
