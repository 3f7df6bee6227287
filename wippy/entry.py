"""The registry's unit of configuration: an entry ``{id, kind, meta, data}``.

An entry ID is ``namespace:name`` (split at the first colon). ``data`` holds every
field of the YAML item other than ``name``, ``kind`` and ``meta``. ``origin`` says where
the entry was defined so that any later error can name the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Origin:
    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class Entry:
    id: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)
    data: Any = field(default_factory=dict)
    origin: Origin | None = None

    @property
    def namespace(self) -> str:
        return split_id(self.id)[0]

    @property
    def name(self) -> str:
        return split_id(self.id)[1]

    def copy(self) -> Entry:
        import copy

        return Entry(self.id, self.kind, copy.deepcopy(self.meta), copy.deepcopy(self.data), self.origin)


def split_id(entry_id: str) -> tuple[str, str]:
    """Split ``ns:name`` at the first colon; no colon means an empty namespace."""
    ns, sep, name = entry_id.partition(":")
    return (ns, name) if sep else ("", entry_id)


def resolve_ref(ref: str, namespace: str) -> str:
    """A reference inside an entry: a bare name is resolved in the entry's namespace."""
    return ref if ":" in ref else f"{namespace}:{ref}"
