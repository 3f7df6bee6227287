"""RSS of N idle processes alive at once (PERFORMANCE.md: 1,000,000 under 4 GiB).

Runs the idle benchmark of bench/engine (N children, each blocked on its inbox after
reporting) with the READY handshake of bench/run, and reads VmRSS of the wippy process
before the children exist and after. Needs about 4.2 KiB per process of free memory and
about a minute per million here; not part of `bench/run`.

    python bench/million_idle.py [N]        (default 1,000,000)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# the wippy of this interpreter's venv, else the one on PATH
_BESIDE = Path(sys.executable).parent / "wippy"
WIPPY = str(_BESIDE) if _BESIDE.exists() else (shutil.which("wippy") or "wippy")


def vmrss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    proc = subprocess.Popen([WIPPY, "run", "bench/engine", "bench", "idle", str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdin is not None and proc.stdout is not None
    rss: dict[str, int] = {}
    start = time.monotonic()
    for line in proc.stdout:
        if line.startswith("READY "):
            rss[line.split()[1]] = vmrss_kib(proc.pid)
            proc.stdin.write("\n")
            proc.stdin.flush()
    proc.wait()
    before, after = rss["before"], rss["after"]
    print(f"N={n:,}: VmRSS {before:,} -> {after:,} KiB; {(after - before) / n:.3f} KiB per idle process; "
          f"{after / 2**20:.2f} GiB in all; {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
