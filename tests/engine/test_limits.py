"""Fairness and containment (issue 10), each through a real project run by `wippy`.

A busy loop shares its shard with ping-pong pairs that keep exchanging messages; a busy
process is terminated quickly; memory, recursion and message-size bombs fail only their
own process with the limit's error text; Ctrl-C stops a looping `-x` run with 130.
"""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from .conftest import Result, wippy_command

INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: one, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: small, kind: process.host, host: {workers: 1, shards: 1, max_memory: 48MB, max_message_size: 64KB}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, time]}
  - {name: spin, kind: process.lua, source: file://spin.lua, method: main}
  - {name: pair, kind: process.lua, source: file://pair.lua, method: main}
  - {name: echo, kind: process.lua, source: file://echo.lua, method: main}
  - {name: strbomb, kind: process.lua, source: file://strbomb.lua, method: main}
  - {name: tblbomb, kind: process.lua, source: file://tblbomb.lua, method: main}
  - {name: recbomb, kind: process.lua, source: file://recbomb.lua, method: main}
"""

FILES = {
    "spin.lua": "return {main = function() local x = 0 while true do x = x + 1 end end}",
    # a pinger that spawns its ponger (same shard) and reports how many round trips it made
    "pair.lua": """
        local function pong()
            local inbox = process.inbox()
            while true do
                local m = inbox:receive()
                process.send(m:from(), "pong", m:payload():data())
            end
        end
        return {main = function(parent, rounds)
            if parent == nil then return pong() end
            local partner = process.spawn("t:pair", "t:one")
            local inbox = process.inbox()
            for i = 1, rounds do
                process.send(partner, "ping", i)
                inbox:receive()
            end
            process.terminate(partner)
            process.send(parent, "pair done", rounds)
        end}
    """,
    "echo.lua": """
        return {main = function()
            local m = process.inbox():receive()
            process.send(m:from(), "echo", #m:payload():data())
        end}
    """,
    "strbomb.lua": 'return {main = function() return #string.rep("x", 256 * 1024 * 1024) end}',
    "tblbomb.lua": "return {main = function() local t = {} local i = 0 while true do i = i + 1 t[i] = {i} end end}",
    "recbomb.lua": "local function f(n) return f(n + 1) + 1 end return {main = function() return f(1) end}",
}


# a busy process in each loop form the compiler plants safepoints in
SPINS = {
    "while": FILES["spin.lua"],
    "numeric for": "return {main = function() local x = 0 for i = 1, math.huge do x = x + i end end}",
    "float for": "return {main = function() local x = 0 for f = 0.5, math.huge, 0.5 do x = x + f end end}",
    "repeat": "return {main = function() local x = 0 repeat x = x + 1 until x < 0 end}",
    "generic for": "return {main = function() local x = 0 for v in function() return 1 end do x = x + v end end}",
}


def run(project, main: str, index: str = INDEX, extra: dict[str, str] | None = None) -> Result:
    return project({"_index.yaml": index, **FILES, "main.lua": main, **(extra or {})}).run("t:main", timeout=60)


@pytest.mark.parametrize("spin", SPINS)
def test_ping_pong_pairs_keep_running_beside_a_busy_loop_on_their_shard(project, spin):
    main = """
    return {main = function()
        process.spawn("t:spin", "t:one")
        local inbox = process.inbox()
        for i = 1, 100 do process.spawn("t:pair", "t:one", process.pid(), 20) end
        local done = 0
        while done < 100 do
            local m = inbox:receive()
            if m:topic() == "pair done" then done = done + 1 end
        end
        io.print("pairs finished:", done)
        return 0
    end}
    """
    r = run(project, main, extra={"spin.lua": SPINS[spin]})
    assert (r.rc, r.out) == (0, "pairs finished:\t100\n"), r.err


@pytest.mark.parametrize("spin", SPINS)
def test_terminate_reaches_a_busy_process_within_100_ms(project, spin):
    main = """
    return {main = function()
        local events = process.events()
        local pid = process.spawn_monitored("t:spin", "t:one")
        time.sleep("50ms")
        local t0 = time.now()
        process.terminate(pid)
        local ev = events:receive()
        local ms = time.now():sub(t0):milliseconds()
        io.print(ev.kind, tostring(ev.result.error), ms < 100 and "fast" or ("slow " .. ms))
        return 0
    end}
    """
    r = run(project, main, extra={"spin.lua": SPINS[spin]})
    assert (r.rc, r.out) == (0, "pid.exit\tprocess terminated\tfast\n"), r.err


def test_bombs_fail_only_their_own_process_with_the_limit_error(project):
    main = """
    return {main = function()
        local events = process.events()
        local survivor = process.spawn("t:echo", "t:small")
        -- the recursion bomb runs where memory is not limited: the stack limit stops it
        for _, case in ipairs({{"t:strbomb", "t:small"}, {"t:tblbomb", "t:small"}, {"t:recbomb", "t:one"}}) do
            local id = case[1]
            process.spawn_monitored(id, case[2])
            local ev = events:receive()
            io.print(id, tostring(ev.result.error):gsub("^t:recbomb:%d+: ", ""))
        end
        process.send(survivor, "ping", "still alive")
        io.print("neighbour answered:", process.inbox():receive():payload():data())
        return 0
    end}
    """
    r = run(project, main)
    assert r.rc == 0, r.err
    assert r.out.splitlines() == [
        "t:strbomb\tnot enough memory\t0",
        "t:tblbomb\tnot enough memory\t0",
        "t:recbomb\tstack overflow\t1",
        "neighbour answered:\t11",
    ]


def test_a_message_over_the_size_limit_is_refused_at_send(project):
    main = """
    return {main = function()
        -- a process on the limited host sends to its neighbour: 64 KB is its limit
        local ok, err = process.exec("t:sender", "t:small")
        io.print(tostring(ok), tostring(err))
        return 0
    end}
    """
    sender = """
        return {main = function()
            local echo = process.spawn("t:echo", "t:small")
            local ok, err = process.send(echo, "big", string.rep("x", 100 * 1024))
            local small_ok = process.send(echo, "small", "fits")
            return tostring(ok) .. " | " .. err:kind() .. " | " .. err:message() .. " | " .. tostring(small_ok)
        end}
    """
    index = INDEX + "  - {name: sender, kind: process.lua, source: file://sender.lua, method: main}\n"
    r = run(project, main, index, {"sender.lua": sender})
    assert r.rc == 0, r.err
    assert r.out == ("nil | Invalid | message exceeds the size limit of 65536 bytes | true\tnil\n")


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_ctrl_c_stops_a_looping_exec_run_with_130_and_no_traceback(project):
    main = 'return {main = function() io.print("looping") io.flush() while true do end end}'
    app = project({"_index.yaml": INDEX, **FILES, "main.lua": main})
    proc = subprocess.Popen([*wippy_command(), "run", "-x", "t:main"], cwd=app.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "looping\n"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert "Traceback" not in err


def test_a_memory_limit_below_the_runtimes_own_needs_is_refused_at_boot(project):
    # shards make their Lua state when first used, so the limit is checked up front
    index = INDEX.replace("max_memory: 48MB", "max_memory: 1MB")
    r = project({"_index.yaml": index, "main.lua": "return {main = function() return 0 end}", **FILES}).run("t:main")
    assert r.rc == 2
    assert "t:small: host.max_memory must be at least 4MB, not '1MB'" in r.err
    assert "Traceback" not in r.err
