"""Operations, changesets, squashing, inversion, dependency ordering and deltas.

An :class:`Op` is one of ``entry.create`` / ``entry.update`` / ``entry.delete`` with the
entry it carries and, once applied, the *original* entry it replaced or removed (``None``
for a create). Originals make every applied changeset reversible: :func:`invert` turns a
list of applied ops into the ops that undo them (delete for a create, update back to the
original for an update, create of the original for a delete), in reverse order.

:func:`squash` folds a sequence of ops into at most one op per entry ID using the reference
rules: Create+Update = Create(new value), Create+Delete = nothing, Update+Update =
Update(latest, first original), Update+Delete = Delete(first original), Delete+Create =
Update(new, original of the delete). The remaining combinations (Create+Create,
Delete+Delete, Delete+Update, Update+Create) cannot happen in a consistent sequence and
raise a :class:`RegistryError` (kind Internal, like every failed apply) naming the entry. The squashed ops keep the position of the
first op of each ID. The registry squashes every changeset before applying it and
squashes the whole version path for ``apply_version``.

Ordering: :func:`order_ops` puts deletes first, in *reverse* dependency order (dependents
before what they depend on), then creates/updates in dependency order. Dependencies come
from a pluggable ``dependencies(entry) -> set[id]`` function; only edges between entries
of the same batch matter, ties keep the input order and cycles fall back to the input
order. :func:`default_dependencies` is a conservative extractor: any string in meta/data
that is exactly a qualified ``ns:name`` ID, plus bare names under a few well-known
reference keys (``host``, ``server``, ``router``, ``requires``, ``depends_on``,
``imports``). Edges to IDs outside the batch are ignored, so false positives only cost
ordering freedom. The engine can pass a kind-aware extractor instead.

:func:`build_delta` computes the ops turning one entry set into another (used by the Lua
``registry.build_delta`` and by boot restore).

:class:`ChangeSet` is the mutable builder behind Lua ``snapshot:changes()``: chainable
``create`` / ``update`` / ``delete`` and ``ops()``; it does nothing until handed to
``Registry.apply``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wippy.entry import Entry, resolve_ref, split_id

from .errors import RegistryError, internal


class OpKind(StrEnum):
    CREATE = "entry.create"
    UPDATE = "entry.update"
    DELETE = "entry.delete"


@dataclass(frozen=True, slots=True)
class Op:
    """One registry operation. ``original`` is the entry replaced/removed (None on create)."""

    kind: OpKind
    entry: Entry
    original: Entry | None = None

    @property
    def id(self) -> str:
        return self.entry.id


DependencyFn = Callable[[Entry], "set[str]"]


def same_content(a: Entry, b: Entry) -> bool:
    """Entries are equal for delta purposes when id, kind, meta and data are equal."""
    return a.id == b.id and a.kind == b.kind and a.meta == b.meta and a.data == b.data


# --------------------------------------------------------------------------- builder


class ChangeSet:
    """An ordered, not yet applied list of operations (the Lua ``Changes`` builder)."""

    __slots__ = ("_ops",)

    def __init__(self, ops: Iterable[Op] = ()) -> None:
        self._ops: list[Op] = list(ops)

    def create(self, entry: Entry) -> ChangeSet:
        self._ops.append(Op(OpKind.CREATE, entry))
        return self

    def update(self, entry: Entry) -> ChangeSet:
        self._ops.append(Op(OpKind.UPDATE, entry))
        return self

    def delete(self, entry: str | Entry) -> ChangeSet:
        """Queue a delete; an ID is enough (the registry fills in the stored entry)."""
        if isinstance(entry, str):
            entry = Entry(entry, "")
        self._ops.append(Op(OpKind.DELETE, entry))
        return self

    def add(self, op: Op) -> ChangeSet:
        self._ops.append(op)
        return self

    def ops(self) -> list[Op]:
        return list(self._ops)

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._ops)


# --------------------------------------------------------------------------- squash / invert

_CANCELLED = object()


def squash(ops: Iterable[Op]) -> list[Op]:
    """Fold ``ops`` into at most one op per entry ID (see the module note for the rules)."""
    slots: dict[str, Any] = {}  # id -> Op | _CANCELLED, insertion order = first position
    for op in ops:
        prev = slots.get(op.id)
        if prev is None:
            slots[op.id] = op
            continue
        if prev is _CANCELLED:
            # Create+Delete left nothing behind: the next op starts from "absent".
            if op.kind is OpKind.CREATE:
                slots[op.id] = op
                continue
            raise internal(f"entry not found: {op.id}")
        slots[op.id] = _fold(prev, op)
    return [op for op in slots.values() if op is not _CANCELLED]


def _fold(first: Op, second: Op) -> Any:
    a, b = first.kind, second.kind
    if a is OpKind.CREATE and b is OpKind.UPDATE:
        return Op(OpKind.CREATE, second.entry)
    if a is OpKind.CREATE and b is OpKind.DELETE:
        return _CANCELLED
    if a is OpKind.UPDATE and b is OpKind.UPDATE:
        return Op(OpKind.UPDATE, second.entry, first.original)
    if a is OpKind.UPDATE and b is OpKind.DELETE:
        original = first.original
        return Op(OpKind.DELETE, original if original is not None else second.entry, original)
    if a is OpKind.DELETE and b is OpKind.CREATE:
        return Op(OpKind.UPDATE, second.entry, first.original if first.original is not None else first.entry)
    if b is OpKind.CREATE:
        raise internal(f"entry already exists: {second.id}")
    raise internal(f"entry not found: {second.id}")


def invert(ops: Iterable[Op]) -> list[Op]:
    """The ops undoing applied ``ops`` (each must carry its original), in reverse order."""
    out: list[Op] = []
    for op in reversed(list(ops)):
        if op.kind is OpKind.CREATE:
            out.append(Op(OpKind.DELETE, op.entry, op.entry))
        elif op.kind is OpKind.UPDATE:
            if op.original is None:
                raise internal(f"cannot invert update of {op.id}: original entry unknown")
            out.append(Op(OpKind.UPDATE, op.original, op.entry))
        else:
            original = op.original if op.original is not None else op.entry
            out.append(Op(OpKind.CREATE, original))
    return out


# --------------------------------------------------------------------------- dependencies

REFERENCE_KEYS = frozenset({"host", "server", "router", "requires", "depends_on", "imports"})


def default_dependencies(entry: Entry) -> set[str]:
    """IDs ``entry`` refers to (see the module note); may include IDs that do not exist."""
    ns = split_id(entry.id)[0]
    found: set[str] = set()

    def visit(value: Any, ref_key: bool) -> None:
        if isinstance(value, str):
            if ":" in value:
                if _looks_like_id(value):
                    found.add(value)
            elif ref_key and value:
                found.add(resolve_ref(value, ns))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                visit(item, ref_key or (isinstance(key, str) and key in REFERENCE_KEYS))
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item, ref_key)

    visit(entry.meta, False)
    visit(entry.data, False)
    found.discard(entry.id)
    return found


def _looks_like_id(value: str) -> bool:
    if len(value) > 200 or "/" in value or " " in value or "\n" in value:
        return False
    ns, name = split_id(value)
    return bool(ns) and bool(name) and ":" not in name


def _toposort(n: int, edges: Mapping[int, set[int]]) -> list[int]:
    """Stable Kahn sort of ``range(n)``; ``edges[i]`` = items that must come before i."""
    indeg = [0] * n
    after: list[list[int]] = [[] for _ in range(n)]
    for i, befores in edges.items():
        for j in befores:
            if j != i:
                indeg[i] += 1
                after[j].append(i)
    heap = [i for i in range(n) if indeg[i] == 0]
    heapq.heapify(heap)
    out: list[int] = []
    while heap:
        i = heapq.heappop(heap)
        out.append(i)
        for k in after[i]:
            indeg[k] -= 1
            if indeg[k] == 0:
                heapq.heappush(heap, k)
    if len(out) < n:  # a cycle: keep the rest in input order
        placed = set(out)
        out.extend(i for i in range(n) if i not in placed)
    return out


def _sorted_group(ops: list[Op], dependencies: DependencyFn, reverse: bool) -> list[Op]:
    if len(ops) < 2:
        return list(ops)
    index = {op.id: i for i, op in enumerate(ops)}
    edges: dict[int, set[int]] = {}
    for i, op in enumerate(ops):
        source = op.original if (op.kind is OpKind.DELETE and op.original is not None) else op.entry
        for dep in dependencies(source):
            j = index.get(dep)
            if j is None or j == i:
                continue
            if reverse:  # dependents first: i (depends on j) must come before j
                edges.setdefault(j, set()).add(i)
            else:
                edges.setdefault(i, set()).add(j)
    return [ops[i] for i in _toposort(len(ops), edges)]


def order_ops(ops: Iterable[Op], dependencies: DependencyFn = default_dependencies) -> list[Op]:
    """Deletes in reverse dependency order first, then creates/updates in dependency order."""
    ops = list(ops)
    deletes = [op for op in ops if op.kind is OpKind.DELETE]
    others = [op for op in ops if op.kind is not OpKind.DELETE]
    return _sorted_group(deletes, dependencies, True) + _sorted_group(others, dependencies, False)


# --------------------------------------------------------------------------- delta


def _as_map(entries: Iterable[Entry] | Mapping[str, Entry]) -> dict[str, Entry]:
    if isinstance(entries, Mapping):
        return dict(entries)
    return {e.id: e for e in entries}


def build_delta(
    old_entries: Iterable[Entry] | Mapping[str, Entry],
    new_entries: Iterable[Entry] | Mapping[str, Entry],
    dependencies: DependencyFn = default_dependencies,
) -> list[Op]:
    """Ops turning ``old_entries`` into ``new_entries`` (ordered, originals filled in)."""
    old = _as_map(old_entries)
    new = _as_map(new_entries)
    ops: list[Op] = [Op(OpKind.DELETE, e, e) for eid, e in old.items() if eid not in new]
    for eid, e in new.items():
        prev = old.get(eid)
        if prev is None:
            ops.append(Op(OpKind.CREATE, e))
        elif not same_content(prev, e):
            ops.append(Op(OpKind.UPDATE, e, prev))
    return order_ops(ops, dependencies)


def replay(entries: dict[str, Entry], ops: Iterable[Op]) -> None:
    """Apply ``ops`` to a plain dict without validation (create/update = put, delete = remove)."""
    for op in ops:
        if op.kind is OpKind.DELETE:
            entries.pop(op.id, None)
        else:
            entries[op.id] = op.entry


__all__ = [
    "ChangeSet",
    "DependencyFn",
    "Op",
    "OpKind",
    "RegistryError",
    "build_delta",
    "default_dependencies",
    "invert",
    "order_ops",
    "replay",
    "same_content",
    "squash",
]
