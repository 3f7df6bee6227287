"""The Lua modules a shard can bind, found once per node and built once per shard."""

from __future__ import annotations

from typing import Any

from wippy.lua.engine.convert import to_lua
from wippy.lua.modules import LuaModule, discover


class ModuleStore:
    def __init__(self) -> None:
        self.specs: dict[str, LuaModule] = discover()

    def names(self) -> list[str]:
        return sorted(self.specs)

    def globals(self) -> list[str]:
        return [name for name, spec in self.specs.items() if spec.is_global]

    def for_lua(self, shard: Any, name_b: bytes) -> tuple:
        spec = self.specs.get(name_b.decode())
        if spec is None:
            return (None,)
        funcs = spec.python(shard) if spec.python is not None else {}
        table = shard.runtime.table()
        for k, v in funcs.items():
            table[k.encode()] = v if callable(v) else to_lua(shard.runtime, v)
        return spec.lua.encode(), table
