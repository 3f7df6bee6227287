"""The AppContext: the write-once map of runtime services filled during boot.

Components put their services here while they load; then the boot loader seals the
context and every later write raises. After the seal the map never changes, so readers
need no lock. Keys are plain strings named after the service (``registry``, ``eventbus``).
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class AppContextError(RuntimeError):
    """A write to a sealed context, a duplicate key, or a missing/mistyped service."""


class AppContext:
    def __init__(self) -> None:
        self._services: dict[str, Any] = {}
        self._sealed = False

    def put(self, key: str, value: Any) -> None:
        """Add a service; raises on a duplicate key or once the context is sealed."""
        if self._sealed:
            raise AppContextError(f"cannot modify sealed AppContext (key {key!r})")
        if key in self._services:
            raise AppContextError(f"cannot overwrite AppContext key {key!r}: key already set")
        self._services[key] = value

    def get(self, key: str, type_: type[T] | None = None) -> T | Any:
        """The service under ``key``; with ``type_`` it must be an instance of that type."""
        try:
            value = self._services[key]
        except KeyError:
            raise AppContextError(f"service not found in AppContext: {key!r}") from None
        if type_ is not None and not isinstance(value, type_):
            raise AppContextError(
                f"AppContext key {key!r} holds {type(value).__name__}, not {type_.__name__}"
            )
        return value

    def find(self, key: str, default: Any = None) -> Any:
        """The service under ``key``, or ``default`` when absent."""
        return self._services.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._services

    def keys(self) -> list[str]:
        return list(self._services)

    def seal(self) -> None:
        self._sealed = True

    @property
    def sealed(self) -> bool:
        return self._sealed
