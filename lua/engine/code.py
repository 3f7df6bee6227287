"""Compiled Lua code of the registry's code entries, as the shards ask for it.

Every ``process.lua``, ``function.lua``, ``library.lua`` and ``workflow.lua`` entry is
compiled once (typed Lua -> Lua 5.4, through the compile cache) when it is added; a
shard then asks ``chunk_for_lua(entry_id)`` the first time one of its processes needs
the entry and keeps the loaded chunk for later spawns.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wippy.entry import Entry, resolve_ref
from wippy.lua.engine.convert import to_lua

CODE_KINDS = ("process.lua", "function.lua", "library.lua", "workflow.lua")
PROCESS_KINDS = ("process.lua",)


@dataclass
class CodeUnit:
    entry_id: str
    kind: str
    code: str
    method: str
    modules: list[str]
    imports: dict[str, str]
    path: str
    meta: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def source_path(entry: Entry) -> Path:
    src = entry.data.get("source") if isinstance(entry.data, dict) else None
    if not isinstance(src, str) or not src:
        raise ValueError("missing source")
    if src.startswith("file://"):
        src = src[len("file://"):]
    path = Path(src)
    if not path.is_absolute() and entry.origin is not None:
        path = Path(entry.origin.file).parent / path
    return path


def pool_limit(pool: Any) -> int:
    """How many calls of a function entry may run at once (per shard), from its `pool:`.

    static: `workers`, else `size`, else 8; lazy and adaptive: `max_size`, else 16;
    inline: 1 (calls are serialised); no `pool:` block: 100, the reference's default.
    """
    if not isinstance(pool, dict):
        return 100
    kind = pool.get("type") or ("static" if pool.get("workers") or pool.get("size") else "lazy")
    if kind == "inline":
        return 1
    if kind == "static":
        return max(1, int(pool.get("workers") or pool.get("size") or 8))
    return max(1, int(pool.get("max_size") or 16))


class CodeStore:
    def __init__(self, cache_dir: str | None = None, preempt: bool = True) -> None:
        self.units: dict[str, CodeUnit] = {}
        self._lock = threading.Lock()
        try:
            from wippy.lua.compiler import CompileCache

            self._cache: Any = CompileCache(cache_dir, preempt)
        except ImportError:  # the compiler is not there: plain Lua only
            self._cache = None

    def compile(self, source: str, chunkname: str) -> str:
        if self._cache is None:
            return source
        return self._cache.compile(source, chunkname).code

    def add(self, entry: Entry) -> CodeUnit:
        """Compile an entry's source; raises the compiler's syntax error on bad code."""
        src = entry.data.get("source") if isinstance(entry.data, dict) else None
        if isinstance(src, str) and src and not src.startswith("file://"):
            # inline source (entries created at run time through the registry module)
            path, text = Path(f"<{entry.id}>"), src
        else:
            path = source_path(entry)
            text = path.read_text(encoding="utf-8")
        code = self.compile(text, entry.id)
        data = entry.data if isinstance(entry.data, dict) else {}
        ns = entry.namespace
        imports = {alias: resolve_ref(ref, ns) for alias, ref in (data.get("imports") or {}).items()}
        unit = CodeUnit(entry.id, entry.kind, code, data.get("method") or "main", list(data.get("modules") or []),
                        imports, str(path), entry.meta, data)
        with self._lock:
            self.units[entry.id] = unit
        return unit

    def remove(self, entry_id: str) -> None:
        with self._lock:
            self.units.pop(entry_id, None)

    def is_process(self, entry_id: str) -> bool:
        unit = self.units.get(entry_id)
        return unit is not None and unit.kind in PROCESS_KINDS

    def chunk_for_lua(self, runtime: Any, entry_id_b: bytes) -> tuple:
        unit = self.units.get(entry_id_b.decode())
        if unit is None:
            return None, b"factory not found"
        return (unit.code.encode(), unit.entry_id.encode(), unit.method.encode(),
                to_lua(runtime, unit.modules), to_lua(runtime, unit.imports) if unit.imports else None,
                unit.kind.encode(), pool_limit(unit.data.get("pool")))
