"""The kind schema registry: what the project loader knows about each entry kind.

A kind is registered with a :class:`KindSpec`: an optional msgspec ``Struct`` describing
the entry's data (``None`` means "any data is accepted") and the dotted paths inside the
data that hold references to other entries. The loader validates every entry against its
kind's schema and checks that each reference names an entry that exists, so that a typo
is reported with its file and line before anything boots.

A reference path is dotted (``lifecycle.requires``); a ``*`` segment stands for every
item of a list or every value of a mapping (``imports.*``). A path that ends on a list
of strings checks each string.

Kinds may be registered as glob patterns (``network.*``); an exact registration wins over
a pattern. The built-in schemas live in :mod:`wippy.entries.schemas` and are registered
the first time the registry is consulted.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import msgspec


@dataclass(frozen=True)
class KindSpec:
    kind: str
    schema: type[msgspec.Struct] | None = None
    refs: tuple[str, ...] = ()


_specs: dict[str, KindSpec] = {}
_builtins_loaded = False


def register_kind(spec: KindSpec) -> None:
    """Register (or replace) the spec of one kind or kind pattern."""
    _specs[spec.kind] = spec


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        import wippy.entries.schemas  # noqa: F401  (registers the built-in kinds)


def kind_spec(kind: str) -> KindSpec | None:
    """The spec for ``kind``: an exact registration, else the first matching pattern."""
    _load_builtins()
    spec = _specs.get(kind)
    if spec is not None:
        return spec
    for pattern, candidate in _specs.items():
        if "*" in pattern and fnmatch.fnmatchcase(kind, pattern):
            return candidate
    return None


def known_kinds() -> list[str]:
    """Every registered kind and kind pattern, sorted."""
    _load_builtins()
    return sorted(_specs)
