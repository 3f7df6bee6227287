"""Isolation between processes that share one Lua state.

The attacked host has one worker and ONE shard, so the attacker and the victim run
in the same Lua state, one after the other (``process.exec``). The attacker tries
every way it has to change what other processes see: assignment, ``rawset``,
``setmetatable``, ``getmetatable(...).__index`` tricks on the standard libraries,
a module table (json), nested tables of the ``process`` global, and globals. The
victim then checks that nothing changed. The terminal process (another host, another
Lua state) checks too.
"""

from __future__ import annotations

INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, json]}
  - {name: attacker, kind: process.lua, source: file://attacker.lua, method: main, modules: [json]}
  - {name: victim, kind: process.lua, source: file://victim.lua, method: main, modules: [json]}
"""

# each attack runs under pcall; the attacker reports which ones raised
ATTACKER = """
local json = require("json")

local evil = function() return "pwned" end

local ATTACKS = {
    { "string assign", function() string.upper = evil end },
    { "string rawset", function() rawset(string, "upper", evil) end },
    { "string setmetatable", function() setmetatable(string, { __index = { upper = evil } }) end },
    { "string getmetatable", function() getmetatable(string).__index = { upper = evil } end },
    { "string new key", function() string.shout = evil end },
    { "string each key", function() for k in pairs(string) do rawset(string, k, evil) end end },
    { "strings' metatable", function() getmetatable("").__index = { upper = evil } end },
    { "strings' __index", function() getmetatable("").__index.upper = evil end },
    { "table assign", function() table.insert = evil end },
    { "table rawset", function() rawset(table, "concat", evil) end },
    { "math assign", function() math.pi = 3 end },
    { "math rawset", function() rawset(math, "floor", evil) end },
    { "math setmetatable", function() setmetatable(math, { __index = evil }) end },
    { "os assign", function() os.time = evil end },
    { "os rawset", function() rawset(os, "clock", evil) end },
    { "json assign", function() json.encode = evil end },
    { "json rawset", function() rawset(json, "encode", evil) end },
    { "json setmetatable", function() setmetatable(json, { __index = { decode = evil } }) end },
    { "json getmetatable", function() getmetatable(json).__index = { encode = evil } end },
    { "process assign", function() process.send = evil end },
    { "channel assign", function() channel.new = evil end },
    { "coroutine assign", function() coroutine.spawn = evil end },
}

local function main(): {string}
    local raised = {}
    for _, attack in ipairs(ATTACKS) do
        local ok = pcall(attack[2])
        raised[#raised + 1] = attack[1] .. ": " .. (ok and "not refused" or "refused")
    end
    -- plain globals are allowed, but they are this process's own
    secret = "attacker"
    _G.secret2 = "attacker"
    rawset(_G, "secret3", "attacker")
    _ENV.secret4 = "attacker"
    -- a metatable on its own globals table (allowed or not) must stay its own
    pcall(setmetatable, _G, { __index = function() return "leak" end })
    return raised
end

return { main = main }
"""

VICTIM = """
local json = require("json")

local function main(): string
    local seen = {
        string.upper("abc"),
        ("abc"):upper(),
        tostring(string.shout),
        table.concat({ "x", "y" }, "+"),
        tostring(math.pi),
        tostring(math.floor(2.5)),
        type(os.time()),
        type(os.clock()),
        json.encode({ 1, 2 }),
        type(json.decode("[1]")),
        type(process.send),
        type(channel.new),
        type(coroutine.spawn),
        tostring(secret),
        tostring(secret2),
        tostring(secret3),
        tostring(secret4),
        tostring(undefined_global),
    }
    return table.concat(seen, " ")
end

return { main = main }
"""

MAIN = """
local io = require("io")

local function victim(label: string)
    local seen, err = process.exec("t:victim", "t:shared")
    io.print(label .. ": " .. tostring(seen or err))
end

local function main(): integer
    victim("before")
    local raised, err = process.exec("t:attacker", "t:shared")
    if not raised then
        error("the attacker failed: " .. tostring(err))
    end
    for _, line in ipairs(raised) do
        io.print(line)
    end
    victim("after")
    victim("again")
    io.print("terminal: " .. string.upper("abc") .. " " .. tostring(math.pi) .. " " .. tostring(secret))
    return 0
end

return { main = main }
"""

CLEAN = "ABC ABC nil x+y 3.1415926535898 2 number number [1,2] table function function function nil nil nil nil nil"


def test_library_module_and_global_attacks_do_not_reach_another_process(project):
    p = project({"_index.yaml": INDEX, "attacker.lua": ATTACKER, "victim.lua": VICTIM, "main.lua": MAIN})
    r = p.run("t:main")
    assert r.err == ""
    assert r.rc == 0
    names = [line.split(": ")[0] for line in ATTACKER.splitlines() if line.strip().startswith('{ "')]
    names = [n.strip().removeprefix('{ "').split('",')[0] for n in names]
    assert len(names) == 22
    assert r.lines == [
        f"before: {CLEAN}",
        *[f"{name}: refused" for name in names],
        f"after: {CLEAN}",
        f"again: {CLEAN}",
        "terminal: ABC 3.1415926535898 nil",
    ]


NESTED_ATTACKER = """
local function main(): integer
    pcall(function() process.event.EXIT = "hijacked" end)
    pcall(function() process.registry.lookup = function() return "{fake|pid}" end end)
    pcall(function() rawset(process.registry, "register", function() return true end) end)
    return 0
end

return { main = main }
"""

NESTED_VICTIM = """
local function main(): string
    return tostring(process.event.EXIT) .. " " .. tostring(process.registry.lookup("nobody"))
        .. " " .. tostring(process.registry.register("victim"))
end

return { main = main }
"""

NESTED_MAIN = """
local io = require("io")

local function main(): integer
    io.print("before: " .. tostring(process.exec("t:victim", "t:shared")))
    process.exec("t:attacker", "t:shared")
    io.print("after: " .. tostring(process.exec("t:victim", "t:shared")))
    return 0
end

return { main = main }
"""


def test_nested_tables_of_the_process_global_are_read_only(project):
    p = project(
        {
            "_index.yaml": INDEX,
            "attacker.lua": NESTED_ATTACKER,
            "victim.lua": NESTED_VICTIM,
            "main.lua": NESTED_MAIN,
        }
    )
    r = p.run("t:main")
    assert r.rc == 0, r.err
    assert r.lines == ["before: pid.exit nil true", "after: pid.exit nil true"]


STATE_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
  - {name: counter, kind: process.lua, source: file://counter.lua, method: main}
"""

# chunk-level locals: compiled once per shard, but each process runs the chunk anew
COUNTER = """
local state = { calls = 0 }
local hits = 0

local function main(): string
    state.calls = state.calls + 1
    hits = hits + 1
    marker = (marker or 0) + 1
    return state.calls .. "/" .. hits .. "/" .. marker
end

return { main = main }
"""

STATE_MAIN = """
local io = require("io")

local function main(): integer
    local seen = {}
    for i = 1, 3 do
        seen[i] = process.exec("t:counter", "t:shared")
    end
    io.print(table.concat(seen, " "))
    return 0
end

return { main = main }
"""


def test_chunk_level_state_is_per_process(project):
    p = project({"_index.yaml": STATE_INDEX, "counter.lua": COUNTER, "main.lua": STATE_MAIN})
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.out == "1/1/1 1/1/1 1/1/1\n"


SIBLING_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
  - {name: holder, kind: process.lua, source: file://holder.lua, method: main}
"""

# two live processes of one entry on one shard: each keeps its own globals while the
# other one writes
HOLDER = """
local function main(name: string, parent: string): integer
    mine = name
    local inbox = process.inbox()
    process.send(parent, "ready", name)
    while true do
        local msg = inbox:receive()
        if msg:topic() == "set" then
            mine = msg:payload():data()
        elseif msg:topic() == "get" then
            process.send(parent, "value", name .. "=" .. tostring(mine))
        else
            return 0
        end
    end
end

return { main = main }
"""

SIBLING_MAIN = """
local io = require("io")

local function main(): integer
    local ready = process.listen("ready")
    local values = process.listen("value")
    local a = process.spawn("t:holder", "t:shared", "a", process.pid())
    local b = process.spawn("t:holder", "t:shared", "b", process.pid())
    ready:receive()
    ready:receive()
    process.send(a, "set", "changed by a")
    process.send(a, "get")
    io.print((values:receive()))
    process.send(b, "get")
    io.print((values:receive()))
    process.send(b, "set", "changed by b")
    process.send(a, "get")
    io.print((values:receive()))
    process.send(b, "get")
    io.print((values:receive()))
    process.send(a, "stop")
    process.send(b, "stop")
    return 0
end

return { main = main }
"""


def test_live_processes_of_one_entry_keep_their_own_globals(project):
    p = project({"_index.yaml": SIBLING_INDEX, "holder.lua": HOLDER, "main.lua": SIBLING_MAIN})
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["a=changed by a", "b=b", "a=changed by a", "b=changed by b"]


GC_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, time]}
  - {name: planter, kind: process.lua, source: file://gc.lua, method: planter}
  - {name: churn, kind: process.lua, source: file://gc.lua, method: churn}
"""

# the planter leaves objects with finalizers behind when it exits; the collector runs
# them later, while some other process of the shard is running. Whatever a finalizer
# does, it must not act as that other process.
GC = """
local function planter(report_to: string): integer
    local keep = {}
    for i = 1, 500 do
        keep[i] = setmetatable({}, { __gc = function()
            pcall(process.send, report_to, "gc", "from finalizer")
        end })
    end
    return #keep
end

local function churn(): integer
    local t = {}
    for i = 1, 200000 do
        t[i % 1000] = { i }
    end
    return 0
end

return { planter = planter, churn = churn }
"""

GC_MAIN = """
local io = require("io")
local time = require("time")

local function main(): integer
    local notes = process.listen("gc", { message = true })
    local planter = process.spawn_monitored("t:planter", "t:shared", process.pid())
    process.events():receive()
    for _ = 1, 5 do
        process.exec("t:churn", "t:shared")
    end
    local impostor = 0
    while true do
        local r = channel.select({ notes:case_receive(), time.after("300ms"):case_receive() })
        if r.channel ~= notes then
            break
        end
        if r.value:from() ~= planter then
            impostor = impostor + 1
        end
    end
    io.print("messages sent in another process's name: " .. impostor)
    return 0
end

return { main = main }
"""


def test_finalizers_cannot_act_as_another_process(project):
    r = project({"_index.yaml": GC_INDEX, "gc.lua": GC, "main.lua": GC_MAIN}).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["messages sent in another process's name: 0"]


OBJECT_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
  - {name: attacker, kind: process.lua, source: file://attacker.lua, method: main, modules: [time]}
  - {name: victim, kind: process.lua, source: file://victim.lua, method: main, modules: [time]}
"""

# objects handed out by the API (times, errors) and nested tables of global modules:
# their metatables and fields must not be a way to change what other processes see
METATABLE_ATTACKER = """
local time = require("time")

local function main(): integer
    pcall(function() getmetatable(time.now()).__index.unix = function() return -1 end end)
    pcall(function() getmetatable(errors.new("x")).__tostring = function() return "hijacked" end end)
    pcall(function() payload.format.JSON = "hijacked" end)
    return 0
end

return { main = main }
"""

METATABLE_VICTIM = """
local time = require("time")

local function main(): string
    return tostring(time.now():unix() > 0) .. " " .. tostring(errors.new("plain")) .. " "
        .. tostring(payload.format.JSON)
end

return { main = main }
"""

METATABLE_MAIN = """
local io = require("io")

local function main(): integer
    io.print("before: " .. tostring(process.exec("t:victim", "t:shared")))
    process.exec("t:attacker", "t:shared")
    io.print("after: " .. tostring(process.exec("t:victim", "t:shared")))
    return 0
end

return { main = main }
"""


def test_api_object_metatables_are_not_shared_writable_state(project):
    files = {
        "_index.yaml": OBJECT_INDEX,
        "attacker.lua": METATABLE_ATTACKER,
        "victim.lua": METATABLE_VICTIM,
        "main.lua": METATABLE_MAIN,
    }
    r = project(files).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["before: true plain json/plain", "after: true plain json/plain"]


# an owned channel (events, inbox) must not lead to the process record and its PID
SPOOF_ATTACKER = """
local function main(report_to: string): integer
    local real = process.pid()
    local ok = pcall(function()
        local record = process.events().owner
        record.pid = "{t:shared|0xf4ce}"
        process.send(report_to, "hello", "from attacker")
        record.pid = real
    end)
    if not ok then
        process.send(report_to, "hello", "from attacker")
    end
    return 0
end

return { main = main }
"""

SPOOF_MAIN = """
local io = require("io")

local function main(): integer
    local hello = process.listen("hello", { message = true })
    local attacker = process.spawn("t:attacker", "t:shared", process.pid())
    local msg = hello:receive()
    io.print("sender is the attacker: " .. tostring(msg:from() == attacker))
    return 0
end

return { main = main }
"""


def test_a_process_cannot_send_under_another_pid(project):
    files = {
        "_index.yaml": OBJECT_INDEX,
        "attacker.lua": SPOOF_ATTACKER,
        "victim.lua": METATABLE_VICTIM,
        "main.lua": SPOOF_MAIN,
    }
    r = project(files).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["sender is the attacker: true"]
