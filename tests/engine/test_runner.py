"""Main tasks start in the shard's runner coroutine (prelude `run_task`).

A process whose main function returns without yielding leaves the runner to the next
process of the shard; one that yields keeps it. The host here has one worker and one
shard, so every process below starts in the same runner one after the other.
"""

from __future__ import annotations

INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
  - {name: counter, kind: process.lua, source: file://procs.lua, method: counter}
  - {name: failing, kind: process.lua, source: file://procs.lua, method: failing}
  - {name: driver, kind: process.lua, source: file://procs.lua, method: driver}
  - {name: spy, kind: process.lua, source: file://procs.lua, method: spy}
  - {name: planter, kind: process.lua, source: file://procs.lua, method: planter}
  - {name: victim, kind: process.lua, source: file://procs.lua, method: victim}
"""

PROCS = """
-- reports how many arguments it got and what they were, then returns at once
local function counter(parent: string, ...): integer
    local parts = { tostring(select("#", ...)) }
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        parts[#parts + 1] = type(v) == "table" and ("{" .. table.concat(v, ",") .. "}") or tostring(v)
    end
    process.send(parent, "count", table.concat(parts, " "))
    return 0
end

local function failing(): integer
    error("failed on purpose")
end

-- spawns short-lived processes with 0-4 arguments, some failing in between, all on
-- this shard, and forwards what they report in order
local function driver(parent: string): integer
    local me = process.pid()
    local counts = process.listen("count")
    local runs = {
        {}, { 1 }, { "a", "b" }, { 1, nil, 3 }, { 1, 2, 3, 4 }, { { 5, 6 } }, { nil }, { true, 2.5 },
    }
    for i, args in ipairs(runs) do
        process.spawn("t:failing", "t:shared")
        process.spawn("t:counter", "t:shared", me, table.unpack(args, 1, i == 4 and 3 or (i == 7 and 1 or #args)))
        process.send(parent, "line", (counts:receive()))
    end
    -- a task of coroutine.spawn has a coroutine of its own, dead when it returns
    local co = coroutine.spawn(function() end)
    coroutine.yield()
    process.send(parent, "line", "spawned coroutine: " .. coroutine.status(co))
    process.send(parent, "line", "done")
    return 0
end

-- the planter hands the coroutine its main runs in to the spy (over a channel the two
-- share) and ends without yielding; the victim starts next on the same shard
local function planter(ch): integer
    ch:send(coroutine.running())
    return 0
end

local function victim(spy: string): integer
    local inbox = process.inbox()
    process.send(spy, "ready")
    local m = inbox:receive()
    process.send(spy, "got", type(m) == "table" and m:topic() or tostring(m))
    return 0
end

local function spy(parent: string): integer
    local ch = channel.new(1)
    process.spawn_monitored("t:planter", "t:shared", ch)
    process.events():receive()
    local co = ch:receive()
    local inbox = process.inbox()
    local victim = process.spawn("t:victim", "t:shared", process.pid())
    inbox:receive() -- "ready": the victim waits for a message now
    local resumed = coroutine.resume(co, "forged", true)
    process.send(victim, "real")
    local m = inbox:receive()
    process.send(parent, "line", "resumed: " .. tostring(resumed) .. "; the victim received: " .. m:payload():data())
    process.send(parent, "line", "done")
    return 0
end

return { counter = counter, failing = failing, driver = driver, planter = planter, victim = victim, spy = spy }
"""

MAIN = """
local io = require("io")

local function main(which: string): integer
    local lines = process.listen("line")
    process.spawn(which, "t:shared", process.pid())
    while true do
        local line = lines:receive()
        if line == "done" then return 0 end
        io.print(line)
    end
end

return { main = main }
"""


def run(project, which: str):
    p = project({"_index.yaml": INDEX, "procs.lua": PROCS, "main.lua": MAIN})
    return p.run("t:main", args=(which,))


def test_processes_that_share_the_runner_get_their_own_arguments(project):
    r = run(project, "t:driver")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == [
        "0",
        "1 1",
        "2 a b",
        "3 1 nil 3",
        "4 1 2 3 4",
        "1 {5,6}",
        "1 nil",
        "2 true 2.5",
        "spawned coroutine: dead",
    ]


def test_a_coroutine_handed_out_by_its_process_is_not_reused_for_another(project):
    # the planter's coroutine would otherwise be the one the victim starts and waits
    # in: resuming it would hand the victim a forged message
    r = run(project, "t:spy")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["resumed: false; the victim received: real"]
