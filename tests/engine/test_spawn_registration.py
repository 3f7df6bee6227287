"""Processes a shard spawns on its own host get PIDs without a call into Python and are
registered with the node in batches (the prelude's `REG`). Whatever leaves the shard
must still find them: a PID sent to another host, a monitor, the node's process list.
"""

from __future__ import annotations

import threading

import pytest

from wippy.node import ExitResult, Node
from wippy.pid import PidGen

from .inprocess import host_node

INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: a, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: b, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: pool, kind: process.host, host: {workers: 2, shards: 2}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, system]}
  - {name: spawner, kind: process.lua, source: file://spawner.lua, method: main}
  - {name: relay, kind: process.lua, source: file://relay.lua, method: main}
  - {name: child, kind: process.lua, source: file://child.lua, method: main}
"""

# spawns a child on its own host and hands the child's PID to a process on another host
# at once, then stays busy: the child is known to the node only if handing it over
# registered it first
SPAWNER = """
local function main(relay: string, report: string): integer
    local child = process.spawn("t:child", "t:a", report)
    process.send(relay, "pid", child)
    local t0 = os.clock()
    while os.clock() - t0 < 0.3 do end
    return 0
end
return { main = main }
"""

RELAY = """
local function main(report: string): integer
    local inbox = process.inbox()
    local m = inbox:receive()
    local ok, err = process.send(m:payload():data(), "hi", "from relay")
    process.send(report, "relay", ok and "sent" or tostring(err))
    return 0
end
return { main = main }
"""

CHILD = """
local function main(report: string): integer
    local inbox = process.inbox()
    local m = inbox:receive()
    process.send(report, "child", m:topic() .. " " .. m:payload():data())
    inbox:receive()
    return 0
end
return { main = main }
"""

MAIN_HANDOVER = """
local io = require("io")
local function main(): integer
    local inbox = process.inbox()
    local relay = process.spawn("t:relay", "t:b", process.pid())
    process.spawn("t:spawner", "t:a", relay, process.pid())
    for _ = 1, 2 do
        local m = inbox:receive()
        io.print(m:topic() .. ": " .. m:payload():data())
        if m:payload():data() ~= "sent" and m:topic() == "relay" then return 1 end
    end
    return 0
end
return { main = main }
"""


def sources(main: str, spawner: str, child: str, index: str = INDEX) -> dict[str, str]:
    return {"_index.yaml": index, "main.lua": main, "spawner.lua": spawner, "relay.lua": RELAY,
            "child.lua": child}


def test_a_pid_handed_to_another_host_at_once_is_addressable(project):
    r = project(sources(MAIN_HANDOVER, SPAWNER, CHILD)).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["relay: sent", "child: hi from relay"]


# a coordinator on a two-shard host spawns many children (most on its own shard, some
# placed on the other) while the terminal spawns more from outside; every PID is unique
COORDINATOR = """
local function main(report: string, n: integer): integer
    for i = 1, n do process.spawn("t:child", "t:pool", report) end
    return 0
end
return { main = main }
"""

ECHO_CHILD = """
local function main(report: string): integer
    process.send(report, "pid", process.pid())
    return 0
end
return { main = main }
"""

MAIN_UNIQUE = """
local io = require("io")
local function main(): integer
    local inbox = process.inbox()
    local me = process.pid()
    process.spawn("t:spawner", "t:pool", me, 3000)
    for _ = 1, 100 do process.spawn("t:child", "t:pool", me) end
    local seen, distinct, shaped = {}, 0, 0
    for _ = 1, 3100 do
        local pid = inbox:receive():payload():data()
        if not seen[pid] then distinct = distinct + 1; seen[pid] = true end
        if string.match(pid, "^{t:pool|0x%x%x%x%x%x+}$") then shaped = shaped + 1 end
    end
    io.print("distinct " .. distinct .. ", shaped " .. shaped)
    return 0
end
return { main = main }
"""


def test_pids_stay_unique_across_shards_and_spawns_from_outside(project):
    r = project(sources(MAIN_UNIQUE, COORDINATOR, ECHO_CHILD)).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["distinct 3100, shaped 3100"]


# the node's view of a host lists children spawned a moment ago, and a monitor set on
# one right away gets its EXIT
LISTER = """
local system = require("system")
local function main(report: string): integer
    local kids = {}
    for i = 1, 5 do kids[i] = process.spawn("t:child", "t:a", report) end
    local listed = system.hosts.processes("t:a")
    local found = 0
    for _, item in ipairs(listed) do
        for _, k in ipairs(kids) do if item.pid == k then found = found + 1 end end
    end
    local events = process.events()
    process.monitor(kids[1])
    process.send(kids[1], "go", "x")
    process.send(kids[1], "stop", "x")
    local ev = events:receive()
    process.send(report, "lister", "listed " .. found .. ", exit of first " .. tostring(ev.from == kids[1]))
    return 0
end
return { main = main }
"""

MAIN_LIST = """
local io = require("io")
local function main(): integer
    local inbox = process.inbox()
    process.spawn("t:spawner", "t:a", process.pid())
    while true do
        local m = inbox:receive()
        if m:topic() == "lister" then io.print(m:payload():data()); return 0 end
    end
end
return { main = main }
"""


def test_the_node_lists_and_watches_children_spawned_a_moment_ago(project):
    index = INDEX.replace("modules: [io, system]}", "modules: [io]}").replace(
        "source: file://spawner.lua, method: main}", "source: file://spawner.lua, method: main, modules: [system]}")
    r = project(sources(MAIN_LIST, LISTER, CHILD, index)).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["listed 5, exit of first true"]


# spawning under a name already taken returns that process; it must not start the
# entry again under the same PID (it used to, with the second call's arguments, on a
# shard of another host)
NAMED_CHILD = """
local function main(report: string, tag: string): integer
    local inbox = process.inbox()
    while true do
        inbox:receive()
        process.send(report, "tag", tag)
    end
end
return { main = main }
"""

MAIN_NAMED = """
local io = require("io")
local time = require("time")
local function main(): integer
    local me = process.pid()
    local inbox = process.inbox()
    local sp = process.with_options({}):with_name("svc")
    local a = sp:spawn("t:child", "t:b", me, "first")
    local b = sp:spawn("t:child", "t:b", me, "second")
    process.send(b, "who")
    local got = {}
    while true do
        local r = channel.select({ inbox:case_receive(), time.after("300ms"):case_receive() })
        if r.channel ~= inbox then break end
        got[#got + 1] = r.value:payload():data()
    end
    io.print(tostring(a == b) .. " " .. table.concat(got, ","))
    return 0
end
return { main = main }
"""


def test_a_spawn_under_a_taken_name_returns_the_running_process(project):
    index = INDEX.replace("modules: [io, system]}", "modules: [io, time]}")
    r = project(sources(MAIN_NAMED, COORDINATOR, NAMED_CHILD, index)).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["true first"]


# children that have started are registered while their shard stays busy (after a few
# batches), not only when it goes idle: a process on another host sees them listed
BUSY_SPAWNER = """
local function main(report: string): integer
    for i = 1, 5 do process.spawn("t:child", "t:a", report) end
    process.send(report, "spawned", "5")
    local t0 = os.clock()
    while os.clock() - t0 < 1.5 do end
    return 0
end
return { main = main }
"""

MAIN_BUSY = """
local io = require("io")
local system = require("system")
local time = require("time")
local function main(): integer
    local inbox = process.inbox()
    process.spawn("t:spawner", "t:a", process.pid())
    inbox:receive()
    local listed = 0
    for _ = 1, 100 do
        listed = 0
        for _, item in ipairs(system.hosts.processes("t:a")) do
            if item.source == "t:child" then listed = listed + 1 end
        end
        if listed == 5 then break end
        time.sleep("10ms")
    end
    io.print("listed while the spawner runs: " .. listed)
    return 0
end
return { main = main }
"""


def test_started_children_of_a_busy_shard_are_registered(project):
    index = INDEX.replace("modules: [io, system]}", "modules: [io, system, time]}")
    r = project(sources(MAIN_BUSY, BUSY_SPAWNER, CHILD, index)).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["listed while the spawner runs: 5"]


SPAWN_MANY = """
local function main(count)
    local pids = {}
    for i = 1, count do pids[i] = process.spawn("t:idle", "t:a") end
    return table.concat(pids, " ")
end
return { main = main }
"""


@pytest.mark.parametrize("start", [0xFFF0, 0xFFFF0])
def test_pids_a_shard_numbers_itself_read_as_the_node_writes_them(start: int) -> None:
    # the shard writes the PIDs it takes from its block (REG.take) without string.format:
    # across the boundaries of its pieces they must read exactly as PidGen's `0x` and at
    # least five hex digits
    sources = {"t:spawner": SPAWN_MANY, "t:idle": "return { main = function() end }"}
    node, sched = host_node("t:a", sources, Node(pidgen=PidGen(start=start)))
    sched.start()
    try:
        box: list[ExitResult] = []
        done = threading.Event()
        node.spawn("t:spawner", "t:a", [40], watcher=lambda result: (box.append(result), done.set()))
        assert done.wait(30)
    finally:
        node.stop()
    assert box[0].ok, box[0].error
    pids = box[0].value.decode().split()
    numbers = [int(pid[len("{t:a|0x") : -1], 16) for pid in pids]
    assert numbers == list(range(numbers[0], numbers[0] + 40))
    assert pids == [f"{{t:a|0x{n:05x}}}" for n in numbers]
    assert numbers[0] < start + 0x10 <= numbers[-1]  # the block crossed the boundary
