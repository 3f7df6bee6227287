"""Many processes: 2,000 spawned over four shards, every one answers exactly once.

Two ways of spawning: from outside the host (the terminal process spawns onto
``t:procs``) and from inside it (a process on ``t:procs`` spawns its own children,
which the scheduler keeps near their spawner only up to a fair share per shard).
"""

from __future__ import annotations

INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: procs, kind: process.host, host: {workers: 2, shards: 4}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, time]}
  - {name: spawner, kind: process.lua, source: file://spawner.lua, method: main}
  - {name: replier, kind: process.lua, source: file://replier.lua, method: main}
"""

REPLIER = """
-- answers once with its index, its PID and a little work
local function main(i: integer, to: string): integer
    local digits = 0
    for c in string.gmatch(tostring(i * 7919), "%d") do
        digits = digits + tonumber(c)
    end
    process.send(to, "reply", { i = i, pid = process.pid(), digits = digits })
    return 0
end

return { main = main }
"""

COLLECT = """
-- spawns n repliers in waves and checks every answer; returns a summary line
local function collect(n: integer, wave: integer): string
    local replies = process.listen("reply")
    local me = process.pid()
    local pids: {string} = {}
    local distinct: {[string]: boolean} = {}
    local answered: {[integer]: boolean} = {}
    local spawned, ndistinct, nanswered, wrong, digits = 0, 0, 0, 0, 0
    for first = 1, n, wave do
        local last = math.min(first + wave - 1, n)
        for i = first, last do
            local pid = process.spawn("t:replier", "t:procs", i, me)
            if pid then
                spawned = spawned + 1
                pids[i] = pid
                if not distinct[pid] then
                    distinct[pid] = true
                    ndistinct = ndistinct + 1
                end
            end
        end
        for _ = first, last do
            local r = replies:receive()
            if answered[r.i] or r.pid ~= pids[r.i] then
                wrong = wrong + 1
            end
            answered[r.i] = true
            nanswered = nanswered + 1
            digits = digits + r.digits
        end
    end
    process.unlisten(replies)
    return string.format("%d spawned, %d distinct PIDs, %d answered, %d wrong, digit sum %d",
        spawned, ndistinct, nanswered, wrong, digits)
end
"""

SPAWNER = (
    COLLECT
    + """
local function main(n: integer, wave: integer): string
    return collect(n, wave)
end

return { main = main }
"""
)

MAIN = (
    COLLECT
    + """
local io = require("io")

local function main(): integer
    io.print("from outside: " .. collect(2000, 500))
    local inside, err = process.exec("t:spawner", "t:procs", 2000, 500)
    io.print("from inside: " .. tostring(inside or err))
    return 0
end

return { main = main }
"""
)


def digit_sum(n: int) -> int:
    return sum(sum(int(c) for c in str(i * 7919)) for i in range(1, n + 1))


def test_two_thousand_processes_each_answer_once(project):
    p = project({"_index.yaml": INDEX, "main.lua": MAIN, "spawner.lua": SPAWNER, "replier.lua": REPLIER})
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    summary = f"2000 spawned, 2000 distinct PIDs, 2000 answered, 0 wrong, digit sum {digit_sum(2000)}"
    assert r.lines == [f"from outside: {summary}", f"from inside: {summary}"]
