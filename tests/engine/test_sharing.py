"""Chunks instantiated once per shard and shared by their processes (lua/engine/sharing.py).

The analysis must be conservative: a chunk is shared only when no process could tell
its instantiation from a private one. The unit tests check the decision on compiled
chunks; the end-to-end tests run each kind of chunk-level state in its own chunk, on a
one-shard host, and check that every process still starts from a fresh copy.
"""

from __future__ import annotations

import lupa.lua54 as lupa
import pytest

from wippy.lua.compiler import compile_source
from wippy.lua.engine.sharing import can_share

from .test_isolation import STATE_INDEX, STATE_MAIN


def shareable(source: str) -> bool:
    rt = lupa.LuaRuntime(encoding=None)
    code = compile_source(source, "t.lua").code
    fn = rt.eval("load")(("return function(_ENV, ...) " + code + "\nend").encode(), b"=t", b"t", rt.table())
    return can_share(rt.eval("string.dump")(fn()))


SHARED = {
    "local functions": """
        local function helper(x) return x + 1 end
        local function main(a) return helper(a) end
        return { main = main }
    """,
    "modules and constants": """
        local time = require("time")
        local json = require "json"
        local LIMIT, NAME, RATE, ON = 10, "worker", 0.5, true
        local sleep = time.sleep
        local function main() sleep("1ms"); return json.encode({ LIMIT, NAME, RATE, ON }) end
        return { main = main }
    """,
    "function locals and loops": """
        local function main(n)
            local total, seen = 0, {}
            for i = 1, n do total = total + i; seen[i] = true end
            local function add(k) total = total + k end
            add(1)
            while total > 100 do total = total - 1 end
            return total
        end
        return { main = main }
    """,
    "a module table only returned": """
        local M = {}
        function M.main() return 1 end
        return M
    """,
    "a returned function": """
        return function(a) return a end
    """,
}

NOT_SHARED = {
    "a chunk-level counter": """
        local hits = 0
        local function main() hits = hits + 1; return hits end
        return { main = main }
    """,
    "a chunk-level table": """
        local state = { calls = 0 }
        local function main() state.calls = state.calls + 1; return state.calls end
        return { main = main }
    """,
    "a module table its functions use": """
        local M = {}
        function M.helper() return 1 end
        function M.main() return M.helper() end
        return M
    """,
    "a global written by a function": """
        local function main() marker = (marker or 0) + 1; return marker end
        return { main = main }
    """,
    "a global written at the top level": """
        function main() return 1 end
    """,
    "_G": """
        local function main() return rawget(_G, "x") end
        return { main = main }
    """,
    "_ENV as a value": """
        local function main() local e = _ENV; return e end
        return { main = main }
    """,
    "_G at the top level": """
        local g = _G
        local function main() return g end
        return { main = main }
    """,
    "a call at the top level": """
        local started = os.time()
        local function main() return started end
        return { main = main }
    """,
    "a type declaration": """
        type Point = { x: number, y: number }
        local function main() return Point end
        return { main = main }
    """,
    "a nested function writing a chunk-level local": """
        local n = 0
        local function main()
            local function bump() n = n + 1 end
            bump()
            return n
        end
        return { main = main }
    """,
    # the compiler's loop budget cell is the one table a shared chunk keeps: a table put
    # in its place is the chunk's own again
    "a table in the loop budget cell's place": """
        __wq = { 5 }
        local function main() for i = 1, 3 do end return __wq end
        return { main = main }
    """,
}


@pytest.mark.parametrize("name", SHARED)
def test_chunks_nobody_can_tell_apart_are_shared(name):
    assert shareable(SHARED[name])


@pytest.mark.parametrize("name", NOT_SHARED)
def test_chunks_with_state_of_their_own_are_not_shared(name):
    assert not shareable(NOT_SHARED[name])


def test_what_is_not_a_dump_is_not_shared():
    assert not can_share(b"")
    assert not can_share(b"\x1bLuaT\x00garbage")


def test_a_dump_read_as_another_layout_is_not_trusted():
    rt = lupa.LuaRuntime(encoding=None)
    code = compile_source(SHARED["local functions"], "t.lua").code
    fn = rt.eval("load")(("return function(_ENV, ...) " + code + "\nend").encode(), b"=t", b"t", rt.table())
    dump = rt.eval("string.dump")(fn())
    assert can_share(dump)
    assert not can_share(dump + b"\x00")  # bytes left over
    assert not can_share(dump[:-1])  # cut short


# the project of test_isolation's chunk-level state test: t:main runs t:counter three times
# on a one-worker, one-shard host (process.exec) and prints the three results
INDEX, MAIN = STATE_INDEX, STATE_MAIN

# each returns 1 when its process starts from a fresh instantiation
STATEFUL = {
    "counter": NOT_SHARED["a chunk-level counter"],
    "table": NOT_SHARED["a chunk-level table"],
    "global": NOT_SHARED["a global written by a function"],
    "nested": NOT_SHARED["a nested function writing a chunk-level local"],
    "module table": """
        local M = { n = 0 }
        function M.main() M.n = M.n + 1; return M.n end
        return M
    """,
    "_G": """
        local function main() rawset(_G, "n", (rawget(_G, "n") or 0) + 1); return rawget(_G, "n") end
        return { main = main }
    """,
    "_ENV": """
        local function main() _ENV.n = (n or 0) + 1; return n end
        return { main = main }
    """,
}


@pytest.mark.parametrize("name", STATEFUL)
def test_every_process_starts_from_a_fresh_chunk(project, name):
    p = project({"_index.yaml": INDEX, "main.lua": MAIN, "counter.lua": STATEFUL[name]})
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.out == "1 1 1\n"


def test_a_shared_chunk_serves_every_process(project):
    chunk = """
        local time = require("time")
        local BASE = 40
        local function add(a, b) return a + b end
        local function main(k) return add(BASE, k or 2) end
        return { main = main }
    """
    index = INDEX.replace("file://counter.lua, method: main}", "file://counter.lua, method: main, modules: [time]}")
    assert index != INDEX
    p = project({"_index.yaml": index, "main.lua": MAIN, "counter.lua": chunk})
    assert shareable(chunk)
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.out == "42 42 42\n"
