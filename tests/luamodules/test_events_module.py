"""The `events` Lua module (and the `subscribe`/`unsubscribe` globals) through `wippy run -x`."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import make_project, run_many

RECV = """
local function recv(ch)
  local r = channel.select({ ch:case_receive(), time.after("2s"):case_receive() })
  if r.channel ~= ch then return "timeout" end
  return r.value, r.ok
end
local function collect(ch, n)
  local got = {}
  for _ = 1, n do
    local ev = recv(ch)
    if ev == "timeout" then break end
    got[#got + 1] = ev.system .. "/" .. ev.kind .. ev.path
  end
  return table.concat(got, " ")
end
"""

SCRIPTS = {
    "basics": """
local function main()
  local sub, err = events.subscribe("t.basic")
  io.print("type " .. type(sub) .. " " .. tostring(err) .. " same " .. tostring(rawequal(sub:channel(), sub:channel())))
  io.print("send " .. tostring(events.send("t.basic", "k", "/1", { n = 1, f = 1.5, list = { "a" } })))
  events.send("t.basic", "k", "/2")
  events.send("t.basic", "k", "/3", false)
  local a = recv(sub:channel())
  io.print("a " .. a.system .. " " .. a.kind .. " " .. a.path .. " " .. a.data.n .. " " .. math.type(a.data.f) .. " " .. a.data.list[1])
  local b = recv(sub:channel())
  io.print("b " .. tostring(b.data) .. " " .. tostring(rawget(b, "data") == nil))
  local c = recv(sub:channel())
  io.print("c " .. tostring(c.data))
  local _, e1 = events.subscribe("")
  local _, e2 = events.send("x", "", "/p")
  io.print("invalid " .. e1:kind() .. " " .. e1:message() .. " / " .. e2:message() .. " " .. tostring(e2:retryable()))
  return 0
end
""",
    "matching": """
local function main()
  local dotted = events.subscribe("m.pre.*")
  local bare = events.subscribe("m.pre*")
  local exact = events.subscribe("m.pre")
  local kind = events.subscribe("m.*", "order.*")
  for _, s in ipairs({ "m.pre", "m.pre.a", "m.prefix", "m.pr" }) do events.send(s, "order.new", "/x") end
  events.send("m.pre.z", "user.new", "/end")
  events.send("m.pre.z", "order.end", "/end")
  io.print("dotted " .. collect(dotted:channel(), 3))
  io.print("bare " .. collect(bare:channel(), 5))
  io.print("exact " .. collect(exact:channel(), 1))
  io.print("kind " .. collect(kind:channel(), 4))
  return 0
end
""",
    "closing": """
local function main()
  local one = events.subscribe("c.sys")
  local two = subscribe("c.sys")
  events.send("c.sys", "k", "/before")
  io.print("before " .. collect(one:channel(), 1) .. " " .. collect(two:channel(), 1))
  io.print("close " .. tostring(one:close()) .. " " .. tostring(one:close()))
  unsubscribe(two)
  local three = events.subscribe("c.sys")
  events.send("c.sys", "k", "/after")
  io.print("after " .. collect(three:channel(), 1))
  local v, ok = recv(one:channel())
  local v2, ok2 = recv(two:channel())
  io.print("closed " .. tostring(v) .. " " .. tostring(ok) .. " " .. tostring(v2) .. " " .. tostring(ok2))
  return 0
end
""",
    "burst": """
local function main()
  local sub = events.subscribe("b.sys")
  for i = 1, 300 do events.send("b.sys", "seq", "/" .. i, i) end
  local ch = sub:channel()
  for i = 1, 300 do
    local ev = recv(ch)
    if ev == "timeout" or ev.data ~= i then
      io.print("lost at " .. i)
      return 1
    end
  end
  io.print("300 in order")
  return 0
end
""",
    "children": """
local function main()
  local ready = process.listen("ready")
  local got = process.listen("got")
  for i = 1, 3 do process.spawn("app:child", "app:processes", process.pid(), i) end
  for _ = 1, 3 do recv(ready) end
  events.send("f.sys", "k", "/fan")
  local seen = {}
  for _ = 1, 3 do seen[#seen + 1] = tostring(recv(got)) end
  table.sort(seen)
  io.print("children " .. table.concat(seen, " "))
  -- the children exited without closing; later events still flow to a live subscriber
  local sub = events.subscribe("f.sys")
  events.send("f.sys", "k", "/later")
  io.print("later " .. collect(sub:channel(), 1))
  return 0
end
""",
    "registry_events": """
local function main()
  local sub = events.subscribe("registry", "entry.*")
  assert(registry.snapshot():changes():create({ id = "app:watched", kind = "registry.entry", meta = { a = 1 }, data = { v = 7 } }):apply())
  local ev = recv(sub:channel())
  io.print("registry " .. ev.kind .. " " .. ev.path .. " " .. ev.data.id .. " " .. ev.data.data.v)
  return 0
end
""",
}

CHILD = """
local events = require("events")
local time = require("time")
local function main(parent, n)
  local sub = events.subscribe("f.sys")
  process.send(parent, "ready", n)
  local r = channel.select({ sub:channel():case_receive(), time.after("2s"):case_receive() })
  process.send(parent, "got", n .. ":" .. tostring(r.value and r.value.path))
  return 0
end
return { main = main }
"""

PRELUDE = """local io = require("io")
local events = require("events")
local registry = require("registry")
local time = require("time")
"""


def _entries() -> str:
    out = """
  - name: child
    kind: process.lua
    source: file://child.lua
    method: main
    modules: [events, time]
"""
    for name in SCRIPTS:
        out += f"""
  - name: {name}
    kind: process.lua
    source: file://{name}.lua
    method: main
    modules: [io, events, registry, time]
"""
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evproj")
    files = {f"{n}.lua": PRELUDE + RECV + s + "return { main = main }\n" for n, s in SCRIPTS.items()}
    files["child.lua"] = CHILD
    return make_project(root, _entries(), files)


@pytest.fixture(scope="module")
def outputs(project: Path) -> dict[str, tuple[int, str, str]]:
    return run_many(project, [f"app:{name}" for name in SCRIPTS])


def lines_of(outputs: dict[str, tuple[int, str, str]], entry: str) -> list[str]:
    rc, out, err = outputs[entry]
    assert rc == 0, err
    return out.splitlines()


def test_subscribe_send_shape_and_errors(outputs: dict[str, tuple[int, str, str]]) -> None:
    assert lines_of(outputs, "app:basics") == [
        "type userdata nil same true",
        "send true",
        "a t.basic k /1 1 float a",
        "b nil true",
        "c false",
        "invalid Invalid system pattern is required / kind is required false",
    ]


def test_c11_matching_and_kind_filter(outputs: dict[str, tuple[int, str, str]]) -> None:
    assert lines_of(outputs, "app:matching") == [
        "dotted m.pre.a/order.new/x m.pre.z/user.new/end m.pre.z/order.end/end",
        "bare m.pre/order.new/x m.pre.a/order.new/x m.prefix/order.new/x m.pre.z/user.new/end m.pre.z/order.end/end",
        "exact m.pre/order.new/x",
        "kind m.pre/order.new/x m.pre.a/order.new/x m.prefix/order.new/x m.pr/order.new/x",
    ]


def test_close_and_globals(outputs: dict[str, tuple[int, str, str]]) -> None:
    assert lines_of(outputs, "app:closing") == [
        "before c.sys/k/before c.sys/k/before",
        "close true true",
        "after c.sys/k/after",
        "closed nil false nil false",
    ]


def test_burst_keeps_order(outputs: dict[str, tuple[int, str, str]]) -> None:
    assert lines_of(outputs, "app:burst") == ["300 in order"]


def test_fanout_to_children_and_exit(outputs: dict[str, tuple[int, str, str]]) -> None:
    assert lines_of(outputs, "app:children") == ["children 1:/fan 2:/fan 3:/fan", "later f.sys/k/later"]


def test_registry_changes_are_events(outputs: dict[str, tuple[int, str, str]]) -> None:
    assert lines_of(outputs, "app:registry_events") == ["registry entry.create app:watched app:watched 7"]
