"""Crash containment: a failing process never disturbs its siblings or its parent.

Everything runs on a host with ONE shard, so the failing processes, a healthy sibling
and the parent that spawned them all share one Lua state. The parent monitors each
child (no links), collects the EXIT events, checks that the sibling still answers,
and returns a report to the terminal process.
"""

from __future__ import annotations

INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
  - {name: parent, kind: process.lua, source: file://parent.lua, method: main, modules: [time]}
  - {name: steady, kind: process.lua, source: file://steady.lua, method: main}
  - {name: raiser, kind: process.lua, source: file://children.lua, method: raiser}
  - {name: returner, kind: process.lua, source: file://children.lua, method: returner}
  - {name: fault, kind: process.lua, source: file://children.lua, method: fault}
  - {name: task_error, kind: process.lua, source: file://children.lua, method: task_error}
  - {name: table_error, kind: process.lua, source: file://children.lua, method: table_error}
  - {name: deadlock, kind: process.lua, source: file://children.lua, method: deadlock}
  - {name: middle, kind: process.lua, source: file://children.lua, method: middle}
  - {name: top_level, kind: process.lua, source: file://top_level.lua, method: main}
  - {name: no_method, kind: process.lua, source: file://children.lua, method: absent}
"""

# fails while its chunk runs, before there is any main to call
TOP_LEVEL = """
local settings = { retries = 3 }
error("cannot load: retries=" .. settings.retries)
return { main = function() return 0 end }
"""

CHILDREN = """
-- every way a process can end badly

local function raiser(): integer
    error("raised on purpose")
end

local function returner(): (integer?, string?)
    return nil, "returned an error"
end

local function fault(): integer
    local config = nil
    return config.port
end

-- the main task waits on a channel; a spawned task fails meanwhile
local function task_error(): integer
    local never = channel.new()
    coroutine.spawn(function()
        error("failed inside coroutine.spawn")
    end)
    never:receive()
    return 0
end

local function table_error(): integer
    error({ code = 42 })
end

-- two tasks each waiting for the other: nothing can ever run again
local function deadlock(): integer
    local a, b = channel.new(), channel.new()
    coroutine.spawn(function()
        a:receive()
        b:send(1)
    end)
    b:receive()
    a:send(1)
    return 0
end

-- linked (without trap_links) to a raiser: dies with it
local function middle(): integer
    process.spawn_linked("t:raiser", "t:shared")
    process.inbox():receive()
    return 0
end

return {
    raiser = raiser, returner = returner, fault = fault, task_error = task_error,
    table_error = table_error, deadlock = deadlock, middle = middle,
}
"""

STEADY = """
-- a healthy sibling: answers every "ping" with the number of pings so far
local function main(): integer
    local pings = process.listen("ping", { message = true })
    local n = 0
    while true do
        local msg = pings:receive()
        n = n + 1
        process.send(msg:from(), "pong", n)
    end
end

return { main = main }
"""

PARENT = """
local time = require("time")

local CHILDREN = {
    "raiser", "returner", "fault", "task_error", "table_error", "middle", "top_level", "no_method",
}

-- an error raised with a table value has no agreed text; only its presence counts
local function describe(name: string, err): string
    if name == "table_error" then
        return "failed " .. tostring(err ~= nil)
    end
    return tostring(err)
end

local function main(): {string}
    local report = {}
    local events = process.events()
    local pongs = process.listen("pong")
    local steady = process.spawn("t:steady", "t:shared")
    process.send(steady, "ping")
    report[#report + 1] = "steady pong " .. pongs:receive()

    local name_of = {}
    for _, name in ipairs(CHILDREN) do
        local pid = process.spawn_monitored("t:" .. name, "t:shared")
        name_of[pid] = name
    end
    local stuck = process.spawn_monitored("t:deadlock", "t:shared")

    local exits = {}
    local deadline = time.after("10s")
    for _ = 1, #CHILDREN do
        local got = channel.select({ events:case_receive(), deadline:case_receive() })
        if got.channel ~= events then
            error("only " .. #exits .. " children exited: " .. table.concat(exits, ", "))
        end
        local ev = got.value
        if ev.kind ~= process.event.EXIT then
            error("unexpected event " .. tostring(ev.kind))
        end
        local name = name_of[ev.from]
        exits[#exits + 1] = name .. ": " .. describe(name, ev.result.error)
    end
    table.sort(exits)
    for _, line in ipairs(exits) do
        report[#report + 1] = line
    end

    -- the deadlocked process is still there, and blocks nobody
    local r = channel.select({ events:case_receive(), default = true })
    report[#report + 1] = "deadlock still running: " .. tostring(r.default == true)
    process.send(steady, "ping")
    report[#report + 1] = "steady pong " .. pongs:receive()

    process.terminate(stuck)
    local ev = events:receive()
    report[#report + 1] = "deadlock terminated: " .. tostring(ev.from == stuck and ev.result.error ~= nil)
    process.send(steady, "ping")
    report[#report + 1] = "steady pong " .. pongs:receive()
    report[#report + 1] = "parent alive"
    return report
end

return { main = main }
"""

MAIN = """
local io = require("io")

local function main(): integer
    local report, err = process.exec("t:parent", "t:shared")
    if not report then
        error("the parent failed: " .. tostring(err))
    end
    for _, line in ipairs(report) do
        io.print(line)
    end
    return 0
end

return { main = main }
"""


def test_failing_children_do_not_disturb_their_sibling_or_parent(project):
    p = project(
        {
            "_index.yaml": INDEX,
            "children.lua": CHILDREN,
            "top_level.lua": TOP_LEVEL,
            "steady.lua": STEADY,
            "parent.lua": PARENT,
            "main.lua": MAIN,
        }
    )
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == [
        "steady pong 1",
        "fault: t:fault:13: attempt to index a nil value (local 'config')",
        "middle: linked process failed",
        'no_method: method "absent" not found in module',
        "raiser: t:raiser:4: raised on purpose",
        "returner: returned an error",
        "table_error: failed true",
        "task_error: t:task_error:20: failed inside coroutine.spawn",
        "top_level: t:top_level:2: cannot load: retries=3",
        "deadlock still running: true",
        "steady pong 2",
        "deadlock terminated: true",
        "steady pong 3",
        "parent alive",
    ]


HOSTILE_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, time]}
  - {name: steady, kind: process.lua, source: file://steady.lua, method: main}
  - {name: child, kind: process.lua, source: file://hostile.lua, method: main}
"""

# main spawns the hostile child on the shared shard next to `steady`, reports how the
# child ended (or that it did not within a second), then pings `steady` twice
HOSTILE_MAIN = """
local io = require("io")
local time = require("time")

local function main(): integer
    local events = process.events()
    local pongs = process.listen("pong")
    local steady = process.spawn("t:steady", "t:shared")
    local child = process.spawn_monitored("t:child", "t:shared")

    local r = channel.select({ events:case_receive(), time.after("1s"):case_receive() })
    if r.channel == events then
        io.print("child ended, failed: " .. tostring(r.value.from == child and r.value.result.error ~= nil))
    else
        io.print("child still running")
        process.terminate(child)
    end
    for _ = 1, 2 do
        process.send(steady, "ping")
        local p = channel.select({ pongs:case_receive(), time.after("1s"):case_receive() })
        io.print(p.channel == pongs and ("steady pong " .. p.value) or "steady silent")
    end
    return 0
end

return { main = main }
"""


def hostile(project, child: str):
    files = {
        "_index.yaml": HOSTILE_INDEX,
        "main.lua": HOSTILE_MAIN,
        "steady.lua": STEADY,
        "hostile.lua": child,
    }
    return project(files).run("t:main")


def test_a_busy_loop_does_not_starve_its_shard(project):
    # the compiler plants preemption points in loops; the child is also terminated
    # while it spins
    r = hostile(
        project,
        """
        local function main(): integer
            local n = 0
            while true do
                n = n + 1
            end
        end

        return { main = main }
        """,
    )
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["child still running", "steady pong 1", "steady pong 2"]


def test_an_error_value_whose_tostring_raises_fails_only_its_process(project):
    r = hostile(
        project,
        """
        local function main(): integer
            error(setmetatable({}, { __tostring = function() error("tostring bomb") end }))
        end

        return { main = main }
        """,
    )
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["child ended, failed: true", "steady pong 1", "steady pong 2"]


def test_a_return_value_whose_metamethods_raise_stays_in_its_process(project):
    r = hostile(
        project,
        """
        local function bomb() error("metamethod bomb") end

        local function main()
            return setmetatable({}, { __len = bomb, __index = bomb, __pairs = bomb })
        end

        return { main = main }
        """,
    )
    assert (r.rc, r.err) == (0, "")
    # whether such a value fails the child is open; it must end and stay contained
    assert r.lines[0] in ("child ended, failed: true", "child ended, failed: false")
    assert r.lines[1:] == ["steady pong 1", "steady pong 2"]


SELECT_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
"""

SELECT_MAIN = """
local io = require("io")

local function main(): integer
    -- the reference skips values that are not cases (spec section 0, C9)
    local ch0 = channel.new(1)
    ch0:send("ready")
    local r = channel.select({ "not a case", 42, ch0:case_receive() })
    io.print("non-cases skipped: " .. tostring(r.channel == ch0 and r.value == "ready"))
    local d = channel.select({ "not a case", default = true })
    io.print("only non-cases with default: " .. tostring(d.default))
    local ch = channel.new(1)
    ch:close()
    local sent = pcall(ch.send, ch, 1)
    io.print("send on closed raised: " .. tostring(not sent))
    return 0
end

return { main = main }
"""


def test_select_skips_values_that_are_not_cases(project):
    r = project({"_index.yaml": SELECT_INDEX, "main.lua": SELECT_MAIN}).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["non-cases skipped: true", "only non-cases with default: true", "send on closed raised: true"]


MEMORY_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - name: shared
    kind: process.host
    host: {workers: 1, shards: 1, max_memory: "32MB", max_message_size: "1MB"}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, time]}
  - {name: steady, kind: process.lua, source: file://steady.lua, method: main}
  - {name: child, kind: process.lua, source: file://hostile.lua, method: main}
"""

GLUTTON = """
-- keeps every string it makes: the shard's memory limit stops it
local function main(): integer
    local kept = {}
    local i = 0
    while true do
        i = i + 1
        kept[i] = string.rep("x", 1000) .. i
    end
end

return { main = main }
"""


def test_a_process_over_the_memory_limit_fails_alone(project):
    files = {
        "_index.yaml": MEMORY_INDEX,
        "main.lua": HOSTILE_MAIN,
        "steady.lua": STEADY,
        "hostile.lua": GLUTTON,
    }
    r = project(files).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["child ended, failed: true", "steady pong 1", "steady pong 2"]


# the limit is the sending host's: the child sends from the limited host
BIG_SENDER = """
local function main(to: string): string
    local ok, err = process.send(to, "big", string.rep("y", 2 * 1024 * 1024))
    local small_ok, small_err = process.send(to, "big", string.rep("y", 1000))
    return "2 MB message: " .. tostring(ok) .. ", " .. tostring(err) .. " | "
        .. "1 KB message: " .. tostring(small_ok) .. ", " .. tostring(small_err)
end

return { main = main }
"""

BIG_MAIN = """
local io = require("io")

local function main(): integer
    local big = process.listen("big")
    io.print(tostring(process.exec("t:child", "t:shared", process.pid())))
    io.print("received " .. #big:receive() .. " bytes")
    return 0
end

return { main = main }
"""


def test_a_message_over_the_size_limit_is_refused_at_send(project):
    files = {
        "_index.yaml": MEMORY_INDEX,
        "main.lua": BIG_MAIN,
        "steady.lua": STEADY,
        "hostile.lua": BIG_SENDER,
    }
    r = project(files).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == [
        "2 MB message: nil, message exceeds the size limit of 1048576 bytes | 1 KB message: true, nil",
        "received 1000 bytes",
    ]
