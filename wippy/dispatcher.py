"""The command dispatcher: external commands a Lua process yields, by name.

A module registers the handlers of its commands when a shard first loads it, so the
table keeps growing after boot; registering a different handler under a name already
taken is an error (two modules claiming one command), registering the same again is not.
A handler is called as ``handler(shard, pid, tag, *args)`` on the worker thread and
returns ``(True, values...)`` when it finished at once or ``(False,)`` when it will
complete later through ``Node.complete(pid, tag, ...)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class CommandDispatcher(dict):
    """Command name -> handler (a dict, so lookups on the hot path stay plain)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def register(self, name: str, handler: Callable[..., Any]) -> None:
        with self._lock:
            existing = self.get(name)
            if existing is not None and existing is not handler and existing != handler:
                raise ValueError(f"command {name!r} is already registered")
            self[name] = handler
