"""Cost of the preemption safepoints on CPU-bound Lua (issue 10).

Compiles three CPU-bound workloads with the typed-Lua compiler, then runs each in a
plain Lua 5.4 state twice: as compiled (a counter decrement at every loop back-edge,
`__wpre()` every 1000) and with the safepoints stripped. Prints the median of five runs
of each, side by side, and the ratio.

    python bench/bench_preempt.py
"""

from __future__ import annotations

import statistics
import time

import lupa.lua54 as lupa

from wippy.lua.compiler import compile_source
from wippy.lua.compiler.parser import BUDGET, SAFEPOINT

WORKLOADS = {
    "numeric loop": """
local function main(n: integer): integer
    local s = 0
    for i = 1, n do s = s + i % 7 end
    return s
end
return main
""",
    "table work": """
local function main(n: integer): integer
    local t = {}
    for i = 1, 200 do t[i] = i end
    local s = 0
    for _ = 1, n // 200 do
        for i = 1, #t do s = s + t[i] * 2 end
        local x = {a = 1}
        s = s + x.a
    end
    return s
end
return main
""",
    "recursion + loops": """
local function fib(k: integer): integer
    if k < 2 then return k end
    return fib(k - 1) + fib(k - 2)
end
local function main(n: integer): integer
    local s = 0
    local i = 0
    while i < n // 100000 do s = s + fib(18) i = i + 1 end
    return s
end
return main
""",
}

N = 10_000_000


def loader(code: str):
    rt = lupa.LuaRuntime()
    rt.execute("__wpre = function() return 1000 end")
    return rt.execute(code)


def timed(fn) -> float:
    start = time.perf_counter()
    fn(N)
    return time.perf_counter() - start


def main() -> None:
    """Runs alternate (off, on, off, on, ...) so that machine noise hits both alike."""
    print(f"{'workload':<20} {'no safepoints':>14} {'safepoints':>12} {'ratio (median of pairs)':>24}")
    for name, src in WORKLOADS.items():
        code = compile_source(src, "bench").code
        stripped = code.replace(SAFEPOINT, "").replace(BUDGET, "").replace("local __wb = 1000;", "")
        off, on = loader(stripped), loader(code)
        offs, ons = [], []
        for _ in range(7):
            offs.append(timed(off))
            ons.append(timed(on))
        ratio = statistics.median(b / a for a, b in zip(offs, ons, strict=True))
        print(f"{name:<20} {statistics.median(offs) * 1000:>11.0f} ms {statistics.median(ons) * 1000:>9.0f} ms"
              f" {ratio:>23.2f}x")


if __name__ == "__main__":
    main()
