"""The Lua modules a shard can bind, found once per node and built once per shard."""

from __future__ import annotations

from typing import Any

from wippy.lua.engine.convert import to_lua
from wippy.lua.modules import LuaModule, index, load


class ModuleStore:
    """Module name -> its LuaModule, imported the first time a shard binds it."""

    def __init__(self) -> None:
        self._index = index()
        self._specs: dict[str, LuaModule] = {}

    def names(self) -> list[str]:
        return sorted(self._index)

    def globals(self) -> list[str]:
        return [name for name, (_, is_global) in self._index.items() if is_global]

    def spec(self, name: str) -> LuaModule | None:
        spec = self._specs.get(name)
        if spec is None and name in self._index:
            spec = self._specs[name] = load(self._index[name][0])
        return spec

    def for_lua(self, shard: Any, name_b: bytes) -> tuple:
        spec = self.spec(name_b.decode())
        if spec is None:
            return (None,)
        funcs = spec.python(shard) if spec.python is not None else {}
        table = shard.runtime.table()
        for k, v in funcs.items():
            table[k.encode()] = v if callable(v) else to_lua(shard.runtime, v)
        return spec.lua.encode(), table
