"""A function entry's `pool:` bounds how many of its calls run at once (issue 6)."""

from __future__ import annotations

import pytest

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
def test_pool_bounds_concurrent_calls(project, pool: str, peak: int) -> None:
    app = project({"_index.yaml": INDEX.replace("POOL", pool), "counted.lua": COUNTED, "main.lua": MAIN})
    r = app.run("t:main", timeout=60)
    assert (r.rc, r.out, r.err) == (0, f"peak\t{peak}\n", "")
