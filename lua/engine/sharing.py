"""Which process chunks may be instantiated once per shard and shared by its processes.

A process entry's chunk is compiled as ``function(_ENV, ...) <code> end`` and normally run
once per process with a private environment: every process gets its own closures, the
upvalues they capture and an environment table (about 0.9 KiB and 20 allocations for a
chunk of eight local functions). When nothing a process can do is able to tell those
copies apart, one instantiation serves every process of the entry on that shard.

That is decided on the chunk's Lua 5.4 bytecode (``string.dump`` of the compiled
function), so it sees exactly what Lua will run. A chunk is shared only when

* its top level only declares values that cannot change: constants, functions,
  ``require("name")`` results and reads of globals (never ``_G``); a table it builds may
  only be returned (``return { main = main }``) and is never captured by a function;
* no function assigns a global, reads ``_G`` or takes ``_ENV`` as a value (so the shared
  environment is never written and never escapes), and no function assigns a
  top-level local or a field of one (module-level state would be shared).

The one table a shared chunk may keep is the loop budget cell of its prologue (``local
__wb, __wm, __wq, __wfor = 1000, __wm, { 0 }, __wfor``, lua/compiler/parser.py): only
compiled loops count iterations in it, so processes sharing it share a count of loop
iterations between two safepoints and nothing else.

Anything else (a call other than ``require`` at the top level, type declarations,
imports, a top-level table that functions use) keeps the per-process instantiation.
The check is conservative: an unknown instruction at the top level means "not shared".
"""

from __future__ import annotations

import functools
import struct

# Lua 5.4 opcodes (lopcodes.h)
MOVE, LOADI, LOADF, LOADK, LOADKX, LOADFALSE, LFALSESKIP, LOADTRUE, LOADNIL = range(9)
GETUPVAL, SETUPVAL, GETTABUP, GETTABLE, GETI, GETFIELD = range(9, 15)
SETTABUP, SETTABLE, SETI, SETFIELD, NEWTABLE = range(15, 20)
CALL, RETURN, RETURN0, RETURN1 = 68, 70, 71, 72
SETLIST, CLOSURE, VARARGPREP, EXTRAARG = 78, 79, 81, 82

_TOP_PLAIN = frozenset((LOADI, LOADF, LOADK, LOADKX, LOADFALSE, LOADTRUE, LOADNIL, CLOSURE,
                        VARARGPREP, EXTRAARG, GETI))
_TABLE_WRITES = frozenset((SETTABLE, SETI, SETFIELD, SETLIST))


class _Proto:
    __slots__ = ("code", "consts", "upvals", "protos")


class _Reader:
    """Reads a dump made by this Lua (string.dump: native sizes, 8-byte integers/floats)."""

    def __init__(self, data: bytes) -> None:
        self.d = data
        self.i = 0

    def byte(self) -> int:
        b = self.d[self.i]
        self.i += 1
        return b

    def size(self) -> int:
        x = 0
        while True:
            b = self.byte()
            x = (x << 7) | (b & 0x7F)
            if b & 0x80:
                return x

    def string(self) -> bytes | None:
        n = self.size()
        if n == 0:
            return None
        s = self.d[self.i:self.i + n - 1]
        self.i += n - 1
        return s

    def function(self) -> _Proto:
        p = _Proto()
        self.string()  # source
        self.size()  # linedefined
        self.size()  # lastlinedefined
        self.i += 3  # numparams, is_vararg, maxstacksize
        n = self.size()
        p.code = struct.unpack_from(f"<{n}I", self.d, self.i)
        self.i += 4 * n
        consts: list = []
        for _ in range(self.size()):
            t = self.byte()
            if t in (3, 19):  # integer, float
                self.i += 8
                consts.append(None)
            elif t in (4, 20):  # short, long string
                consts.append(self.string())
            else:  # nil, false, true
                consts.append(None)
        p.consts = consts
        p.upvals = []
        for _ in range(self.size()):
            instack, idx = self.byte(), self.byte()
            self.i += 1  # kind
            p.upvals.append((instack, idx))
        p.protos = [self.function() for _ in range(self.size())]
        n = self.size()  # lineinfo
        self.i += n
        for _ in range(self.size()):  # abslineinfo
            self.size()
            self.size()
        for _ in range(self.size()):  # locvars
            self.string()
            self.size()
            self.size()
        for _ in range(self.size()):  # upvalue names
            self.string()
        return p


# signature, version 5.4, official format, LUAC_DATA, sizes of Instruction, lua_Integer
# and lua_Number (the dump's own integer and float checks follow)
_HEADER = b"\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08"


def _load(dump: bytes) -> _Proto:
    if not dump.startswith(_HEADER):
        raise ValueError("not a dump of this Lua 5.4")
    r = _Reader(dump)
    r.i = len(_HEADER) + 8 + 8  # LUAC_INT, LUAC_NUM
    r.byte()  # number of upvalues of the main function
    top = r.function()
    if r.i != len(dump):  # read as anything else than exactly this format: do not trust it
        raise ValueError("unexpected dump layout")
    return top


def _fields(i: int) -> tuple[int, int, int, int]:
    return i & 0x7F, (i >> 7) & 0xFF, (i >> 16) & 0xFF, (i >> 24) & 0xFF


def _budget_cell_pc(top: _Proto) -> int | None:
    """Where the prologue builds the loop budget cell: its NEWTABLE, the first of the chunk,
    right after ``__wm`` is read into the register below it."""
    code = top.code
    for pc, ins in enumerate(code):
        op, a = _fields(ins)[:2]
        if op == NEWTABLE:
            if pc == 0:
                return None
            op0, a0, b0, c0 = _fields(code[pc - 1])
            ok = op0 == GETFIELD and a0 == a - 1 and b0 == 0 and top.consts[c0] == b"__wm"
            return pc if ok else None
    return None


def _top_level_ok(top: _Proto) -> bool:
    """The wrapper's own code (the chunk's top level): register 0 is the environment."""
    captured = {idx for p in top.protos for instack, idx in p.upvals if instack}
    fresh: set[int] = set()  # registers holding a table built here
    tables: set[int] = set()  # registers that ever held one (but the budget cell)
    code = top.code
    cell_pc = _budget_cell_pc(top)
    for pc, ins in enumerate(code):
        op, a, b, c = _fields(ins)
        if op in _TOP_PLAIN:
            fresh.discard(a)
        elif op == MOVE:
            if b == 0:
                return False  # the environment as a value
            if b in fresh:
                fresh.add(a)
                tables.add(a)
            else:
                fresh.discard(a)
        elif op == GETFIELD:
            if b == 0 and top.consts[c] in (b"_G", b"_ENV"):
                return False
            fresh.discard(a)
        elif op == NEWTABLE:
            fresh.add(a)
            if pc != cell_pc:
                tables.add(a)
        elif op in _TABLE_WRITES:
            if a == 0 or a not in fresh:
                return False
        elif op == CALL:
            # only `require("name")`: GETFIELD a 0 "require"; LOADK a+1 "name"; CALL a 2 _
            if b != 2 or pc < 2:
                return False
            op1, a1, b1, c1 = _fields(code[pc - 2])
            op2, a2 = _fields(code[pc - 1])[:2]
            if not (op1 == GETFIELD and a1 == a and b1 == 0 and top.consts[c1] == b"require"
                    and op2 == LOADK and a2 == a + 1):
                return False
            fresh.discard(a)
        elif op in (RETURN, RETURN1):
            if a == 0:
                return False
        elif op == RETURN0:
            pass
        else:
            return False
    return not tables & captured


def _functions_ok(proto: _Proto, origins: list[int | None]) -> bool:
    """``origins[k]``: the top-level register upvalue k of ``proto`` refers to (0 is the
    environment), or None when it is a local of some function (per call, not shared)."""
    for ins in proto.code:
        op, a, b, c = _fields(ins)
        if op == SETUPVAL:
            if origins[b] is not None:
                return False
        elif op == GETUPVAL:
            if origins[b] == 0:
                return False
        elif op == SETTABUP:
            if origins[a] is not None:
                return False
        elif op == GETTABUP:
            if origins[b] == 0 and proto.consts[c] in (b"_G", b"_ENV"):
                return False
    for child in proto.protos:
        child_origins = [None if instack else origins[idx] for instack, idx in child.upvals]
        if not _functions_ok(child, child_origins):
            return False
    return True


@functools.lru_cache(maxsize=256)
def can_share(dump: bytes) -> bool:
    """Whether the chunk dumped in ``dump`` (the compiled ``function(_ENV, ...)`` wrapper)
    may be instantiated once and shared by every process of its entry on a shard."""
    try:
        top = _load(dump)
    except (ValueError, IndexError, struct.error):
        return False
    if not _top_level_ok(top):
        return False
    for child in top.protos:
        origins: list[int | None] = []
        for instack, idx in child.upvals:
            if not instack:
                return False  # an upvalue of the wrapper itself: unknown
            origins.append(idx)
        if not _functions_ok(child, origins):
            return False
    return True
