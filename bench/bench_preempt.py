"""Cost of the preemption safepoints on CPU-bound Lua (issue 10).

Compiles CPU-bound workloads with the typed-Lua compiler twice, with preemption (numeric
`for` loops run in chunks of 1000 iterations, other loops decrement a counter at every
back-edge; both reach `__wpre()`, which reads the clock as the engine's does, every
1000 iterations) and without (`lua: {preempt: false}`), and runs both in plain Lua 5.4
states. Prints the median of seven alternating runs of each and the median ratio.

    python bench/bench_preempt.py
"""

from __future__ import annotations

import statistics
import time

import lupa.lua54 as lupa

from wippy.lua.compiler import compile_source
from wippy.lua.engine.shard import forloop_source

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
    "while loop": """
local function main(n: integer): integer
    local s, i = 0, 0
    while i < n do s = s + i % 7 i = i + 1 end
    return s
end
return main
""",
    "float loop": """
local function main(n: integer): integer
    local s = 0.0
    for x = 0.5, n / 4, 0.5 do s = s + x end
    return math.floor(s) % 1000
end
return main
""",
    "pairs loop": """
local function main(n: integer): integer
    local t = {}
    for i = 1, 100 do t["k" .. i] = i end
    local s = 0
    for _ = 1, n // 1000 do
        for _, v in pairs(t) do s = s + v end
    end
    return s
end
return main
""",
    "calls in a loop": """
local function add(a: integer, b: integer): integer
    return a + b % 7
end
local function main(n: integer): integer
    local s = 0
    for i = 1, n // 4 do s = add(s, i) end
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
    g = rt.globals()
    g["mono"] = time.monotonic  # the engine's safepoint reads the clock through Python too
    rt.execute("__wpre = function() mono() return 1000 end __wcat = function(...) return table.concat({...}) end")
    g["__wfor"] = rt.execute(forloop_source(), g["__wpre"])
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
        stripped = compile_source(src, "bench", preempt=False).code
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
