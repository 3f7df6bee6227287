"""Boot component `pidgen`: PID generation for processes started on this node.

XX: puts a placeholder until the real service is wired in.
"""

from wippy.boot import placeholder

COMPONENT = placeholder("pidgen", depends_on=())
