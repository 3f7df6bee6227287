"""What preemption costs and what it buys (issue 10).

1. Ping-pong round trips/s between two processes of one shard, compiled with safepoints
   (the default) and without (`lua.preempt: false` in .wippy.yaml), alternating runs.
2. The round trip of the same pair while a busy loop shares their shard (with
   safepoints: without them the pair would never run again).
Medians of three runs, each a fresh `wippy run -x`.

    python bench/bench_fairness.py [ROUND_TRIPS]
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WIPPY = str(Path(sys.executable).parent / "wippy") if (Path(sys.executable).parent / "wippy").exists() \
    else shutil.which("wippy") or "wippy"

INDEX = """version: "1.0"
namespace: b
entries:
  - {name: terminal, kind: terminal.host}
  - {name: one, kind: process.host, host: {workers: 1, shards: 1}}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, time]}
  - {name: pair, kind: process.lua, source: file://pair.lua, method: main, modules: [time]}
  - {name: spin, kind: process.lua, source: file://spin.lua, method: main}
"""

PAIR = """return {main = function(parent, n)
  if parent == nil then
    local inbox = process.inbox()
    while true do local m = inbox:receive() process.send(m:from(), "pong", 1) end
  end
  local partner = process.spawn("b:pair", "b:one")
  local inbox = process.inbox()
  process.send(partner, "ping", 0) inbox:receive()
  local t0 = time.now()
  for _ = 1, n do process.send(partner, "ping", 0) inbox:receive() end
  process.send(parent, "us", time.now():sub(t0):microseconds() / n)
  process.terminate(partner)
end}
"""

MAIN = """return {main = function(n, busy)
  if busy == "busy" then process.spawn("b:spin", "b:one") end
  process.spawn("b:pair", "b:one", process.pid(), tonumber(n))
  io.print(string.format("%.3f", process.inbox():receive():payload():data()))
  return 0
end}
"""

SPIN = "return {main = function() local x = 0 while true do x = x + 1 end end}\n"


def project(root: Path, preempt: bool) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "wippy.lock").write_text("directories:\n  src: ./src\n")
    (root / ".wippy.yaml").write_text(f"lua:\n  preempt: {'true' if preempt else 'false'}\n")
    for name, text in {"_index.yaml": INDEX, "main.lua": MAIN, "pair.lua": PAIR, "spin.lua": SPIN}.items():
        (root / "src" / name).write_text(text)
    return root


def round_trip_us(root: Path, n: int, busy: bool = False) -> float:
    args = ["--arg", str(n)] + (["--arg", "busy"] if busy else [])
    out = subprocess.run([WIPPY, "run", "-x", "b:main", *args], cwd=root, capture_output=True, text=True,
                         check=True, timeout=300).stdout
    return float(re.findall(r"[\d.]+", out)[0])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        on, off = project(Path(tmp) / "on", True), project(Path(tmp) / "off", False)
        ons, offs = [], []
        for _ in range(3):
            offs.append(round_trip_us(off, n))
            ons.append(round_trip_us(on, n))
        busy = [round_trip_us(on, 200, busy=True) for _ in range(3)]
    off_us, on_us = statistics.median(offs), statistics.median(ons)
    print(f"{'ping-pong, one shard':<44} {'round trips/s':>14}")
    print(f"{'  without safepoints (lua.preempt: false)':<44} {1e6 / off_us:>14,.0f}")
    print(f"{'  with safepoints (default)':<44} {1e6 / on_us:>14,.0f}   ratio {on_us / off_us:.2f}x")
    print(f"{'round trip beside a busy loop on the shard':<44} {statistics.median(busy) / 1000:>11.2f} ms")


if __name__ == "__main__":
    main()
