"""Small projects run through the installed `wippy run -x`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_ENTRIES = """
  - name: mem
    kind: env.storage.memory
  - name: static
    kind: env.storage.static
    values: {REGION: eu}
  - name: osenv
    kind: env.storage.os
  - name: dotenv
    kind: env.storage.file
    file_path: data/app.env
    auto_create: true
  - name: routed
    kind: env.storage.router
    storages: [test:mem, test:static]
  - name: v_region
    kind: env.variable
    variable: REGION
    storage: test:routed
  - name: v_home
    kind: env.variable
    variable: WCT_RUN_HOME
    storage: test:osenv
  - name: v_token
    kind: env.variable
    variable: TOKEN
    storage: test:dotenv
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, env]
"""

ENV_MAIN = r"""
local env = require("env")
local io = require("io")
local function main()
  io.print("region", (env.get("REGION")))
  assert(env.set("REGION", "us") == true)
  io.print("region", (env.get("test:v_region")))
  io.print("home", (env.get("WCT_RUN_HOME")))
  local ok, err = env.set("WCT_RUN_HOME", "x")
  io.print("os set", ok, err:kind())
  local v, verr = env.get("WCT_RUN_HIDDEN")
  io.print("hidden", v, verr:kind())
  io.print("token", (env.get("TOKEN")))
  assert(env.set("TOKEN", 42))
  io.print("token", (env.get("TOKEN")))
  local all = env.get_all()
  io.print("all", all.REGION, all.TOKEN, all.WCT_RUN_HOME)
  local _, bad = env.set("REGION", {})
  io.print("bad value", bad:kind())
  return 0
end
return { main = main }
"""


def test_env_storages(run_project: Callable[..., Any], tmp_path: Path) -> None:
    proc = run_project(
        ENV_ENTRIES,
        {"main.lua": ENV_MAIN},
        "test:main",
        env={"WCT_RUN_HOME": "/h", "WCT_RUN_HIDDEN": "secret"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "region\teu",
        "region\tus",
        "home\t/h",
        "os set\tnil\tPermissionDenied",
        "hidden\tnil\tNotFound",
        "token\tnil",
        "token\t42",
        "all\tus\t42\t/h",
        "bad value\tInvalid",
    ]
    assert (tmp_path / "data" / "app.env").read_text() == "TOKEN=42\n"


MIXED_ENTRIES = """
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, metrics, system, ctx, time]
  - name: sleeper
    kind: process.lua
    source: file://sleeper.lua
    method: main
    modules: [time]
"""

MIXED_MAIN = r"""
local metrics = require("metrics")
local system = require("system")
local ctx = require("ctx")
local io = require("io")
local time = require("time")
local function main()
  io.print("counter", metrics.counter_inc("runs_total", { kind = "a" }))
  io.print("gauge", metrics.gauge_set("depth", 3))
  local ok, err = metrics.counter_add("runs_total", -1)
  io.print("negative", ok, err:kind())
  local _, lerr = metrics.gauge_set("depth", 1, "nope")
  io.print("bad labels", lerr:kind())
  io.print("raise", (pcall(metrics.histogram, "h", "x")))

  local pid = process.spawn("test:sleeper", "test:processes")
  time.sleep("50ms")
  local procs = system.hosts.processes("test:processes")
  local seen = false
  for _, p in ipairs(procs) do
    if p.pid == pid and p.source == "test:sleeper" and p.host == "test:processes" then seen = true end
  end
  io.print("processes", seen)
  local _, herr = system.hosts.processes("test:none")
  io.print("no host", herr:kind())
  io.print("lock", system.lock.acquire("l1"))
  local again, aerr = system.lock.acquire("l1")
  io.print("lock again", again, aerr:kind())
  io.print("release", system.lock.release("l1"))
  local st = system.supervisor.state("test:processes")
  io.print("supervisor", st.id, type(st.status))
  local _, serr = system.supervisor.state("test:nothing")
  io.print("no service", serr:kind())
  local prev = system.gc.set_percent(50)
  io.print("percent", prev, system.gc.get_percent())
  system.gc.set_percent(prev)
  local limit = system.memory.set_limit(1000000)
  io.print("limit", limit > 0, system.memory.get_limit())
  io.print("heap objects", system.memory.heap_objects() > 0)
  io.print("node", type(system.node.id()), system.cluster.size())
  local mods = system.modules()
  io.print("modules", #mods > 0)
  local _, cerr = ctx.get("anything")
  io.print("ctx", cerr:kind(), next(ctx.all()))
  process.terminate(pid)
  return 0
end
return { main = main }
"""

SLEEPER = r"""
local time = require("time")
local function main()
  time.sleep("10s")
end
return { main = main }
"""


def test_metrics_system_ctx(run_project: Callable[..., Any]) -> None:
    proc = run_project(MIXED_ENTRIES, {"main.lua": MIXED_MAIN, "sleeper.lua": SLEEPER}, "test:main")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "counter\ttrue\tnil",
        "gauge\ttrue\tnil",
        "negative\tnil\tInvalid",
        "bad labels\tInvalid",
        "raise\tfalse",
        "processes\ttrue",
        "no host\tNotFound",
        "lock\ttrue\tnil",
        "lock again\tfalse\tAlreadyExists",
        "release\ttrue\tnil",
        "supervisor\ttest:processes\tstring",
        "no service\tNotFound",
        "percent\t100\t50\tnil",
        "limit\ttrue\t1000000\tnil",
        "heap objects\ttrue",
        "node\tstring\t1\tnil",
        "modules\ttrue",
        "ctx\tNotFound\tnil",
    ]


def test_system_exit(run_project: Callable[..., Any]) -> None:
    main = r"""
local system = require("system")
local io = require("io")
local function main()
  io.print("before")
  system.exit(7)
  io.print("after")
end
return { main = main }
"""
    entries = """
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, system]
"""
    proc = run_project(entries, {"main.lua": main}, "test:main")
    assert proc.stdout.splitlines()[0] == "before"
    assert proc.returncode == 7, proc.stderr
