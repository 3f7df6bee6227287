"""Shared helpers for the registry tests: entry factory and a recording listener."""

from __future__ import annotations

from typing import Any

from wippy.entry import Entry
from wippy.registry import RegistryError


def E(eid: str, kind: str = "registry.entry", meta: dict[str, Any] | None = None, **data: Any) -> Entry:
    return Entry(eid, kind, dict(meta or {}), dict(data))


class Recorder:
    """A listener that records calls and rejects ids listed in ``reject``/``missing``."""

    def __init__(self, name: str = "rec", log: list[tuple[str, ...]] | None = None) -> None:
        self.name = name
        self.log: list[tuple[str, ...]] = log if log is not None else []
        self.reject: set[str] = set()
        self.missing: dict[str, str] = {}  # id -> id that must have been added first
        self.live: dict[str, Entry] = {}

    def _check(self, entry: Entry) -> None:
        if entry.id in self.reject:
            raise ValueError(f"{self.name} refuses {entry.id}")
        need = self.missing.get(entry.id)
        if need is not None and need not in self.live:
            raise RegistryError("NotFound", f"{need} not found")

    async def add(self, entry: Entry) -> None:
        self._check(entry)
        self.log.append((self.name, "add", entry.id))
        self.live[entry.id] = entry

    async def update(self, old: Entry, new: Entry) -> None:
        self._check(new)
        self.log.append((self.name, "update", new.id))
        self.live[new.id] = new

    async def delete(self, entry: Entry) -> None:
        self._check(entry)
        self.log.append((self.name, "delete", entry.id))
        self.live.pop(entry.id, None)


class Participant(Recorder):
    async def begin(self) -> None:
        self.log.append((self.name, "begin"))

    async def commit(self) -> None:
        self.log.append((self.name, "commit"))

    async def discard(self) -> None:
        self.log.append((self.name, "discard"))
