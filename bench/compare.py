"""Two engines side by side: the same benchmarks of bench/engine, alternating runs.

    python bench/compare.py OLD_WIPPY NEW_WIPPY [--rounds 5] [--only pingpong,spawn]

OLD_WIPPY and NEW_WIPPY are `wippy` executables (for example the venv of an older
checkout: `git worktree add /tmp/old REV && python -m venv /tmp/oldvenv &&
/tmp/oldvenv/bin/pip install /tmp/old`). Each round runs both, in alternating order
(old-new, then new-old), so that a machine whose speed drifts treats both alike. Prints
the median of each and the ratio of the medians (> 1: the new one is better).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "engine"

# name -> (command arguments, figure, True when a smaller figure is better)
CASES = {
    "pingpong": (["pingpong", "100000"], "pingpong_rt_s", False),
    "ring": (["ring", "1000", "20"], "ring_msgs_s", False),
    "spawn": (["spawn", "20000"], "spawn_us", True),
    "fanin": (["fanin", "5000", "1"], "fanin_msgs_s", False),
}


def figure(wippy: str, args: list[str], key: str) -> float:
    out = subprocess.run([wippy, "run", str(PROJECT), "bench", *args], capture_output=True, text=True,
                         check=True).stdout
    match = re.search(key + r"=([\d.]+)", out)
    if match is None:
        raise SystemExit(f"{wippy}: no {key} in {out!r}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(CASES))
    opts = parser.parse_args()
    for name in opts.only.split(","):
        args, key, smaller_better = CASES[name]
        runs: dict[str, list[float]] = {"old": [], "new": []}
        for r in range(opts.rounds):
            order = ("old", "new") if r % 2 == 0 else ("new", "old")
            for tag in order:
                runs[tag].append(figure(getattr(opts, tag), args, key))
        old, new = statistics.median(runs["old"]), statistics.median(runs["new"])
        ratio = old / new if smaller_better else new / old
        print(f"{name:9s} old {old:10.1f}  new {new:10.1f}  x{ratio:.2f}   "
              f"old runs {[round(x, 1) for x in runs['old']]}  new runs {[round(x, 1) for x in runs['new']]}")


if __name__ == "__main__":
    main()
