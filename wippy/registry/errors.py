"""Errors raised by the registry.

Every failure the registry reports is a :class:`RegistryError` carrying a ``kind`` whose
string value is the one the Lua ``errors`` module exposes (``errors.NOT_FOUND`` is
``"NotFound"``, ``errors.INVALID`` is ``"Invalid"``, ...), so the Lua binding can turn it
into an error object without a translation table. The messages are the ones the
conformance suite pins: ``entry not found: <id>``, ``no changes to apply``,
``invalid version ID``, ``version not found``.

Listeners reject an operation by raising any exception. A rejection is *deferred* (retried
in a later pass of the same apply) when the exception, or anything in its ``__cause__`` /
``__context__`` chain, has a ``kind`` attribute naming NotFound; :func:`is_not_found`
implements that test so that other packages' error classes work as long as they expose a
``kind`` attribute.
"""

from __future__ import annotations

NOT_FOUND = "NotFound"
ALREADY_EXISTS = "AlreadyExists"
INVALID = "Invalid"
INTERNAL = "Internal"
CONFLICT = "Conflict"

_NOT_FOUND_SPELLINGS = frozenset({"NotFound", "NOT_FOUND", "not_found", "notfound"})


class RegistryError(Exception):
    """A registry failure with an error kind (``NotFound``, ``Invalid``, ``Internal``...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"RegistryError({self.kind!r}, {self.message!r})"


def not_found(message: str) -> RegistryError:
    return RegistryError(NOT_FOUND, message)


def invalid(message: str) -> RegistryError:
    return RegistryError(INVALID, message)


def internal(message: str) -> RegistryError:
    return RegistryError(INTERNAL, message)


def is_not_found(exc: BaseException | None) -> bool:
    """True when ``exc`` or an exception it was raised from has a NotFound ``kind``."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        kind = getattr(exc, "kind", None)
        if callable(kind):
            try:
                kind = kind()
            except Exception:  # noqa: BLE001 - a foreign error object; just keep walking
                kind = None
        if isinstance(kind, str) and kind in _NOT_FOUND_SPELLINGS:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
