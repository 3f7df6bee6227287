"""Message semantics: payloads are deep copies, and one sender's messages arrive in order.

Copies are checked inside one Lua state (a host with one shard, where handing a table
over would be easy to get wrong), for messages to self, messages to another process,
spawn arguments and ``process.exec`` results. Order is checked on a host with two
workers and four shards: several senders stream numbered messages at once to a
receiver on another host and to one on their own host.
"""

from __future__ import annotations

COPY_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
  - {name: owner, kind: process.lua, source: file://owner.lua, method: main, modules: [json]}
  - {name: mutator, kind: process.lua, source: file://mutator.lua, method: main}
  - {name: keeper, kind: process.lua, source: file://keeper.lua, method: main}
"""

# receives a table, changes its copy, sends it back
MUTATOR = """
local function main(arg): integer
    local msgs = process.listen("doc", { message = true })
    local msg = msgs:receive()
    local doc = msg:payload():data()
    doc.tags[1] = "mutated"
    doc.meta.by = "mutator"
    process.send(msg:from(), "doc.back", doc)
    -- what the spawn argument looked like when it arrived
    process.send(msg:from(), "arg.seen", arg.meta.by .. "," .. #arg.tags)
    return 0
end

return { main = main }
"""

# returns a table that it keeps and changes after returning is impossible; exec
# results must still be a copy, so the caller's changes stay with the caller
KEEPER = """
local kept = { count = 1 }

local function main(): {[string]: integer}
    return kept
end

return { main = main }
"""

OWNER = """
local json = require("json")

local function new_doc()
    return { tags = { "a", "b" }, meta = { by = "owner" } }
end

local function main(): {string}
    local out = {}
    local function note(s: string) out[#out + 1] = s end

    -- to self: the queued copy does not follow later changes
    local mine = process.listen("self")
    local doc = new_doc()
    process.send(process.pid(), "self", doc)
    doc.meta.by = "changed after send"
    local got = mine:receive()
    note("self: " .. json.encode(got.meta) .. " same table: " .. tostring(rawequal(got, doc)))

    -- to another process on the same shard, and as a spawn argument
    local arg = new_doc()
    local other = process.spawn("t:mutator", "t:shared", arg)
    arg.meta.by = "changed after spawn"
    table.insert(arg.tags, "c")
    local sent = new_doc()
    process.send(other, "doc", sent)
    sent.tags[2] = "changed after send"
    local back = process.listen("doc.back"):receive()
    note("sent now: " .. json.encode(sent.tags) .. " " .. sent.meta.by)
    note("came back: " .. json.encode(back.tags) .. " " .. back.meta.by)
    note("spawn arg seen: " .. process.listen("arg.seen"):receive())

    -- an exec result
    local first = process.exec("t:keeper", "t:shared")
    first.count = 99
    local second = process.exec("t:keeper", "t:shared")
    note("exec results: " .. first.count .. " " .. second.count)
    return out
end

return { main = main }
"""

COPY_MAIN = """
local io = require("io")

local function main(): integer
    local lines, err = process.exec("t:owner", "t:shared")
    if not lines then
        error(tostring(err))
    end
    for _, line in ipairs(lines) do
        io.print(line)
    end
    return 0
end

return { main = main }
"""


def test_payloads_are_deep_copies(project):
    p = project(
        {
            "_index.yaml": COPY_INDEX,
            "main.lua": COPY_MAIN,
            "owner.lua": OWNER,
            "mutator.lua": MUTATOR,
            "keeper.lua": KEEPER,
        }
    )
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == [
        'self: {"by":"owner"} same table: false',
        'sent now: ["a","changed after send"] owner',
        'came back: ["mutated","b"] mutator',
        "spawn arg seen: owner,2",
        "exec results: 99 1",
    ]


ORDER_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: procs, kind: process.host, host: {workers: 2, shards: 4}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, time]}
  - {name: sender, kind: process.lua, source: file://sender.lua, method: main}
  - {name: checker, kind: process.lua, source: file://checker.lua, method: main}
"""

SENDER = """
-- waits for "go", then streams COUNT numbered messages to two receivers
local function main(id: integer, count: integer, a: string, b: string): integer
    process.listen("go"):receive()
    for n = 1, count do
        process.send(a, "seq", { from = id, n = n })
        process.send(b, "seq", { from = id, n = n })
    end
    return 0
end

return { main = main }
"""

# shared by both receivers: counts the messages of every sender and the ones that
# arrived out of order
CHECKER = """
local function check(ch, senders: integer, count: integer): string
    local last = {}
    local total, disorder = 0, 0
    for _ = 1, senders * count do
        local m = ch:receive()
        if m.n ~= (last[m.from] or 0) + 1 then
            disorder = disorder + 1
        end
        last[m.from] = m.n
        total = total + 1
    end
    local complete = 0
    for id = 1, senders do
        if last[id] == count then
            complete = complete + 1
        end
    end
    return total .. " messages, " .. complete .. " senders complete, " .. disorder .. " out of order"
end

local function main(senders: integer, count: integer, report_to: string): integer
    local ch = process.listen("seq")
    process.send(report_to, "checker.ready", process.pid())
    process.send(report_to, "checker.done", check(ch, senders, count))
    return 0
end

return { main = main, check = check }
"""

ORDER_MAIN = """
local io = require("io")
local time = require("time")

local SENDERS = 8
local COUNT = 150

local function main(): integer
    local seq = process.listen("seq")
    local me = process.pid()
    local checker = process.spawn("t:checker", "t:procs", SENDERS, COUNT, me)
    process.listen("checker.ready"):receive()

    local senders = {}
    for id = 1, SENDERS do
        senders[id] = process.spawn("t:sender", "t:procs", id, COUNT, me, checker)
    end
    for _, pid in ipairs(senders) do
        process.send(pid, "go")
    end

    local last = {}
    local disorder = 0
    for _ = 1, SENDERS * COUNT do
        local m = seq:receive()
        if m.n ~= (last[m.from] or 0) + 1 then
            disorder = disorder + 1
        end
        last[m.from] = m.n
    end
    local complete = 0
    for id = 1, SENDERS do
        if last[id] == COUNT then
            complete = complete + 1
        end
    end
    io.print("other host: " .. SENDERS * COUNT .. " messages, " .. complete .. " senders complete, "
        .. disorder .. " out of order")
    io.print("same host: " .. process.listen("checker.done"):receive())
    return 0
end

return { main = main }
"""


def test_each_senders_messages_keep_their_order_across_shards(project):
    p = project(
        {
            "_index.yaml": ORDER_INDEX,
            "main.lua": ORDER_MAIN,
            "sender.lua": SENDER,
            "checker.lua": CHECKER,
        }
    )
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == [
        "other host: 1200 messages, 8 senders complete, 0 out of order",
        "same host: 1200 messages, 8 senders complete, 0 out of order",
    ]


BACKLOG_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: procs, kind: process.host, host: {workers: 2, shards: 4}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, time]}
  - {name: flood, kind: process.lua, source: file://flood.lua, method: main}
"""

FLOOD = """
local function main(to: string, count: integer): integer
    for n = 1, count do
        process.send(to, "item", n)
    end
    return 0
end

return { main = main }
"""

# the flood is fully queued before the first receive: a mailbox whose cost grows with
# its length (a quadratic queue) would take minutes here instead of milliseconds
BACKLOG_MAIN = """
local io = require("io")
local time = require("time")

local COUNT = 20000

local function main(): integer
    local items = process.listen("item")
    local events = process.events()
    local flood = process.spawn_monitored("t:flood", "t:procs", process.pid(), COUNT)
    local ev = events:receive()
    io.print("flood exited: " .. tostring(ev.from == flood and ev.result.error == nil))

    local deadline = time.after("10s")
    local received, in_order = 0, 0
    for n = 1, COUNT do
        local r = channel.select({ items:case_receive(), deadline:case_receive() })
        if r.channel ~= items then
            break
        end
        received = received + 1
        if r.value == n then
            in_order = in_order + 1
        end
    end
    io.print(received .. " of " .. COUNT .. " received within 10s, " .. in_order .. " in order")
    return 0
end

return { main = main }
"""


def test_a_long_backlog_is_received_quickly_and_in_order(project):
    p = project({"_index.yaml": BACKLOG_INDEX, "main.lua": BACKLOG_MAIN, "flood.lua": FLOOD})
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["flood exited: true", "20000 of 20000 received within 10s, 20000 in order"]


EARLY_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: procs, kind: process.host, host: {workers: 2, shards: 4}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
  - {name: late, kind: process.lua, source: file://late.lua, method: main}
"""

# messages arrive before the child has run a line; they wait for the listener of
# their topic, or for the inbox if their topic never gets one
LATE = """
local function main(parent: string): integer
    local work = process.listen("work")
    local got = {}
    for _ = 1, 3 do
        got[#got + 1] = work:receive()
    end
    local other = process.inbox():receive()
    got[#got + 1] = other:topic() .. "=" .. tostring(other:payload():data())
    process.send(parent, "got", table.concat(got, " "))
    return 0
end

return { main = main }
"""

EARLY_MAIN = """
local io = require("io")

local function main(): integer
    local got = process.listen("got")
    for round = 1, 5 do
        local pid = process.spawn("t:late", "t:procs", process.pid())
        process.send(pid, "work", "a" .. round)
        process.send(pid, "misc", round)
        process.send(pid, "work", "b" .. round)
        process.send(pid, "work", "c" .. round)
        io.print((got:receive()))
    end
    return 0
end

return { main = main }
"""


def test_messages_sent_before_the_receiver_listens_are_kept(project):
    p = project({"_index.yaml": EARLY_INDEX, "main.lua": EARLY_MAIN, "late.lua": LATE})
    r = p.run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == [f"a{i} b{i} c{i} misc={i}" for i in range(1, 6)]


SPREAD_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: spread, kind: process.host, host: {workers: 2, shards: 2, placement: spread}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
  - {name: coord, kind: process.lua, source: file://coord.lua, method: main}
  - {name: echo, kind: process.lua, source: file://echo.lua, method: main}
"""

# reports the types and values it was spawned with, then echoes every message back as
# a description of its values (type and text of each, "nil" kept in place)
ECHO = """
local function describe(n, a, b, c)
    local out = {}
    local vals = { a, b, c }
    for i = 1, n do
        local v = vals[i]
        local t = math.type(v) or type(v)
        local text = t == "string" and v:gsub(".", function(c) return string.format("%02x", c:byte()) end) or tostring(v)
        out[#out + 1] = t .. ":" .. text
    end
    return table.concat(out, " ")
end

local function main(a, b, c)
    local inbox = process.inbox()
    local m = inbox:receive()
    process.send(m:from(), "spawned", describe(3, a, b, c))
    while true do
        m = inbox:receive()
        if m:topic() == "stop" then return 0 end
        local p = m:payload()
        if #p > 0 then
            process.send(m:from(), "echo", describe(#p, p[1] and p[1]:data(), p[2] and p[2]:data()))
        else
            process.send(m:from(), "echo", describe(1, p:data()))
        end
    end
end

return { main = main }
"""

# on a spread host the echo process lands on the other shard: every value crosses
COORD = """
local function main(parent)
    local inbox = process.inbox()
    local pid = process.spawn("t:echo", "t:spread", "bin\\0\\255", nil, 2.0)
    process.send(pid, "hello")
    local lines = { inbox:receive():payload():data() }
    local cases = {
        { 1 }, { -7 }, { 2 ^ 53 }, { 0.5 }, { true }, { false }, { "" }, { "a\\0b\\200" },
        { nil, "after nil" }, { 1, 2.0 }, { "x", false },
    }
    for _, c in ipairs(cases) do
        if c[2] ~= nil or c[1] == nil then
            process.send(pid, "v", c[1], c[2])
        else
            process.send(pid, "v", c[1])
        end
        lines[#lines + 1] = inbox:receive():payload():data()
    end
    process.send(pid, "stop")
    process.send(parent, "done", table.concat(lines, "\\n"))
end

return { main = main }
"""


# the terminal starts a coordinator on the spread host and prints what it reports
SPREAD_MAIN = """
return {main = function()
    process.spawn("t:coord", "t:spread", process.pid())
    io.print(process.inbox():receive():payload():data())
    return 0
end}
"""


def run_coord(project, index: str, coord: str, **files: str):
    r = project({"_index.yaml": index, "main.lua": SPREAD_MAIN, "coord.lua": coord, "echo.lua": ECHO,
                 **files}).run("t:main")
    assert r.rc == 0, r.err
    return r


def test_scalar_values_keep_their_types_across_shards(project):
    r = run_coord(project, SPREAD_INDEX, COORD)
    # (integral floats print without ".0", as the reference prints them)
    assert r.out.splitlines() == [
        "string:62696e00ff nil:nil float:2",
        "integer:1",
        "integer:-7",
        "float:9.007199254741e+15",
        "float:0.5",
        "boolean:true",
        "boolean:false",
        "string:",
        "string:610062c8",
        "nil:nil string:6166746572206e696c",
        "integer:1 float:2",
        "string:78 boolean:false",
    ]


# a value list with a hole whose key count equals its border ({n = 3, "a", nil, x}) used
# to be encoded as a plain array, losing n and the values after the hole
HOLES_INDEX = SPREAD_INDEX.replace(
    "  - {name: echo, kind: process.lua, source: file://echo.lua, method: main}",
    "  - {name: echo, kind: process.lua, source: file://echo.lua, method: main}\n"
    "  - {name: holes, kind: process.lua, source: file://holes.lua, method: main}",
)

HOLES = """
local function main(parent, a, b, c)
    local inbox = process.inbox()
    process.send(parent, "args", type(a) .. " " .. type(b) .. " " .. type(c) .. " " .. tostring(c and c[1]))
    local m = inbox:receive()
    local p = m:payload()
    process.send(parent, "msg", #p .. " " .. type(p[1]:data()) .. " " .. type(p[2]:data()) .. " " .. type(p[3]:data()))
    return 0
end
return { main = main }
"""

HOLES_COORD = """
local function main(parent)
    local inbox = process.inbox()
    local pid = process.spawn("t:holes", "t:spread", process.pid(), "a", nil, { 7 })
    local lines = { inbox:receive():payload():data() }
    process.send(pid, "m", "x", nil, { 1 })
    lines[2] = inbox:receive():payload():data()
    process.send(parent, "done", table.concat(lines, "\\n"))
end
return { main = main }
"""


def test_a_value_list_with_a_hole_crosses_shards_whole(project):
    r = run_coord(project, HOLES_INDEX, HOLES_COORD, **{"holes.lua": HOLES})
    assert r.out.splitlines() == ["string nil table 7", "3 string nil table"]


# spawn arguments on the spawner's own host: the common spawn (at most three scalars) keeps
# them in the new task's record instead of a list; the count, nils, types and the size
# limit must come out as with a list
ARGS_INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: shared, kind: process.host, host: {workers: 1, shards: 1, max_message_size: "1KB"}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io]}
  - {name: spawner, kind: process.lua, source: file://spawner.lua, method: main}
  - {name: child, kind: process.lua, source: file://child.lua, method: main}
"""

ARGS_CHILD = """
local function main(...)
    local parts = {}
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        parts[i] = type(v) .. " " .. (type(v) == "string" and #v > 8 and ("of " .. #v) or tostring(v))
    end
    process.send("collector", "args", select("#", ...) .. ": " .. table.concat(parts, ", "))
    return 0
end
return { main = main }
"""

ARGS_SPAWNER = """
local function main(report)
    process.registry.register("collector")
    local inbox = process.inbox()
    local calls = {
        {}, { nil }, { nil, nil }, { 1, "x" }, { 2.5 }, { nil, 7 }, { math.maxinteger, -0.0 },
        { true, false, 3 }, { string.rep("z", 1000) }, { "ab", string.rep("z", 1022) },
        { 1, nil, "c", n = 3 }, { "a", "b", string.rep("z", 1022) }, { 1, 2, 3, 4 },
    }
    local lines = {}
    for i, call in ipairs(calls) do
        process.spawn("t:child", "t:shared", table.unpack(call, 1, call.n or #call))
        lines[i] = inbox:receive():payload():data()
    end
    -- (the nil-holding lists above have no length: spawn those with explicit counts)
    process.spawn("t:child", "t:shared", nil)
    lines[#lines + 1] = inbox:receive():payload():data()
    process.spawn("t:child", "t:shared", nil, nil)
    lines[#lines + 1] = inbox:receive():payload():data()
    local pid, err = process.spawn("t:child", "t:shared", string.rep("y", 1025))
    lines[#lines + 1] = "too big: " .. tostring(pid) .. ", " .. tostring(err)
    pid, err = process.spawn("t:child", "t:shared", "a", "b", string.rep("y", 1023))
    lines[#lines + 1] = "too big: " .. tostring(pid) .. ", " .. tostring(err)
    for _, line in ipairs(lines) do process.send(report, "line", line) end
    process.send(report, "done")
    return 0
end
return { main = main }
"""

ARGS_MAIN = """
local io = require("io")
local function main(): integer
    process.spawn("t:spawner", "t:shared", process.pid())
    local inbox = process.inbox()
    while true do
        local m = inbox:receive()
        if m:topic() == "done" then return 0 end
        io.print(m:payload():data())
    end
end
return { main = main }
"""


def test_spawn_arguments_arrive_as_given(project):
    files = {"_index.yaml": ARGS_INDEX, "main.lua": ARGS_MAIN, "spawner.lua": ARGS_SPAWNER,
             "child.lua": ARGS_CHILD}
    r = project(files).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == [
        "0: ",
        "0: ",
        "0: ",
        "2: number 1, string x",
        "1: number 2.5",
        "2: nil nil, number 7",
        "2: number 9223372036854775807, number -0",
        "3: boolean true, boolean false, number 3",
        "1: string of 1000",
        "2: string ab, string of 1022",
        "3: number 1, nil nil, string c",
        "3: string a, string b, string of 1022",
        "4: number 1, number 2, number 3, number 4",
        "1: nil nil",
        "2: nil nil, nil nil",
        "too big: nil, message exceeds the size limit of 1024 bytes",
        "too big: nil, message exceeds the size limit of 1024 bytes",
    ]


BAD_SPAWNER = """
local function main(report)
    local tries = {
        { nil, "t:shared" }, { "t:child", nil }, { {}, "t:shared" }, { 5, "t:shared" },
        { "t:child", {} }, { "t:child", 7 },
    }
    for _, try in ipairs(tries) do
        for _, spawn in ipairs({ process.spawn, process.spawn_monitored }) do
            local pid, err = spawn(try[1], try[2], "x")
            process.send(report, "line", tostring(pid) .. " " .. tostring(err))
        end
    end
    process.send(report, "done")
    return 0
end
return { main = main }
"""


def test_a_spawn_without_a_string_id_and_host_is_refused(project):
    # on the spawner's own host the common spawn skips these checks when the id names a
    # loaded entry; anything else must still be refused with the reference's message
    files = {"_index.yaml": ARGS_INDEX, "main.lua": ARGS_MAIN, "spawner.lua": BAD_SPAWNER,
             "child.lua": ARGS_CHILD}
    r = project(files).run("t:main")
    assert (r.rc, r.err) == (0, "")
    assert r.lines == ["nil spawn requires at least id and host arguments"] * 12
