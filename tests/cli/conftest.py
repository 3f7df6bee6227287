"""A real project on disk and a way to run the installed `wippy` on it (subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "wippy"
WIPPY = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wippy"]
LOCK = "directories:\n  modules: .wippy\n  src: ./src\n"

APP_INDEX = """\
version: "1.0"
namespace: app

entries:
  - name: terminal
    kind: terminal.host
    lifecycle: {auto_start: true}

  - name: term2
    kind: terminal.host

  - name: greet
    kind: process.lua
    meta:
      comment: Greets the person named on the command line
      command: {name: greet, short: Greet someone by name}
    source: file://greet.lua
    method: main
    modules: [io]

  - name: code
    kind: process.lua
    meta:
      command: {name: code, short: Exit with a code chosen by the argument}
    source: file://code.lua
    method: main
    modules: [io]

  - name: hello
    kind: process.lua
    meta: {comment: Prints hello, tags: [demo, greeting], level: 3}
    source: file://hello.lua
    method: main
    modules: [io]
"""

API_INDEX = """\
version: "1.0"
namespace: api

entries:
  - name: get_user
    kind: function.lua
    meta: {comment: Fetch one user, tags: [users, read]}
    source: file://fn.lua
    method: handler

  - name: list_users
    kind: function.lua
    meta: {comment: List users, tags: [users]}
    source: file://fn.lua
    method: handler
"""

GREET = """\
local io = require("io")

local function main(...)
    local args = io.args()
    local words = {}
    for i, word in ipairs(args) do
        words[i] = word
    end
    local name = ... or "stranger"
    io.print("Hello, " .. name .. "!")
    io.print("command-line arguments: " .. #words .. " (" .. table.concat(words, ", ") .. ")")
    return 0
end

return { main = main }
"""

CODE = """\
local function main(what)
    if what == "int" then return 7 end
    if what == "float" then return 3.9 end
    if what == "true" then return true end
    if what == "false" then return false end
    if what == "error" then error("boom from lua") end
    if what == "errval" then return nil, "bad thing" end
    return nil
end

return { main = main }
"""

HELLO = """\
local io = require("io")

local function main()
    io.print("hello")
    return 0
end

local function other()
    io.print("other method")
    return 5
end

return { main = main, other = other }
"""

FN = """\
local function handler()
    return 1
end

return { handler = handler }
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def make_app(root: Path) -> Path:
    """A project with two namespaces, two terminal hosts and two commands."""
    return write(
        root,
        {
            "wippy.lock": LOCK,
            "src/_index.yaml": APP_INDEX,
            "src/greet.lua": GREET,
            "src/code.lua": CODE,
            "src/hello.lua": HELLO,
            "src/api/_index.yaml": API_INDEX,
            "src/api/fn.lua": FN,
        },
    )


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return make_app(tmp_path / "app")


def wippy(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `wippy` as a user would."""
    full_env = dict(os.environ)
    full_env.pop("WIPPY_DEBUG", None)
    full_env.update(env or {})
    return subprocess.run([*WIPPY, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=full_env)


def wippy_many(calls: Sequence[Sequence[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Run several independent invocations at once (the tests are mostly waiting)."""
    with ThreadPoolExecutor(max_workers=12) as pool:
        return list(pool.map(lambda argv: wippy(*argv, cwd=cwd), calls))
