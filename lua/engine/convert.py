"""Converting values between Python and a shard's Lua runtime.

Shards run lupa with ``encoding=None`` so that binary Lua strings survive the trip:
Lua strings arrive in Python as ``bytes`` and Python ``str`` must be encoded before it
goes back. These two functions are the one place where that rule lives.
"""

from __future__ import annotations

from typing import Any

import lupa.lua54 as lupa

_lua_type = lupa.lua_type


def from_lua(value: Any, *, text: bool = True, _depth: int = 0) -> Any:
    """Deep-convert a Lua value to plain Python data.

    Tables whose keys are exactly 1..n become lists (an empty table becomes an empty
    dict); other tables become dicts. Strings become ``str`` (invalid UTF-8 kept via
    ``surrogateescape``) unless ``text`` is false.
    """
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape") if text else value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if _depth > 200:
        raise ValueError("nesting too deep")
    kind = _lua_type(value)
    if kind == "table":
        items = list(value.items())
        n = len(items)
        if n and all(isinstance(k, int) and not isinstance(k, bool) for k, _ in items):
            keys = sorted(k for k, _ in items)
            if keys[0] == 1 and keys[-1] == n:
                out = [None] * n
                for k, v in items:
                    out[k - 1] = from_lua(v, text=text, _depth=_depth + 1)
                return out
        result = {}
        for k, v in items:
            key = from_lua(k, text=True, _depth=_depth + 1)
            result[key] = from_lua(v, text=text, _depth=_depth + 1)
        return result
    return value


def to_lua(runtime: Any, value: Any) -> Any:
    """Deep-convert plain Python data into Lua values of ``runtime``.

    ``str`` becomes a Lua string (UTF-8), dicts become tables, lists and tuples become
    1-based array tables. Anything else (bytes, numbers, booleans, None, Lua objects)
    passes unchanged.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, dict):
        table = runtime.table()
        for k, v in value.items():
            table[to_lua(runtime, k)] = to_lua(runtime, v)
        return table
    if isinstance(value, (list, tuple)):
        table = runtime.table()
        for i, v in enumerate(value, 1):
            table[i] = to_lua(runtime, v)
        return table
    return value
