"""The live registry: immutable states, atomic applies through listeners, versions.

State and reads
    The registry's contents at one version are a :class:`_State`: the version, a dict of
    entries by ID (insertion-ordered) that is never mutated once published, and that
    state's query cache. A commit builds a new dict and swaps the ``_state`` reference,
    which is atomic in CPython. Readers (``get``/``find``/``snapshot``, called from Lua
    worker threads) read the reference once and work on that object, so they always see
    one consistent version without taking any lock; the only locks on the read path are
    the few-microsecond ones inside the query cache and the history. Stored entries are
    shared by every state that contains them and must be treated as read-only.

Applying a changeset (``await apply(changes)``)
    Serialised by a ``trio.Lock``. Steps: reject an empty changeset (Invalid, "no changes
    to apply"); squash it to one op per ID; validate against the current state (create of
    an existing ID, update/delete of a missing ID fail), filling in the original of every
    update/delete so the stored changeset is reversible; order it (deletes in reverse
    dependency order, then creates/updates in dependency order); run the *transition*;
    record the version in the history (id = max + 1, parent = current); swap the state;
    call the observers (``register_observer`` kind-pattern observers with the same
    add/update/delete calls as listeners, then the ``on_commit(version, ops)`` hooks the
    event bus attaches to); observers never reject, their errors are logged. Any failure
    before the swap leaves the state, the version and the listeners as they were and
    raises a :class:`RegistryError` of kind Internal whose message names the entry and
    the reason. A non-empty changeset that squashes to nothing (create + delete of the
    same ID) still records a version, with no ops.

Transition (the bus runner of the reference, as direct calls)
    Listeners are registered per kind pattern (dotted, ``*`` = one segment, ``**`` = any
    number of segments including none; :mod:`wippy.wildcard` is used when it exists).
    Participants (listeners with ``begin``/``commit``/``discard``) get ``begin()`` first.
    Then each op whose kind propagates (not ``registry.entry`` and not ``ns.*``) is
    dispatched to every matching listener in registration order: ``add(entry)``,
    ``update(old, new)`` or ``delete(entry)``, each bounded by ``event_wait_timeout``.
    A listener that raises rejects the op: listeners that already took that op get the
    inverse call. If the error chain has kind NotFound the op is deferred to the next pass
    (self-healing order); passes repeat while they make progress, otherwise the apply fails
    with "unresolved dependencies". Any other rejection fails at once. On failure every
    applied op is undone in reverse order (``delete`` for an add, ``update(new, old)`` for
    an update, ``add`` for a delete), participants get ``discard()``, and the error is
    raised. On success participants get ``commit()``; a commit error is logged, not
    raised (the change is already live everywhere else). Cancellation during a listener
    call undoes the applied ops under a shield and re-raises.

Versions
    Version 0 is the root and stands for the *baseline*: the entries loaded at boot. With
    an empty history the registry therefore boots at ``v0`` and the first applied
    changeset is ``v1`` (the conformance suite only checks increments; the spec's boot
    restore says "current version = head", which is 0 without history). With a persisted
    history, ``load_state`` replays root..head onto the new baseline and boots at ``head``
    without recording a version. ``apply_version(n)`` moves the live state along the path
    between the current version and ``n`` (inverting changesets upwards, replaying them
    downwards; the net change is computed as one delta), runs it through the listeners
    like any apply, and makes ``n`` current without recording a new version; the next
    apply then branches from ``n`` with a fresh id.

Snapshots
    :class:`Snapshot` wraps one state: ``entries``, ``get``, ``lookup``, ``find``,
    ``namespace``, ``version``, ``changes``. ``snapshot_at(n)`` rebuilds the entries of
    version ``n`` by replaying the history path from the current state (ids <= 0 are
    Invalid "invalid version ID", unknown ids NotFound "version not found").
"""

from __future__ import annotations

import copy
import fnmatch
import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import trio

from wippy.entry import Entry, split_id

from .changeset import (
    ChangeSet,
    DependencyFn,
    Op,
    OpKind,
    build_delta,
    default_dependencies,
    order_ops,
    replay,
    squash,
)
from .errors import RegistryError, internal, invalid, is_not_found, not_found
from .finder import QueryCache, cache_key, compile_filter, run_query
from .history import MemoryHistory, Version, check_version_id

log = logging.getLogger("wippy.registry")

INTERNAL_KINDS = frozenset({"registry.entry", "ns.dependency", "ns.requirement", "ns.definition"})


def propagates(kind: str) -> bool:
    """Whether ops on entries of this kind are dispatched to listeners."""
    return kind not in INTERNAL_KINDS and not kind.startswith("ns.")


@runtime_checkable
class Listener(Protocol):
    """A kind handler. Raising from any method rejects the operation."""

    async def add(self, entry: Entry) -> None: ...

    async def update(self, old: Entry, new: Entry) -> None: ...

    async def delete(self, entry: Entry) -> None: ...


CommitHook = Callable[[Version, list[Op]], "Awaitable[None] | None"]


# --------------------------------------------------------------------------- kind patterns


def _compile_private(pattern: str) -> Callable[[str], bool]:
    segments = tuple(pattern.split("."))

    def match(kind: str) -> bool:
        return _match_segments(segments, tuple(kind.split(".")))

    return match


def _match_segments(pat: tuple[str, ...], segs: tuple[str, ...]) -> bool:
    if not pat:
        return not segs
    head = pat[0]
    if head == "**":
        return any(_match_segments(pat[1:], segs[i:]) for i in range(len(segs) + 1))
    if not segs:
        return False
    if head == "*" or fnmatch.fnmatchcase(segs[0], head):
        return _match_segments(pat[1:], segs[1:])
    return False


def compile_kind_pattern(pattern: str) -> Callable[[str], bool]:
    """A matcher for dotted kind patterns (``process.*``, ``function.lua.**``, exact).

    Uses the event bus matcher :mod:`wippy.wildcard` (which also knows ``(a|b)``
    alternatives) when it is importable, else a private segment matcher.
    """
    try:
        from wippy import wildcard
    except ImportError:
        wildcard = None  # type: ignore[assignment]
    compile_fn = getattr(wildcard, "compile", None) if wildcard is not None else None
    if compile_fn is not None:
        return compile_fn(pattern).match  # type: ignore[no-any-return]
    if "*" not in pattern:
        return lambda kind: kind == pattern
    return _compile_private(pattern)


@dataclass(frozen=True, slots=True)
class _Registration:
    pattern: str
    match: Callable[[str], bool]
    listener: Any

    @property
    def participant(self) -> bool:
        return all(callable(getattr(self.listener, m, None)) for m in ("begin", "commit", "discard"))


# --------------------------------------------------------------------------- state / snapshot


@dataclass(frozen=True, slots=True)
class _State:
    version: Version
    entries: Mapping[str, Entry]
    cache: QueryCache = field(default_factory=QueryCache)


def _find(state: _State, filters: Mapping[Any, Any] | None) -> list[Entry]:
    key = cache_key(filters)
    if key is not None:
        hit = state.cache.get(key)
        if hit is not None:
            return list(hit)
    result = run_query(state.entries.values(), compile_filter(filters))
    if key is not None:
        state.cache.put(key, tuple(result))
    return result


class Snapshot:
    """An immutable view of the registry at one version."""

    __slots__ = ("_state",)

    def __init__(self, state: _State) -> None:
        self._state = state

    def version(self) -> Version:
        return self._state.version

    def entries(self) -> list[Entry]:
        return list(self._state.entries.values())

    def get(self, entry_id: str) -> Entry | None:
        return self._state.entries.get(entry_id)

    def lookup(self, entry_id: str) -> Entry:
        """Like ``get`` but raises NotFound "entry not found: <id>"."""
        entry = self._state.entries.get(entry_id)
        if entry is None:
            raise not_found(f"entry not found: {entry_id}")
        return entry

    def find(self, filters: Mapping[Any, Any] | None = None) -> list[Entry]:
        return _find(self._state, filters)

    def namespace(self, ns: str) -> list[Entry]:
        return [e for e in self._state.entries.values() if split_id(e.id)[0] == ns]

    def changes(self) -> ChangeSet:
        return ChangeSet()

    def __len__(self) -> int:
        return len(self._state.entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._state.entries


class HistoryView:
    """What Lua ``registry.history()`` returns."""

    __slots__ = ("_registry",)

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def versions(self) -> list[Version]:
        return self._registry.versions()

    def get_version(self, version_id: int) -> Version:
        return self._registry.get_version(version_id)

    def snapshot_at(self, version: Version | int) -> Snapshot:
        return self._registry.snapshot_at(version.id if isinstance(version, Version) else version)


# --------------------------------------------------------------------------- registry


class Registry:
    """The versioned entry registry (see the module note)."""

    def __init__(
        self,
        history: MemoryHistory | None = None,
        dependencies: DependencyFn = default_dependencies,
        event_wait_timeout: float | None = 30.0,
    ) -> None:
        self._history = history if history is not None else MemoryHistory()
        self._dependencies = dependencies
        self.event_wait_timeout = event_wait_timeout
        root = self._history.find(0) or Version(0, None)
        self._state = _State(root, {})
        self._registrations: tuple[_Registration, ...] = ()
        self._match_cache: dict[str, tuple[_Registration, ...]] = {}
        self.on_commit: list[CommitHook] = []
        self._observers: tuple[_Registration, ...] = ()
        self._lock: trio.Lock | None = None
        self._waiting_on: tuple[str, Op] | None = None
        self._armed_at = -math.inf

    # -- listeners -------------------------------------------------------------------

    def register_listener(self, pattern: str, listener: Any) -> Callable[[], None]:
        """Register a kind handler for a kind pattern; returns an unregister function."""
        for method in ("add", "update", "delete"):
            if not callable(getattr(listener, method, None)):
                raise TypeError(f"registry listener {listener!r} has no {method}() method")
        reg = _Registration(pattern, compile_kind_pattern(pattern), listener)
        self._registrations = (*self._registrations, reg)
        self._match_cache = {}

        def unregister() -> None:
            self._registrations = tuple(r for r in self._registrations if r is not reg)
            self._match_cache = {}

        return unregister

    def register_observer(self, pattern: str, observer: Any) -> Callable[[], None]:
        """Register an observer: same ``add/update/delete`` calls as a listener, made after
        the commit, for propagating kinds only; it cannot reject (errors are logged).
        Any of the three methods may be missing. Returns an unregister function."""
        reg = _Registration(pattern, compile_kind_pattern(pattern), observer)
        self._observers = (*self._observers, reg)

        def unregister() -> None:
            self._observers = tuple(r for r in self._observers if r is not reg)

        return unregister

    def _matching(self, kind: str) -> tuple[_Registration, ...]:
        cache = self._match_cache
        found = cache.get(kind)
        if found is None:
            found = tuple(r for r in self._registrations if r.match(kind))
            cache[kind] = found
        return found

    # -- reads (any thread) --------------------------------------------------------------

    def current_version(self) -> Version:
        return self._state.version

    def get(self, entry_id: str) -> Entry | None:
        return self._state.entries.get(entry_id)

    def lookup(self, entry_id: str) -> Entry:
        """Like ``get`` but raises NotFound "entry not found: <id>"."""
        return Snapshot(self._state).lookup(entry_id)

    def entries(self) -> list[Entry]:
        return list(self._state.entries.values())

    def find(self, filters: Mapping[Any, Any] | None = None) -> list[Entry]:
        return _find(self._state, filters)

    def snapshot(self) -> Snapshot:
        return Snapshot(self._state)

    def snapshot_at(self, version_id: int) -> Snapshot:
        check_version_id(version_id, allow_root=False)
        target = self._history.get(version_id)
        state = self._state
        if target.id == state.version.id:
            return Snapshot(state)
        entries = dict(state.entries)
        replay(entries, self._history.path(state.version.id, target.id))
        return Snapshot(_State(target, entries))

    def versions(self) -> list[Version]:
        """Every version known to the history, root ``v0`` included, by id."""
        return self._history.versions()

    def get_version(self, version_id: int) -> Version:
        """Invalid "invalid version ID" for negative ids, NotFound "version not found"."""
        return self._history.get(version_id)

    def previous(self, version: Version) -> Version | None:
        return self._history.find(version.parent) if version.parent is not None else None

    def next(self, version: Version) -> Version | None:
        return self._history.next_of(version.id)

    def history(self) -> HistoryView:
        return HistoryView(self)

    def changeset_of(self, version_id: int) -> list[Op]:
        """The applied ops stored with a version."""
        return list(self._history.changeset(version_id))

    def build_delta(self, old: Iterable[Entry], new: Iterable[Entry]) -> list[Op]:
        return build_delta(old, new, self._dependencies)

    # -- writes (trio thread) ------------------------------------------------------------

    def _get_lock(self) -> trio.Lock:
        if self._lock is None:
            self._lock = trio.Lock()
        return self._lock

    async def apply(self, changes: ChangeSet | Iterable[Op]) -> Version:
        """Apply a changeset atomically; returns the new version (see the module note)."""
        ops_in = changes.ops() if isinstance(changes, ChangeSet) else list(changes)
        if not ops_in:
            raise invalid("no changes to apply")
        async with self._get_lock():
            state = self._state
            ops, entries = self._prepare(state.entries, ops_in)
            begun, applied = await self._transition(ops)
            try:
                version = self._history.record(ops, parent=state.version.id)
                self._history.set_head(version.id)
            except BaseException as exc:
                with trio.CancelScope(shield=True):
                    await self._undo_all(applied)
                    await self._discard(begun)
                if isinstance(exc, Exception):
                    raise internal(f"failed to record version: {exc}") from exc
                raise
            self._state = _State(version, entries)
            await self._commit(begun)
            await self._notify(version, ops)
            return version

    def _prepare(self, current: Mapping[str, Entry], ops_in: list[Op]) -> tuple[list[Op], dict[str, Entry]]:
        squashed = squash(ops_in)
        entries = dict(current)
        prepared: list[Op] = []
        for op in squashed:
            eid = op.id
            if not isinstance(eid, str) or not eid:
                raise internal("invalid entry ID")
            if op.kind is OpKind.CREATE:
                if eid in entries:
                    raise internal(f"entry already exists: {eid}")
                if not op.entry.kind:
                    raise internal(f"entry {eid} has no kind")
                new = clone_entry(op.entry)
                prepared.append(Op(OpKind.CREATE, new))
                entries[eid] = new
            elif op.kind is OpKind.UPDATE:
                old = entries.get(eid)
                if old is None:
                    raise internal(f"entry not found: {eid}")
                new = clone_entry(op.entry)
                if not new.kind:
                    new.kind = old.kind
                prepared.append(Op(OpKind.UPDATE, new, old))
                entries[eid] = new
            else:
                old = entries.get(eid)
                if old is None:
                    raise internal(f"entry not found: {eid}")
                prepared.append(Op(OpKind.DELETE, old, old))
                del entries[eid]
        return order_ops(prepared, self._dependencies), entries

    async def load_state(self, entries: Iterable[Entry]) -> Version:
        """Boot restore: baseline + replay of root..head, one transition, current = head."""
        async with self._get_lock():
            final: dict[str, Entry] = {}
            for e in entries:
                final[e.id] = clone_entry(e)
            head = self._history.head
            if head > 0:
                replay(final, self._history.path(0, head))
            state = self._state
            ops = build_delta(state.entries, final, self._dependencies)
            begun, _ = await self._transition(ops)
            version = self._history.get(head)
            self._state = _State(version, final)
            await self._commit(begun)
            if ops:
                await self._notify(version, ops)
            return version

    async def apply_version(self, version_id: int) -> Version:
        """Roll the live registry back or forward to version ``version_id``."""
        check_version_id(version_id)
        target = self._history.get(version_id)
        async with self._get_lock():
            state = self._state
            if target.id == state.version.id:
                return target
            final = dict(state.entries)
            replay(final, self._history.path(state.version.id, target.id))
            ops = build_delta(state.entries, final, self._dependencies)
            begun, applied = await self._transition(ops)
            try:
                self._history.set_head(target.id)
            except BaseException:
                with trio.CancelScope(shield=True):
                    await self._undo_all(applied)
                    await self._discard(begun)
                raise
            self._state = _State(target, final)
            await self._commit(begun)
            await self._notify(target, ops)
            return target

    # -- transition -------------------------------------------------------------------

    async def _call(self, listener: Any, op: Op, inverse: bool = False) -> None:
        kind = op.kind
        if inverse:
            if kind is OpKind.CREATE:
                result = listener.delete(op.entry)
            elif kind is OpKind.UPDATE:
                result = listener.update(op.entry, op.original)
            else:
                result = listener.add(op.original if op.original is not None else op.entry)
        elif kind is OpKind.CREATE:
            result = listener.add(op.entry)
        elif kind is OpKind.UPDATE:
            result = listener.update(op.original, op.entry)
        else:
            result = listener.delete(op.entry)
        if inspect.isawaitable(result):
            await result

    async def _dispatch(self, op: Op, scope: trio.CancelScope) -> list[Any]:
        """Send one op to its listeners; on a rejection undo it on the ones that took it.

        ``scope`` is the transition's timeout scope: its deadline is re-armed before each
        listener call (one scope per transition is much cheaper than one per call; the
        deadline is only moved when more than a millisecond passed since it was last
        armed, so each call gets between ``timeout`` and ``timeout - 1 ms``). Nothing
        between two listener calls checkpoints, so a stale deadline cannot fire there.
        """
        done: list[Any] = []
        timeout = self.event_wait_timeout
        for reg in self._matching(op.entry.kind):
            self._waiting_on = (reg.pattern, op)
            if timeout is not None and timeout > 0:
                now = trio.current_time()
                if now - self._armed_at > 0.001:
                    scope.deadline = now + timeout
                    self._armed_at = now
            try:
                await self._call(reg.listener, op)
            except BaseException:
                with trio.CancelScope(shield=True):
                    await self._undo_one(op, done)
                raise
            done.append(reg.listener)
        return done

    async def _transition(self, ops: list[Op]) -> tuple[list[Any], list[tuple[Op, list[Any]]]]:
        begun: list[Any] = []
        if not ops:
            return begun, []
        for reg in self._registrations:
            if reg.participant:
                try:
                    await reg.listener.begin()
                except Exception as exc:
                    await self._discard(begun)
                    raise internal(f"registry transaction rejected by {reg.pattern} listener: {exc}") from exc
                begun.append(reg.listener)
        applied: list[tuple[Op, list[Any]]] = []
        pending = list(ops)
        self._armed_at = -math.inf
        with trio.CancelScope() as scope:
            try:
                while pending:
                    deferred: list[tuple[Op, BaseException]] = []
                    for op in pending:
                        if not propagates(op.entry.kind):
                            applied.append((op, []))
                            continue
                        try:
                            done = await self._dispatch(op, scope)
                        except Exception as exc:
                            if is_not_found(exc):
                                deferred.append((op, exc))
                                continue
                            raise internal(f"{_verb(op)} {op.id} rejected: {exc}") from exc
                        applied.append((op, done))
                    if deferred and len(deferred) == len(pending):
                        details = "; ".join(f"{op.id}: {exc}" for op, exc in deferred)
                        raise internal(f"unresolved dependencies: {details}")
                    pending = [op for op, _ in deferred]
            except BaseException:
                with trio.CancelScope(shield=True):
                    await self._undo_all(applied)
                    await self._discard(begun)
                raise
        if scope.cancelled_caught:  # our deadline fired; everything is already undone
            assert self._waiting_on is not None
            pattern, op = self._waiting_on
            raise internal(
                f"timeout waiting for the {pattern} listener to accept {op.kind} {op.id} "
                f"(after {self.event_wait_timeout}s)"
            )
        return begun, applied

    async def _undo_one(self, op: Op, listeners: list[Any]) -> None:
        for listener in reversed(listeners):
            try:
                await self._call(listener, op, inverse=True)
            except Exception:
                log.exception("registry: undo of %s %s failed in %r", op.kind, op.id, listener)

    async def _undo_all(self, applied: Iterable[tuple[Op, Iterable[Any]]]) -> None:
        for op, listeners in reversed(list(applied)):
            await self._undo_one(op, list(listeners))

    async def _discard(self, begun: list[Any]) -> None:
        for listener in begun:
            try:
                await listener.discard()
            except Exception:
                log.exception("registry: discard failed in %r", listener)

    async def _commit(self, begun: list[Any]) -> None:
        for listener in begun:
            try:
                await listener.commit()
            except Exception:
                log.exception("registry: commit failed in %r", listener)

    async def _notify(self, version: Version, ops: list[Op]) -> None:
        for reg in self._observers:
            for op in ops:
                if not propagates(op.entry.kind) or not reg.match(op.entry.kind):
                    continue
                method = {OpKind.CREATE: "add", OpKind.UPDATE: "update", OpKind.DELETE: "delete"}[op.kind]
                fn = getattr(reg.listener, method, None)
                if fn is None:
                    continue
                try:
                    result = fn(op.original, op.entry) if op.kind is OpKind.UPDATE else fn(op.entry)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("registry: observer %r failed on %s %s", reg.listener, op.kind, op.id)
        for hook in list(self.on_commit):
            try:
                result = hook(version, list(ops))
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("registry: on_commit observer %r failed", hook)


def _clone(value: Any) -> Any:
    """Deep copy of plain data (dict/list/scalars), ~10x faster than ``copy.deepcopy``."""
    cls = type(value)
    if cls is str or cls is int or cls is float or cls is bool or value is None:
        return value
    if cls is dict:
        return {k: _clone(v) for k, v in value.items()}
    if cls is list:
        return [_clone(v) for v in value]
    if cls is tuple:
        return tuple(_clone(v) for v in value)
    return copy.deepcopy(value)


def clone_entry(entry: Entry) -> Entry:
    """A private copy of an entry so that later mutation by the caller cannot leak in."""
    return Entry(entry.id, entry.kind, _clone(entry.meta), _clone(entry.data), entry.origin)


def _verb(op: Op) -> str:
    return {OpKind.CREATE: "create of", OpKind.UPDATE: "update of", OpKind.DELETE: "delete of"}[op.kind]


__all__ = [
    "INTERNAL_KINDS",
    "HistoryView",
    "Listener",
    "Registry",
    "RegistryError",
    "Snapshot",
    "compile_kind_pattern",
    "propagates",
]
