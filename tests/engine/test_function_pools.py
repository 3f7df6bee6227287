"""A function entry's `pool:` bounds how many of its calls run at once (issue 6)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

WIPPY = str(Path(sys.executable).parent / "wippy") if (Path(sys.executable).parent / "wippy").exists() \
    else shutil.which("wippy") or "wippy"

INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, funcs]}
  - name: counted
    kind: function.lua
    source: file://counted.lua
    method: main
    modules: [time]
    POOL
"""

# module-level locals live as long as the function's instance in the shard: they count
# the calls running at the same moment
COUNTED = """
local active, peak = 0, 0
return { main = function()
    active = active + 1
    if active > peak then peak = active end
    time.sleep("30ms")
    active = active - 1
    return peak
end }
"""

MAIN = """
return { main = function()
    local futures = {}
    for i = 1, 6 do futures[i] = funcs.async("t:counted") end
    local peak = 0
    for _, f in ipairs(futures) do
        local p = f:response():receive()
        if p:data() > peak then peak = p:data() end
    end
    io.print("peak", peak)
    return 0
end }
"""


@pytest.mark.parametrize(
    "pool,peak",
    [
        ("pool: {type: static, workers: 2}", 2),
        ("pool: {type: inline}", 1),
        ("pool: {type: lazy, max_size: 3}", 3),
        ("meta: {}", 6),
    ],
)
def test_pool_bounds_concurrent_calls(tmp_path: Path, pool: str, peak: int) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "wippy.lock").write_text("directories:\n  src: ./src\n")
    (tmp_path / "src" / "_index.yaml").write_text(textwrap.dedent(INDEX).replace("POOL", pool))
    (tmp_path / "src" / "counted.lua").write_text(COUNTED)
    (tmp_path / "src" / "main.lua").write_text(MAIN)
    r = subprocess.run([WIPPY, "run", "-x", "t:main"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, f"peak\t{peak}\n", "")
