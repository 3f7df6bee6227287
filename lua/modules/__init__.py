"""Lua modules: the surface a Wippy script reaches with `require` (or as a global).

A module is one Python file in this package that defines ``MODULE = LuaModule(...)``:

* ``name``      the name scripts use (``require("json")``, listed in an entry's ``modules:``).
* ``lua``       Lua source of the module, evaluated ONCE PER SHARD. It is a chunk that
                receives ``(py, rt)`` as varargs (``local py, rt = ...``) and returns the
                module table. The engine wraps the table in a read-only proxy.
* ``python``    optional factory ``python(shard) -> dict[str, callable]``: the Python
                functions handed to the Lua source as ``py``. They run synchronously on
                the shard's worker thread, so they must not block for long.
* ``is_global`` bound in every process without ``require`` (``errors``, ``payload``...).

Values crossing into Python arrive as lupa converts them with ``encoding=None``: Lua
strings are ``bytes``, numbers are ``int``/``float``, tables are ``LuaTable`` objects.
Use :mod:`wippy.lua.engine.convert` (``from_lua`` / ``to_lua``) to turn tables into
Python data and back; a Python ``str`` or ``dict`` returned as-is becomes opaque
userdata in Lua, so always convert.

The ``rt`` table gives the Lua source the engine's internals:

* ``rt.err(kind, message [, details])`` a new error object (kinds: ``errors.INVALID``...)
* ``rt.yield(cmd, ...)``  suspend the calling task on an external command and return
                          its completion values (usually ``value, err``)
* ``rt.tostring(v)``      tostring with the reference's number formatting
* ``rt.readonly(t)``      a read-only proxy of ``t``
* ``rt.pid()``            PID string of the running process
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LuaModule:
    name: str
    lua: str
    python: Callable[[Any], dict[str, Callable[..., Any]]] | None = None
    is_global: bool = False


_DECLARATION = re.compile(r'^MODULE = LuaModule\(name="([\w.]+)"(.*)$', re.M)


def index() -> dict[str, tuple[str, bool]]:
    """Module name -> (Python module path, is_global), read from the sources without
    importing them: a run imports only the modules its entries list (startup time)."""
    found: dict[str, tuple[str, bool]] = {}
    for info in pkgutil.iter_modules(__path__):
        spec = importlib.util.find_spec(f"{__name__}.{info.name}")
        if spec is None or spec.origin is None:
            continue
        with open(spec.origin, encoding="utf-8") as source:
            for match in _DECLARATION.finditer(source.read()):
                found[match.group(1)] = (f"{__name__}.{info.name}", "is_global=True" in match.group(2))
    return found


def load(module_path: str) -> LuaModule:
    spec = getattr(importlib.import_module(module_path), "MODULE", None)
    if not isinstance(spec, LuaModule):
        raise ImportError(f"{module_path} defines no MODULE")
    return spec


def discover() -> dict[str, LuaModule]:
    """Import every module file of this package and return its modules by name."""
    found: dict[str, LuaModule] = {}
    for info in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(mod, "MODULE", None)
        if isinstance(spec, LuaModule):
            found[spec.name] = spec
    return found
