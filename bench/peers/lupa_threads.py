"""Bare-lupa peer of the CPU benchmark: the floor of what two workers can give.

    python bench/peers/lupa_threads.py cpu N

Two LuaRuntime objects run the same integer loop as the Wippy child (N iterations each):
first one after the other on one thread, then on two Python threads at once (lupa
releases the GIL while Lua runs). Prints "RESULT cpu1_s=... cpu2_s=... cpu_ratio=...
cores1=... cores2=..." like bench/engine.
"""

from __future__ import annotations

import sys
import threading
import time

import lupa.lua54 as lupa

LOOP = """function(n)
  local acc = 0
  for i = 1, n do acc = (acc + i * i) % 1000003 end
  return acc
end"""


def pair(n: int, threaded: bool) -> tuple[float, float]:
    funcs = [lupa.LuaRuntime().eval(LOOP) for _ in range(2)]
    t0, c0 = time.perf_counter(), time.process_time()
    if threaded:
        threads = [threading.Thread(target=f, args=(n,)) for f in funcs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for f in funcs:
            f(n)
    wall = time.perf_counter() - t0
    return wall, (time.process_time() - c0) / wall


def main() -> None:
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    pair(1000, False)
    t1, cores1 = pair(n, False)
    t2, cores2 = pair(n, True)
    print(
        f"RESULT cpu1_s={t1:.4f} cpu2_s={t2:.4f} cpu_ratio={t1 / t2:.3f} cores1={cores1:.2f} cores2={cores2:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
