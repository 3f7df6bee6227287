"""Lua processes and receivers on the Python side, through the relay (issue 8).

A receiver attached on the control host (`node:control`) gets what Lua processes send
to its PID, in each sender's order, while a tiny mailbox buffer and a slow receiver force
back-pressure (the Lua senders are suspended, not failed); it answers through the node
and the Lua processes receive the replies.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import trio

from wippy.config import load_config
from wippy.project import find_project, load_project
from wippy.relay import Package
from wippy.runtime import Runtime
from wippy.runtime_options import RunOptions

INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: processes, kind: process.host, host: {workers: 2, shards: 2}}
  - {name: sender, kind: process.lua, source: file://sender.lua, method: main}
"""

SENDER = """
local function main(receiver: string, index: integer, count: integer)
    for i = 1, count do
        local ok, err = process.send(receiver, "item", index, i)
        if not ok then error("send failed: " .. tostring(err)) end
    end
    local reply = process.inbox():receive()
    process.send(receiver, "done", index, reply:payload():data())
end
return { main = main }
"""


def make_project(root: Path) -> Runtime:
    (root / "src").mkdir()
    (root / "wippy.lock").write_text("directories:\n  src: ./src\n")
    (root / ".wippy.yaml").write_text("supervisor:\n  host:\n    buffer_size: 2\n    worker_count: 2\n")
    (root / "src" / "_index.yaml").write_text(textwrap.dedent(INDEX))
    (root / "src" / "sender.lua").write_text(textwrap.dedent(SENDER))
    paths = find_project(root)
    project = load_project(paths, load_config(root))
    return Runtime(project, RunOptions())


async def test_lua_senders_reach_a_python_receiver_in_order_under_back_pressure(tmp_path: Path) -> None:
    runtime = make_project(tmp_path)
    senders, count = 6, 200
    seen: dict[int, list[int]] = {i: [] for i in range(1, senders + 1)}
    done: dict[int, str] = {}
    finished = trio.Event()
    async with trio.open_nursery() as nursery:
        assert await runtime.boot(nursery) == []
        me = runtime.control_pid()

        async def receive(pkg: Package) -> None:
            await trio.sleep(0)  # a slow receiver: the 2-slot queues fill up
            for message in pkg.messages:
                index, value = message.payloads
                if message.topic == "item":
                    seen[index].append(value)
                    if len(seen[index]) == count:
                        runtime.node.send(me, pkg.source, "reply", f"got {count}")
                else:
                    done[index] = value
                    if len(done) == senders:
                        finished.set()

        runtime.control.attach(me, receive)
        for index in range(1, senders + 1):
            runtime.node.spawn("t:sender", "t:processes", [me, index, count])
        with trio.fail_after(30):
            await finished.wait()
        await runtime.shutdown()
        nursery.cancel_scope.cancel()
    runtime.stop()
    assert runtime.node.suspended_sends > 0  # the senders really were held back
    assert all(values == list(range(1, count + 1)) for values in seen.values())
    assert done == {i: f"got {count}" for i in range(1, senders + 1)}


async def test_a_pid_on_an_unknown_host_is_refused(tmp_path: Path) -> None:
    runtime = make_project(tmp_path)
    async with trio.open_nursery() as nursery:
        assert await runtime.boot(nursery) == []
        result = runtime.node.post_from_lua(b"{t:processes|0x00001}", b"{nowhere|0x00009}", b"x", 1,
                                            b"\x81\xa1n\x00", 1)
        dead = runtime.node.post_from_lua(b"{t:processes|0x00001}", b"{t:processes|0x00777}", b"x", 1,
                                          b"\x81\xa1n\x00", 1)
        await runtime.shutdown()
        nursery.cancel_scope.cancel()
    runtime.stop()
    assert result == (None, b"NotFound", b"host not found")
    assert dead == (None, b"NotFound", b"process not found")
