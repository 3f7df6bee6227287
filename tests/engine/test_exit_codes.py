"""Exit codes of `wippy run -x`: what main returns or raises becomes the exit status.

An integer is the status; ``true``, ``nil`` or nothing is 0; ``false`` is 1; a returned
error (``nil, err``) or a raised one is 1 with the message on stderr. A raised error
carries the user's position (``ns:entry:line``, the line of the typed source) and
never a Python traceback.
"""

from __future__ import annotations

import pytest

ENTRIES = {
    "seven": "return { main = function(): integer return 7 end }\n",
    "zero": "return { main = function(): integer return 0 end }\n",
    "returns_true": "return { main = function(): boolean return true end }\n",
    "nothing": "return { main = function() end }\n",
    "explicit_nil": "return { main = function() return nil end }\n",
    "returns_false": "return { main = function(): boolean return false end }\n",
    "returned_text": 'return { main = function() return nil, "disk is full" end }\n',
    "returned_object": 'return { main = function() return nil, errors.new("quota exceeded") end }\n',
    "raised": """
        -- typed code: the annotations must not shift the line numbers
        type Order = { id: integer, qty: integer }

        local function check(o: Order): boolean
            if o.qty <= 0 then
                error("order " .. o.id .. " has no items")
            end
            return true
        end

        local function main(): integer
            io.print("checking")
            check({ id = 17, qty = 0 })
            return 0
        end

        return { main = main }
    """,
    "fault": """
        local function lookup(t: {[string]: any}, key: string): any
            local inner = t[key]
            return inner.value
        end

        return { main = function(): integer return lookup({}, "missing") end }
    """,
    "task_raised": """
        local function main(): integer
            local done = channel.new()
            coroutine.spawn(function()
                error("background task failed")
            end)
            done:receive()
            return 0
        end

        return { main = main }
    """,
    "infinite": "return { main = function(): number return math.huge end }\n",
    "not_a_number": "return { main = function(): number return 0/0 end }\n",
    "wraps": "return { main = function(): integer return 258 end }\n",
    "linked_crash": """
        local function main(): integer
            process.spawn_linked("t:raised", "t:procs")
            process.inbox():receive()
            return 0
        end

        return { main = main }
    """,
}


def index() -> str:
    lines = [
        'version: "1.0"',
        "namespace: t",
        "entries:",
        "  - {name: terminal, kind: terminal.host}",
        "  - {name: procs, kind: process.host}",
    ]
    for name in ENTRIES:
        lines.append(
            f"  - {{name: {name}, kind: process.lua, source: file://{name}.lua, method: main, modules: [io]}}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def app(project):
    return project({"_index.yaml": index(), **{f"{name}.lua": src for name, src in ENTRIES.items()}})


EXPECTED = {
    "seven": (7, "", ""),
    "zero": (0, "", ""),
    "returns_true": (0, "", ""),
    "nothing": (0, "", ""),
    "explicit_nil": (0, "", ""),
    "wraps": (2, "", ""),
    "returned_text": (1, "", "disk is full\n"),
    "returned_object": (1, "", "quota exceeded\n"),
    "raised": (1, "checking\n", "t:raised:6: order 17 has no items\n"),
    "fault": (1, "", "t:fault:3: attempt to index a nil value (local 'inner')\n"),
    "task_raised": (1, "", "t:task_raised:4: background task failed\n"),
}


def test_exit_status_and_stderr(app):
    # every entry is its own `wippy run -x`; they run a few at a time
    results = app.run_many([f"t:{name}" for name in EXPECTED])
    got = {name: (r.rc, r.out, r.err) for name, r in ((n, results[f"t:{n}"]) for n in EXPECTED)}
    assert got == EXPECTED


def test_false_is_a_failure_without_a_traceback(app):
    r = app.run("t:returns_false")
    assert (r.rc, r.out) == (1, "")
    assert "Traceback" not in r.err


def test_an_untrapped_linked_crash_fails_the_main_process(app):
    r = app.run("t:linked_crash")
    assert (r.rc, r.out) == (1, "")
    assert r.err == "linked process failed\n"


@pytest.mark.parametrize("entry", ["infinite", "not_a_number"])
def test_a_non_finite_number_is_not_an_internal_error(app, entry):
    r = app.run(f"t:{entry}")
    assert r.out == ""
    assert r.rc in (0, 1)
    assert "Trio" not in r.err and "exception" not in r.err.lower()
