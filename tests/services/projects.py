"""Small Wippy projects written into a temporary directory for the service-mode tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

# A tier: logs "<name> up", registers its name, answers CANCEL with "<name> down".
TIER = """
local logger = require("logger")

local function main(label)
    local events = process.events()
    logger:info(label .. " up", {tier = label})
    while true do
        local ev = events:receive()
        if ev.kind == process.event.CANCEL then
            logger:info(label .. " down", {reason = ev.reason, from = ev.from})
            return 0
        end
    end
end

return { main = main }
"""

# Fails on every start.
CRASHER = """
local logger = require("logger")

local function main()
    logger:info("crasher started")
    error("crasher: boom")
end

return { main = main }
"""

CHAIN_INDEX = """
version: "1.0"
namespace: app

entries:
  - name: processes
    kind: process.host
    host: {workers: 2}
    lifecycle: {auto_start: true}

  - name: tier
    kind: process.lua
    source: file://tier.lua
    method: main
    modules: [logger]

  - name: crasher_proc
    kind: process.lua
    source: file://crasher.lua
    method: main
    modules: [logger]

  - name: db
    kind: process.service
    process: tier
    host: processes
    input: [db]
    lifecycle: {auto_start: true}

  - name: cache
    kind: process.service
    process: tier
    host: processes
    input: [cache]
    lifecycle:
      auto_start: true
      requires: [db]

  - name: api
    kind: process.service
    process: tier
    host: processes
    input: [api]
    lifecycle:
      auto_start: true
      requires: [cache]

  - name: crasher
    kind: process.service
    process: crasher_proc
    host: processes
    lifecycle:
      auto_start: true
      restart: {initial_delay: 20ms, backoff_factor: 2.0, max_delay: 100ms, max_attempts: 3}

  - name: idle
    kind: process.service
    process: tier
    host: processes
    input: [idle]
"""


def write_project(root: Path, index: str, sources: dict[str, str]) -> Path:
    src = root / "src"
    src.mkdir(parents=True, exist_ok=True)
    (root / "wippy.lock").write_text("directories:\n  modules: .wippy\n  src: ./src\n")
    (src / "_index.yaml").write_text(textwrap.dedent(index).lstrip())
    for name, text in sources.items():
        (src / name).write_text(text)
    return root


def chain_project(root: Path) -> Path:
    return write_project(root, CHAIN_INDEX, {"tier.lua": TIER, "crasher.lua": CRASHER})
