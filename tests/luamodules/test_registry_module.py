"""The `registry` Lua module, end to end through `wippy run -x`."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import make_project, run_many

ENTRIES = """
  - name: cfg.a
    kind: registry.entry
    meta: {group: g1, label: alpha-one, tags: [x, y]}
    value: 1
  - name: cfg.b
    kind: registry.entry
    meta: {group: g1, label: beta-two}
    data: {value: 2}
  - name: other.c
    kind: registry.entry
    meta: {group: g2, label: gamma}
    value: 3
"""

SCRIPTS = {
    "reads": """
local io = require("io")
local registry = require("registry")
local function ids(list)
  local out = {}
  for _, e in ipairs(list) do out[#out + 1] = e.id end
  table.sort(out)
  return table.concat(out, " ")
end
local function main()
  local e = assert(registry.get("app:cfg.a"))
  local keys = {}
  for k in pairs(e) do keys[#keys + 1] = k end
  table.sort(keys)
  io.print("keys " .. table.concat(keys, ","))
  io.print("a " .. e.kind .. " " .. e.meta.label .. " " .. e.data.value)
  io.print("b " .. registry.get({ ns = "app", name = "cfg.b" }).data.value)
  local none, err = registry.get("app:nope")
  io.print("missing " .. tostring(none) .. " " .. err:kind() .. " " .. err:message())
  io.print("g1 " .. ids(registry.find({ ["meta.group"] = "g1" })))
  io.print("prefix " .. ids(registry.find({ ["^meta.label"] = "beta" })))
  io.print("contains " .. ids(registry.find({ ["*meta.tags"] = "y" })))
  io.print("regex " .. ids(registry.find({ ["~meta.label"] = "^(al|ga)m?" })))
  io.print("name " .. ids(registry.find({ [".name"] = "cfg.*" })))
  io.print("bare " .. tostring(#registry.find({ kind = "x" }) == #registry.find({})))
  local id = registry.parse_id("a.b:c:d")
  io.print("parse " .. id.ns .. " " .. id.name .. " [" .. registry.parse_id("plain").ns .. "]")
  return 0
end
return { main = main }
""",
    "writes": """
local io = require("io")
local registry = require("registry")
local function main()
  local base = registry.current_version()
  local changes = registry.snapshot():changes()
  local same = changes:create({ id = "app:new", kind = "registry.entry", meta = { m = 1 }, data = { v = "n" } })
  assert(rawequal(same, changes))
  changes:update({ id = "app:cfg.a", kind = "registry.entry", meta = { group = "g9" }, data = { value = 10 } })
  changes:delete({ ns = "app", name = "other.c" })
  local ops = changes:ops()
  io.print("ops " .. #ops .. " " .. ops[1].kind .. " " .. ops[3].kind .. " " .. ops[3].entry.id)
  local v = assert(changes:apply())
  io.print("step " .. (v:id() - base:id()) .. " " .. v:string() .. " " .. tostring(v))
  io.print("prev " .. tostring(v:previous():id() == base:id()) .. " next " .. tostring(v:next()))
  io.print("base next " .. tostring(base:next():id() == v:id()))
  io.print("new " .. registry.get("app:new").data.v)
  local a = registry.get("app:cfg.a")
  io.print("a " .. a.meta.group .. " " .. a.data.value)
  local _, gone = registry.get("app:other.c")
  io.print("deleted " .. gone:kind())
  -- a failing changeset rolls back completely
  local bad = registry.snapshot():changes()
  bad:create({ id = "app:fresh", kind = "registry.entry", data = {} })
  bad:create({ id = "app:new", kind = "registry.entry", data = {} })
  local r, err = bad:apply()
  io.print("failed " .. tostring(r) .. " " .. err:kind() .. " " .. tostring(registry.get("app:fresh")))
  io.print("same version " .. tostring(registry.current_version():id() == v:id()))
  local _, empty = registry.snapshot():changes():apply()
  io.print("empty " .. empty:kind() .. " " .. empty:message())
  return 0
end
return { main = main }
""",
    "versions": """
local io = require("io")
local registry = require("registry")
local function create(id)
  return assert(registry.snapshot():changes():create({ id = id, kind = "registry.entry", data = { id = id } }):apply())
end
local function main()
  local base = registry.current_version()
  local old = registry.snapshot()
  local v1 = create("app:v.one")
  local v2 = create("app:v.two")
  io.print("old snapshot " .. tostring(old:get("app:v.one")) .. " " .. old:version():id() - base:id())
  local at1 = assert(registry.snapshot_at(v1:id()))
  io.print("at v1 " .. tostring(at1:get("app:v.one") ~= nil) .. " " .. tostring(at1:get("app:v.two")))
  local h = registry.history()
  io.print("history " .. tostring(#h:versions() == #registry.versions()))
  io.print("get_version " .. h:get_version(v2:id()):string():sub(1, 1))
  local _, e1 = h:get_version(-1)
  local _, e2 = registry.snapshot_at(v2:id() + 100)
  io.print("errors " .. e1:kind() .. ":" .. e1:message() .. " " .. e2:kind() .. ":" .. e2:message())
  io.print("at snapshot " .. tostring(h:snapshot_at(v1):version():id() == v1:id()))
  -- roll back to v1 and forward to v2
  local back = assert(registry.apply_version(v1))
  io.print("rolled back " .. tostring(back:id() == v1:id()) .. " " .. tostring(registry.get("app:v.two")))
  local fwd = assert(registry.apply_version(v2:id()))
  io.print("forward " .. tostring(fwd:id() == v2:id()) .. " " .. registry.get("app:v.two").data.id)
  local ns = old:namespace("app")
  io.print("namespace " .. tostring(#ns > 0) .. " entries " .. tostring(#old:entries() == #old:find({})))
  local delta = registry.build_delta(
    { { id = "app:x", kind = "k", data = { a = 1 } }, { id = "app:y", kind = "k", data = {} } },
    { { id = "app:x", kind = "k", data = { a = 2 } }, { id = "app:z", kind = "k", data = {} } })
  local kinds = {}
  for _, op in ipairs(delta) do kinds[#kinds + 1] = op.kind .. "=" .. op.entry.id end
  table.sort(kinds)
  io.print("delta " .. table.concat(kinds, " "))
  return 0
end
return { main = main }
""",
    "dynamic": """
local io = require("io")
local registry = require("registry")
local time = require("time")
local SOURCE = [[
local function main(parent)
  process.send(parent, "hi", "hello from " .. process.id())
  return 0
end
return { main = main }
]]
local function main()
  local inbox = process.listen("hi")
  assert(registry.snapshot():changes():create({
    id = "app:dyn", kind = "process.lua", meta = {}, data = { source = SOURCE, method = "main" },
  }):apply())
  assert(process.spawn("app:dyn", "app:processes", process.pid()))
  local r = channel.select({ inbox:case_receive(), time.after("3s"):case_receive() })
  io.print("dyn " .. tostring(r.value))
  local _, err = registry.snapshot():changes():create({
    id = "app:broken", kind = "process.lua", meta = {},
    data = { source = "local function main()\\n  local x = = 1\\nend\\nreturn { main = main }", method = "main" },
  }):apply()
  io.print("broken " .. tostring(err ~= nil) .. " " .. tostring(string.find(err:message(), "app:broken:2:%d+") ~= nil))
  return 0
end
return { main = main }
""",
}


def _entries() -> str:
    out = ENTRIES
    for name in SCRIPTS:
        out += f"""
  - name: {name}
    kind: process.lua
    source: file://{name}.lua
    method: main
    modules: [io, registry, time]
"""
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("regproj")
    return make_project(root, _entries(), {f"{n}.lua": s for n, s in SCRIPTS.items()})


@pytest.fixture(scope="module")
def outputs(project: Path) -> dict[str, tuple[int, str, str]]:
    return run_many(project, [f"app:{name}" for name in SCRIPTS])


def lines_of(outputs: dict[str, tuple[int, str, str]], entry: str) -> list[str]:
    rc, out, err = outputs[entry]
    assert rc == 0, err
    return out.splitlines()


def test_reads(outputs: dict[str, tuple[int, str, str]]) -> None:
    assert lines_of(outputs, "app:reads") == [
        "keys data,id,kind,meta",
        "a registry.entry alpha-one 1",
        "b 2",
        "missing nil NotFound entry not found: app:nope",
        "g1 app:cfg.a app:cfg.b",
        "prefix app:cfg.b",
        "contains app:cfg.a",
        "regex app:cfg.a app:other.c",
        "name app:cfg.a app:cfg.b",
        "bare true",
        "parse a.b c:d []",
    ]


def test_changes_apply_and_rollback(outputs: dict[str, tuple[int, str, str]]) -> None:
    out = lines_of(outputs, "app:writes")
    assert out[0] == "ops 3 entry.create entry.delete app:other.c"
    assert out[1].startswith("step 1 v") and out[1].split()[2] == out[1].split()[3]
    assert out[2:] == [
        "prev true next nil",
        "base next true",
        "new n",
        "a g9 10",
        "deleted NotFound",
        "failed nil Internal nil",
        "same version true",
        "empty Invalid no changes to apply",
    ]


def test_snapshots_history_apply_version_delta(outputs: dict[str, tuple[int, str, str]]) -> None:
    assert lines_of(outputs, "app:versions") == [
        "old snapshot nil 0",
        "at v1 true nil",
        "history true",
        "get_version v",
        "errors Invalid:invalid version ID NotFound:version not found",
        "at snapshot true",
        "rolled back true nil",
        "forward true app:v.two",
        "namespace true entries true",
        "delta entry.create=app:z entry.delete=app:y entry.update=app:x",
    ]


def test_runtime_process_entry_and_syntax_error(outputs: dict[str, tuple[int, str, str]]) -> None:
    assert lines_of(outputs, "app:dynamic") == ["dyn hello from app:dyn", "broken true true"]
