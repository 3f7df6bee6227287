"""funcs.call round trip from a Lua process (issue 6 target: <= 20 us).

Builds a small project in a temporary directory and runs it with `wippy run -x`: a
process calls a one-line function.lua entry N times and prints the mean time per call,
measured inside Lua. Median of three runs.

    python bench/bench_funcs.py [N]
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
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, funcs, time]}
  - {name: add, kind: function.lua, source: file://add.lua, method: main}
"""

MAIN = """return {main = function(n)
  n = tonumber(n)
  local t0 = time.now()
  local s = 0
  for i = 1, n do s = s + funcs.call("b:add", i, 1) end
  io.print(string.format("%.3f", time.now():sub(t0):microseconds() / n))
  return 0
end}
"""


def main() -> None:
    n = sys.argv[1] if len(sys.argv) > 1 else "20000"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "src").mkdir()
        (root / "wippy.lock").write_text("directories:\n  src: ./src\n")
        (root / "src" / "_index.yaml").write_text(INDEX)
        (root / "src" / "main.lua").write_text(MAIN)
        (root / "src" / "add.lua").write_text("return {main = function(a, b) return a + b end}\n")
        runs = []
        for _ in range(3):
            out = subprocess.run([WIPPY, "run", "-x", "b:main", "--arg", n], cwd=root, capture_output=True,
                                 text=True, check=True).stdout
            runs.append(float(re.findall(r"[\d.]+", out)[0]))
    print(f"funcs.call round trip (median of 3, {n} calls each): {statistics.median(runs):.2f} us")


if __name__ == "__main__":
    main()
