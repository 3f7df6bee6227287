"""Version history: the version tree, the changeset of each version, and persistence.

A :class:`Version` is ``{id, parent}``; version 0 is the root and has no parent. Every
applied changeset gets the next free id (``max id + 1``) with the *current* version as its
parent, so after ``apply_version`` moved the current version back, the history becomes a
tree. The changeset stored with a version is the applied ops (squashed, ordered, with
originals), which makes both directions computable: :meth:`MemoryHistory.path` returns the
op lists that lead from one version to another, inverting changesets while walking up to
the common ancestor and replaying them while walking down to the target.

``head`` is the version the live registry is at. It is what boot restore replays to and
what ``apply_version`` moves.

Backends:

* :class:`MemoryHistory` (default): dicts guarded by a ``threading.Lock``. Reads happen
  from worker threads (Lua ``snapshot_at``) while the trio thread appends, so every public
  method takes the lock for a few dictionary operations only.
* :class:`SqliteHistory`: the same in-memory structure, written through to an SQLite file
  with sqlite-utils (WAL journal, ``busy_timeout`` 5000). Schema v1, as the reference:
  ``metadata(key PK, value)`` holding ``schema_version`` and ``head``,
  ``versions(id PK, parent_id -> versions.id)`` and ``changesets(version_id PK, data
  BLOB)``; ``data`` is a msgpack list of ``{Kind, Entry, OriginalEntry?}`` with entries
  encoded as ``{ID, Kind, Meta, Data: {Format, Data}, Origin?}``. The root version 0 with an
  empty changeset is created on open. Everything is loaded into memory when the file is
  opened; only appends and head moves touch the file afterwards, and only from the
  thread that applies changes (the connection is opened with ``check_same_thread=False``
  and serialised by the same lock).
* ``nil`` history is not provided: the memory backend is cheap enough.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

import msgspec

from wippy.entry import Entry, Origin

from .changeset import Op, OpKind, invert
from .errors import RegistryError, invalid, not_found

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Version:
    """A point in the registry history; prints as ``v<id>``."""

    id: int
    parent: int | None = None

    def string(self) -> str:
        return f"v{self.id}"

    def __str__(self) -> str:
        return f"v{self.id}"


ROOT = Version(0, None)


def check_version_id(version_id: int, allow_root: bool = True) -> None:
    """Raise Invalid for ids that can never name a version (negative, or 0 when not allowed)."""
    if not isinstance(version_id, int) or isinstance(version_id, bool):
        raise invalid("invalid version ID")
    if version_id < 0 or (version_id == 0 and not allow_root):
        raise invalid("invalid version ID")


class MemoryHistory:
    """In-memory version tree with the changeset of every version."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[int, Version] = {0: ROOT}
        self._changesets: dict[int, tuple[Op, ...]] = {0: ()}
        self._children: dict[int, list[int]] = {}
        self._head = 0
        self._max_id = 0

    # -- writes (trio thread) ------------------------------------------------------

    def record(self, ops: list[Op], parent: int) -> Version:
        """Store a new version (next free id) with ``parent`` and its applied ops."""
        with self._lock:
            version = Version(self._max_id + 1, parent)
            self._persist_version(version, tuple(ops))  # first: a write error leaves no trace
            self._store(version, tuple(ops))
            return version

    def set_head(self, version_id: int) -> None:
        with self._lock:
            if version_id not in self._versions:
                raise not_found("version not found")
            self._head = version_id
            self._persist_head(version_id)

    def _store(self, version: Version, ops: tuple[Op, ...]) -> None:
        self._versions[version.id] = version
        self._changesets[version.id] = ops
        if version.parent is not None:
            self._children.setdefault(version.parent, []).append(version.id)
        self._max_id = max(self._max_id, version.id)

    def _persist_version(self, version: Version, ops: tuple[Op, ...]) -> None:
        """Hook for persistent backends (called under the lock)."""

    def _persist_head(self, version_id: int) -> None:
        """Hook for persistent backends (called under the lock)."""

    def close(self) -> None:
        """Release resources (nothing for memory)."""

    # -- reads (any thread) --------------------------------------------------------

    @property
    def head(self) -> int:
        return self._head

    def get(self, version_id: int) -> Version:
        """The version with that id; Invalid for negative ids, NotFound for unknown ones."""
        check_version_id(version_id)
        with self._lock:
            version = self._versions.get(version_id)
        if version is None:
            raise not_found("version not found")
        return version

    def find(self, version_id: int) -> Version | None:
        with self._lock:
            return self._versions.get(version_id)

    def changeset(self, version_id: int) -> tuple[Op, ...]:
        with self._lock:
            ops = self._changesets.get(version_id)
        if ops is None:
            raise not_found("version not found")
        return ops

    def versions(self) -> list[Version]:
        """Every version (root included), by id."""
        with self._lock:
            return [self._versions[k] for k in sorted(self._versions)]

    def children(self, version_id: int) -> list[int]:
        with self._lock:
            return list(self._children.get(version_id, ()))

    def ancestors(self, version_id: int) -> list[int]:
        """``version_id`` and its ancestors up to the root, nearest first."""
        with self._lock:
            chain: list[int] = []
            current: int | None = version_id
            while current is not None:
                chain.append(current)
                version = self._versions.get(current)
                if version is None:
                    raise not_found("version not found")
                current = version.parent
            return chain

    def path(self, from_id: int, to_id: int) -> list[Op]:
        """The ops leading from version ``from_id`` to ``to_id`` (not squashed)."""
        up = self.ancestors(from_id)
        down = self.ancestors(to_id)
        down_set = set(down)
        lca = next(v for v in up if v in down_set)
        ops: list[Op] = []
        for vid in up:
            if vid == lca:
                break
            ops.extend(invert(self.changeset(vid)))
        forward = []
        for vid in down:
            if vid == lca:
                break
            forward.append(vid)
        for vid in reversed(forward):
            ops.extend(self.changeset(vid))
        return ops

    def next_of(self, version_id: int) -> Version | None:
        """The child on the way to the head if there is one, else the newest child."""
        kids = self.children(version_id)
        if not kids:
            return None
        on_path = set(self.ancestors(self._head))
        for kid in kids:
            if kid in on_path:
                return self.find(kid)
        return self.find(max(kids))


# --------------------------------------------------------------------------- sqlite


class _WireEntry(msgspec.Struct, omit_defaults=True):
    ID: str
    Kind: str
    Meta: Any = None
    Data: Any = None
    Origin: Any = None


class _WireOp(msgspec.Struct, omit_defaults=True):
    Kind: str
    Entry: _WireEntry
    OriginalEntry: _WireEntry | None = None


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[_WireOp])


def _entry_to_wire(entry: Entry) -> _WireEntry:
    origin = [entry.origin.file, entry.origin.line] if entry.origin is not None else None
    return _WireEntry(entry.id, entry.kind, entry.meta, {"Format": "msgpack", "Data": entry.data}, origin)


def _entry_from_wire(wire: _WireEntry) -> Entry:
    data = wire.Data
    if isinstance(data, dict) and "Format" in data and "Data" in data:
        data = data["Data"]
    origin = Origin(wire.Origin[0], wire.Origin[1]) if wire.Origin else None
    return Entry(wire.ID, wire.Kind, wire.Meta if wire.Meta is not None else {}, data, origin)


def encode_ops(ops: tuple[Op, ...] | list[Op]) -> bytes:
    wire = [
        _WireOp(
            str(op.kind),
            _entry_to_wire(op.entry),
            _entry_to_wire(op.original) if op.original is not None else None,
        )
        for op in ops
    ]
    return _encoder.encode(wire)


def decode_ops(blob: bytes) -> tuple[Op, ...]:
    ops = []
    for w in _decoder.decode(blob):
        original = _entry_from_wire(w.OriginalEntry) if w.OriginalEntry is not None else None
        ops.append(Op(OpKind(w.Kind), _entry_from_wire(w.Entry), original))
    return tuple(ops)


class SqliteHistory(MemoryHistory):
    """Memory history written through to an SQLite file (schema v1, WAL)."""

    def __init__(self, path: str | os.PathLike[str] = ".wippy/registry.db") -> None:
        super().__init__()
        import sqlite_utils

        self.file = os.fspath(path)
        parent = os.path.dirname(self.file)
        if parent:
            os.makedirs(parent, exist_ok=True)
        conn = sqlite3.connect(self.file, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA foreign_keys=ON")
        self._conn = conn
        self._db = sqlite_utils.Database(conn)
        self._open()

    def _open(self) -> None:
        db = self._db
        if "metadata" not in db.table_names():
            db["metadata"].create({"key": str, "value": str}, pk="key")
        if "versions" not in db.table_names():
            db["versions"].create(
                {"id": int, "parent_id": int}, pk="id", foreign_keys=[("parent_id", "versions", "id")]
            )
        if "changesets" not in db.table_names():
            db["changesets"].create(
                {"version_id": int, "data": bytes},
                pk="version_id",
                foreign_keys=[("version_id", "versions", "id")],
            )
        meta = {row["key"]: row["value"] for row in db["metadata"].rows}
        schema = meta.get("schema_version")
        if schema is not None and int(schema) != SCHEMA_VERSION:
            raise RegistryError("Internal", f"unsupported registry history schema version {schema}")
        with self._conn:
            if schema is None:
                db["metadata"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")
            if "head" not in meta:
                db["metadata"].upsert({"key": "head", "value": "0"}, pk="key")
            db["versions"].upsert({"id": 0, "parent_id": None}, pk="id")
            if db["changesets"].count_where("version_id = 0") == 0:
                db["changesets"].insert({"version_id": 0, "data": encode_ops(())})
        blobs = {row["version_id"]: row["data"] for row in db["changesets"].rows}
        for row in db.query("select id, parent_id from versions order by id"):
            vid = row["id"]
            if vid == 0:
                continue
            version = Version(vid, row["parent_id"])
            self._store(version, decode_ops(blobs.get(vid, encode_ops(()))))
        head = int(meta.get("head", "0"))
        self._head = head if head in self._versions else 0

    def _persist_version(self, version: Version, ops: tuple[Op, ...]) -> None:
        with self._conn:
            self._db["versions"].insert({"id": version.id, "parent_id": version.parent})
            self._db["changesets"].insert({"version_id": version.id, "data": encode_ops(ops)})

    def _persist_head(self, version_id: int) -> None:
        with self._conn:
            self._db["metadata"].upsert({"key": "head", "value": str(version_id)}, pk="key")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_history(
    config: dict[str, Any] | None = None, base_dir: str | os.PathLike[str] = "."
) -> MemoryHistory:
    """Build the backend from the ``registry`` config block (``history_type``, ``history_path``)."""
    config = config or {}
    kind = str(config.get("history_type") or "memory").lower()
    if kind == "sqlite":
        path = config.get("history_path") or config.get("path") or os.path.join(".wippy", "registry.db")
        if not os.path.isabs(path):
            path = os.path.join(os.fspath(base_dir), path)
        return SqliteHistory(path)
    if kind in ("memory", "nil", "none", ""):
        return MemoryHistory()
    raise invalid(f"unknown registry history type: {kind}")
