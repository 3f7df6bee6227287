"""The versioned entry registry.

The registry holds every entry of a running application, versioned: each applied changeset
creates the next version, every stored changeset carries the originals it replaced so any
version can be reached again, and kind handlers (listeners) can veto a change, in which
case nothing of it remains. Reads are lock-free snapshots of an immutable state.

Modules:

* :mod:`.core` — :class:`Registry`, :class:`Snapshot`, listener dispatch, versions API.
* :mod:`.changeset` — :class:`Op`, :class:`ChangeSet`, squash/invert/order/build_delta.
* :mod:`.history` — :class:`Version`, memory and SQLite history backends.
* :mod:`.finder` — ``find`` filter semantics (spec C12) and the query cache.
* :mod:`.errors` — :class:`RegistryError` with Lua-compatible error kinds.
"""

from .changeset import (
    ChangeSet,
    DependencyFn,
    Op,
    OpKind,
    build_delta,
    default_dependencies,
    invert,
    order_ops,
    squash,
)
from .core import INTERNAL_KINDS, HistoryView, Listener, Registry, Snapshot, compile_kind_pattern, propagates
from .errors import INTERNAL, INVALID, NOT_FOUND, RegistryError, is_not_found
from .finder import compile_filter
from .history import MemoryHistory, SqliteHistory, Version, open_history

__all__ = [
    "INTERNAL",
    "INTERNAL_KINDS",
    "INVALID",
    "NOT_FOUND",
    "ChangeSet",
    "DependencyFn",
    "HistoryView",
    "Listener",
    "MemoryHistory",
    "Op",
    "OpKind",
    "Registry",
    "RegistryError",
    "Snapshot",
    "SqliteHistory",
    "Version",
    "build_delta",
    "compile_filter",
    "compile_kind_pattern",
    "default_dependencies",
    "invert",
    "is_not_found",
    "open_history",
    "order_ops",
    "propagates",
    "squash",
]
