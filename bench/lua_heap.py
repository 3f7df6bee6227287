"""Diagnostic: Lua heap per idle process, read with collectgarbage("count") in every shard.

    python bench/lua_heap.py [N]

Runs the idle benchmark of bench/engine (N children blocked on their inbox, default
20,000) inside this Python process, and sums collectgarbage("count") over the shards of
the process hosts before and after the children exist: as found, and after two full
collections (the live size). The terminal host is skipped: its worker is blocked in
io.readline (which holds that shard) while the figures are taken. Shards make their Lua
state when first used, so "before" is 0 and the figure includes each used shard's own
heap (about 1 MB): the per-process figure is the difference between two sizes, e.g.
(live at 40,000 - live at 10,000) / 30,000.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    read_end, write_end = os.pipe()
    os.dup2(read_end, 0)
    sys.stdin = os.fdopen(0, "r")

    from wippy import cli
    from wippy import runtime as rtm
    from wippy.runtime_options import RunOptions

    box: dict = {}
    original = rtm.Runtime.__init__

    def capture(self: rtm.Runtime, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        box["rt"] = self

    rtm.Runtime.__init__ = capture  # type: ignore[method-assign]

    def heap_kib() -> tuple[float, float]:
        found = live = 0.0
        for sched in box["rt"].node.hosts.values():
            if sched.terminal:
                continue
            for shard in sched.shards:
                if not shard.built:  # (a shard makes its Lua state at its first batch)
                    continue
                gc = shard.runtime.eval("collectgarbage")
                found += gc(b"count")
                gc(b"collect")
                gc(b"collect")
                live += gc(b"count")
        return found, live

    def watcher() -> None:
        while "rt" not in box or not box["rt"].node.procs:
            time.sleep(0.05)
        time.sleep(1.0)
        before = heap_kib()
        os.write(write_end, b"\n")
        while len(box["rt"].node.procs) < n + 1:
            time.sleep(0.1)
        time.sleep(1.0)
        after = heap_kib()
        sys.stderr.write(
            f"Lua heap of the process hosts, KiB: before {before[0]:.0f} (live {before[1]:.0f}), "
            f"with {n:,} idle processes {after[0]:.0f} (live {after[1]:.0f})\n"
            f"per idle process: {(after[0] - before[0]) / n:.3f} KiB as found, "
            f"{(after[1] - before[1]) / n:.3f} KiB live\n"
        )
        os.write(write_end, b"\n")

    threading.Thread(target=watcher, daemon=True).start()
    project, problems = cli._load(HERE / "engine", {})
    if project is None:
        for p in problems:
            print(p, file=sys.stderr)
        return 2
    return rtm.run(project, RunOptions(command="bench", args=["idle", str(n)], silent=True))


if __name__ == "__main__":
    sys.exit(main())
