"""Boot component `relay`: Message routing by PID: local node, peers, cluster.

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("relay", depends_on=("eventbus", "pidgen"))
