"""Lua process -> control host -> Lua process round trips per second (issue 8).

A receiver attached on the control host (`node:control`) answers every message of a Lua
process through the node; the Lua process sends the next message when the answer
arrives. Beside it, in the same run: a ping-pong between two trio tasks over memory
channels (the baseline the relay is built on). Median of three runs of each.

    python bench/bench_control_roundtrip.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import trio

from wippy.config import load_config
from wippy.project import find_project, load_project
from wippy.relay import Package
from wippy.runtime import Runtime
from wippy.runtime_options import RunOptions

INDEX = """
version: "1.0"
namespace: b
entries:
  - {name: processes, kind: process.host, host: {workers: 1}}
  - {name: pinger, kind: process.lua, source: file://pinger.lua, method: main}
"""

PINGER = """
local function main(control, n)
    local inbox = process.inbox()
    for i = 1, n do
        process.send(control, "ping", i)
        inbox:receive()
    end
    process.send(control, "done", n)
end
return { main = main }
"""


async def lua_round_trips(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "src").mkdir()
        (root / "wippy.lock").write_text("directories:\n  src: ./src\n")
        (root / "src" / "_index.yaml").write_text(textwrap.dedent(INDEX))
        (root / "src" / "pinger.lua").write_text(textwrap.dedent(PINGER))
        runtime = Runtime(load_project(find_project(root), load_config(root)), RunOptions())
        finished = trio.Event()
        async with trio.open_nursery() as nursery:
            assert await runtime.boot(nursery) == []
            me = runtime.control_pid()

            async def answer(pkg: Package) -> None:
                for message in pkg.messages:
                    if message.topic == "done":
                        finished.set()
                    else:
                        runtime.node.send(me, pkg.source, "pong", message.payloads[0])

            runtime.control.attach(me, answer)
            start = time.perf_counter()
            runtime.node.spawn("b:pinger", "b:processes", [me, n])
            await finished.wait()
            elapsed = time.perf_counter() - start
            await runtime.shutdown()
            nursery.cancel_scope.cancel()
        runtime.stop()
    return n / elapsed


async def trio_round_trips(n: int) -> float:
    to_b, b_in = trio.open_memory_channel(1)
    to_a, a_in = trio.open_memory_channel(1)

    async def echo() -> None:
        async for v in b_in:
            await to_a.send(v)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(echo)
        start = time.perf_counter()
        for i in range(n):
            await to_b.send(i)
            await a_in.receive()
        elapsed = time.perf_counter() - start
        nursery.cancel_scope.cancel()
    return n / elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    lua = [trio.run(lua_round_trips, n) for _ in range(3)]
    base = [trio.run(trio_round_trips, n) for _ in range(3)]
    print(f"{'round trips/s (median of 3)':<44} {'value':>10}")
    print(f"{'Lua process -> node:control -> Lua process':<44} {statistics.median(lua):>10,.0f}")
    print(f"{'trio task <-> trio task (memory channels)':<44} {statistics.median(base):>10,.0f}")


if __name__ == "__main__":
    main()
