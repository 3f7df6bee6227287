"""Shared helpers for the data modules (json, yaml, time...): building Lua values from
Python without a handle on the LuaRuntime, and loading the modules' Lua sources.

A module's ``python(shard)`` factory cannot rely on a particular shard attribute to reach
the Lua runtime, so each Lua source hands its Python side a table constructor once at
load time (``py.bind(function() return {} end)``); :class:`TableMaker` wraps it with the
``table()`` method that :func:`wippy.lua.engine.convert.to_lua` expects.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lupa.lua54 as lupa

_HERE = Path(__file__).resolve().parent
lua_type = lupa.lua_type


def lua_source(name: str) -> str:
    """Return the text of ``<name>.lua`` stored next to this file."""
    return (_HERE / f"{name}.lua").read_text(encoding="utf-8")


class TableMaker:
    """Builds Lua tables through a Lua function handed over by the module's Lua source."""

    def __init__(self) -> None:
        self._new: Callable[[], Any] | None = None
        self.expand: Callable[[Any], Any] | None = None

    def bind(self, new_table: Callable[[], Any], expand: Callable[[Any], Any] | None = None) -> None:
        """``new_table()`` returns a fresh Lua table; ``expand(t)`` (optional) returns a
        plain copy of ``t`` made with ``pairs`` so proxies with ``__pairs`` can be read."""
        self._new = new_table
        self.expand = expand

    def table(self) -> Any:
        if self._new is None:
            raise RuntimeError("table constructor not bound")
        return self._new()

    def to_lua(self, value: Any) -> Any:
        """Deep-convert Python data (str, dict, list, numbers...) to Lua values."""
        if isinstance(value, str):
            try:
                return value.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:  # lone surrogates (e.g. JSON "\ud800") -> U+FFFD
                return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value).encode()
        if isinstance(value, dict):
            t = self.table()
            for k, v in value.items():
                if v is None:
                    continue
                t[self.to_lua(k)] = self.to_lua(v)
            return t
        if isinstance(value, (list, tuple)):
            t = self.table()
            for i, v in enumerate(value, 1):
                if v is not None:
                    t[i] = self.to_lua(v)
            return t
        if isinstance(value, int) and not isinstance(value, bool):
            if -(2**63) <= value < 2**63:
                return value
            return float(value)
        return value


def text(value: Any) -> str:
    """Decode a Lua string (bytes) to ``str`` keeping invalid UTF-8 via surrogateescape."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


class EncodeError(Exception):
    """A Lua value that cannot be represented in the target format."""


def table_items(value: Any, expand: Callable[[Any], Any] | None = None) -> list[tuple[Any, Any]]:
    """Raw items of a Lua table; an empty one is re-read through ``expand`` (``pairs``)."""
    items = list(value.items())
    if not items and expand is not None:
        items = list(expand(value).items())
    return items


def table_to_python(
    value: Any,
    *,
    depth: int = 0,
    max_depth: int = 128,
    empty: Any = list,
    expand: Callable[[Any], Any] | None = None,
) -> Any:
    """Convert a Lua value to JSON-like Python data with the reference's table rules.

    * an empty table becomes ``empty()`` (``[]`` for JSON);
    * keys exactly 1..n become a list; all-string keys become a dict;
    * mixed keys, sparse arrays, non-string keys, functions and userdata raise
      :class:`EncodeError`; nesting beyond ``max_depth`` (which also catches cycles) too.
    Strings stay ``bytes``.
    """
    if value is None or isinstance(value, (bool, int, float, bytes)):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    kind = lua_type(value)
    if kind != "table":
        raise EncodeError(f"cannot encode value of type {kind or type(value).__name__}")
    if depth >= max_depth:
        raise EncodeError(f"nesting depth exceeds {max_depth} (cyclic table?)")
    items = table_items(value, expand)
    if not items:
        return empty()
    first = items[0][0]
    if isinstance(first, int) and not isinstance(first, bool):
        n = len(items)
        out: list[Any] = [None] * n
        for k, v in items:
            if not isinstance(k, int) or isinstance(k, bool):
                raise EncodeError("table has mixed array and object keys")
            if k < 1 or k > n:
                raise EncodeError("sparse array cannot be encoded")
            out[k - 1] = table_to_python(v, depth=depth + 1, max_depth=max_depth, empty=empty, expand=expand)
        return out
    if isinstance(first, bytes):
        obj: dict[bytes, Any] = {}
        for k, v in items:
            if not isinstance(k, bytes):
                if isinstance(k, int) and not isinstance(k, bool):
                    raise EncodeError("table has mixed array and object keys")
                raise EncodeError(f"unsupported table key type {type(k).__name__}")
            obj[k] = table_to_python(v, depth=depth + 1, max_depth=max_depth, empty=empty, expand=expand)
        return obj
    if isinstance(first, float):
        raise EncodeError("table has non-integer number keys")
    raise EncodeError(f"unsupported table key type {lua_type(first) or type(first).__name__}")
