"""``registry.find`` filters (spec C12) and the per-version query cache.

A filter is a mapping of key to value; all recognised keys must match (AND):

* ``meta.<field>`` — plain equality with the metadata value (no glob, no substring; numbers
  compare numerically, booleans only with booleans). A missing field never matches.
  ``<field>`` may be dotted: the literal key is tried first, then a nested walk.
* an operator prefix before ``meta.``: ``~`` unanchored regular expression (``re.search``)
  over string values, ``*`` substring of a string value or of any string element of a list
  value, ``^`` string prefix, ``$`` string suffix. Non-string metadata never matches ``~``,
  ``^`` or ``$`` (lists included).
* ``.kind``, ``.ns``, ``.name``, ``.id`` — the entry's own fields, equal to the value, which
  may contain one ``*`` wildcard (``prefix*``, ``*suffix``, ``prefix*suffix``; the value is
  cut at its first ``*``).
* any other key (``kind``, ``type``, ``.foo``, ``~kind``...) is skipped with a warning, so
  ``{kind = "x"}`` matches every entry, as the reference does.

Results come back in registry insertion order (the spec calls them unordered).

:class:`QueryCache` is a small LRU (``OrderedDict`` + lock) owned by one immutable registry
state; a commit swaps the state and with it the cache, which is how queries are
"invalidated on version change" without any bookkeeping. Filters whose values cannot be
frozen into a hashable key are simply not cached.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from wippy.entry import Entry, split_id

from .errors import invalid

log = logging.getLogger("wippy.registry")

Predicate = Callable[[Entry], bool]

_MISSING = object()
_OPERATORS = "~*^$"
_ROOT_FIELDS: dict[str, Callable[[Entry], str]] = {
    "kind": lambda e: e.kind,
    "ns": lambda e: split_id(e.id)[0],
    "namespace": lambda e: split_id(e.id)[0],
    "name": lambda e: split_id(e.id)[1],
    "id": lambda e: e.id,
}


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return actual == expected
    if type(actual) is not type(expected) and not (
        isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple))
    ):
        return False
    return bool(actual == expected)


def _meta_value(meta: Any, path: str) -> Any:
    if not isinstance(meta, Mapping):
        return _MISSING
    if path in meta:
        return meta[path]
    current: Any = meta
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _meta_predicate(op: str, path: str, expected: Any, key: str) -> Predicate:
    if op == "":

        def eq(e: Entry) -> bool:
            value = _meta_value(e.meta, path)
            return value is not _MISSING and _equal(value, expected)

        return eq

    text = _as_text(expected)
    if op == "~":
        try:
            rx = re.compile(text)
        except re.error as exc:
            raise invalid(f"invalid regular expression for {key}: {exc}") from exc

        def regex(e: Entry) -> bool:
            value = _meta_value(e.meta, path)
            return isinstance(value, str) and rx.search(value) is not None

        return regex

    if op == "*":

        def contains(e: Entry) -> bool:
            value = _meta_value(e.meta, path)
            if isinstance(value, str):
                return text in value
            if isinstance(value, (list, tuple)):
                return any(isinstance(item, str) and text in item for item in value)
            return False

        return contains

    if op == "^":

        def prefix(e: Entry) -> bool:
            value = _meta_value(e.meta, path)
            return isinstance(value, str) and value.startswith(text)

        return prefix

    def suffix(e: Entry) -> bool:
        value = _meta_value(e.meta, path)
        return isinstance(value, str) and value.endswith(text)

    return suffix


def _root_predicate(getter: Callable[[Entry], str], expected: Any) -> Predicate:
    text = _as_text(expected)
    head, star, tail = text.partition("*")
    if not star:
        return lambda e: getter(e) == text
    size = len(head) + len(tail)

    def glob(e: Entry) -> bool:
        value = getter(e)
        return len(value) >= size and value.startswith(head) and value.endswith(tail)

    return glob


def compile_filter(filters: Mapping[Any, Any] | None) -> list[Predicate]:
    """Turn a filter mapping into predicates; unknown keys are skipped with a warning."""
    predicates: list[Predicate] = []
    for key, value in (filters or {}).items():
        if not isinstance(key, str):
            log.warning("registry.find: ignoring non-string filter key %r", key)
            continue
        if key.startswith(".") and key[1:] in _ROOT_FIELDS:
            predicates.append(_root_predicate(_ROOT_FIELDS[key[1:]], value))
            continue
        op = key[0] if key and key[0] in _OPERATORS else ""
        rest = key[len(op) :]
        if rest.startswith("meta.") and len(rest) > 5:
            predicates.append(_meta_predicate(op, rest[5:], value, key))
            continue
        log.warning("registry.find: ignoring filter key %r (use meta.<field> or .kind/.ns/.name/.id)", key)
    return predicates


def run_query(entries: Iterable[Entry], predicates: list[Predicate]) -> list[Entry]:
    if not predicates:
        return list(entries)
    return [e for e in entries if all(p(e) for p in predicates)]


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ("__map__", tuple(sorted(((repr(k), _freeze(v)) for k, v in value.items()))))
    if isinstance(value, (list, tuple)):
        return ("__list__", tuple(_freeze(v) for v in value))
    hash(value)
    return (type(value).__name__, value)


def cache_key(filters: Mapping[Any, Any] | None) -> Any:
    """A hashable key for a filter mapping, or None when it cannot be frozen."""
    try:
        return _freeze(dict(filters or {}))
    except TypeError:
        return None


class QueryCache:
    """A thread-safe LRU of query results for one immutable registry state."""

    __slots__ = ("_data", "_lock", "maxsize", "hits", "misses")

    def __init__(self, maxsize: int = 256) -> None:
        self._data: OrderedDict[Any, tuple[Entry, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0

    def get(self, key: Any) -> tuple[Entry, ...] | None:
        with self._lock:
            found = self._data.get(key)
            if found is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Any, result: tuple[Entry, ...]) -> None:
        with self._lock:
            self._data[key] = result
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
