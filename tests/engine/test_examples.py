"""The example apps under examples/, run through the installed `wippy` command.

Each test runs one app exactly as its README says (``wippy run -x ns:entry DIR``) and
compares its whole output. PIDs and timings differ between runs, so those lines are
matched by pattern; everything else is compared literally.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PID = r"\{([^{}|@]+@)?app:(terminal|processes)\|[^{}|]+\}"


def wippy_command() -> list[str]:
    exe = shutil.which("wippy", path=str(Path(sys.executable).parent)) or shutil.which("wippy")
    if exe:
        return [exe]
    return [sys.executable, "-m", "wippy"]


def run_example(name: str, entry: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run(
        [*wippy_command(), "run", "-x", entry, f"examples/{name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def match_lines(out: str, patterns: list[str]) -> None:
    lines = out.splitlines()
    assert len(lines) == len(patterns), out
    for line, pattern in zip(lines, patterns, strict=True):
        assert re.fullmatch(pattern, line), f"{line!r} does not match {pattern!r}\n{out}"


def lit(text: str) -> str:
    return re.escape(text)


def test_every_example_has_a_readme_lock_and_index():
    names = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    assert names == ["hello", "key-value", "mass-spawn", "pipeline", "supervisor", "worker-pool"]
    for name in names:
        app = EXAMPLES / name
        assert (app / "wippy.lock").read_text() == "directories:\n  modules: .wippy\n  src: ./src\n"
        assert (app / "src" / "_index.yaml").is_file()
        assert "wippy run -x " in (app / "README.md").read_text()


def test_hello_matches_the_quick_start():
    readme = (ROOT / "README.md").read_text()
    assert "wippy run -x app:hello examples/hello" in readme
    r = run_example("hello", "app:hello")
    assert r.returncode == 0, r.stderr
    match_lines(
        r.stdout,
        [
            lit("Hello, Wippy!"),
            r"I am process " + PID + lit(", running on the terminal host."),
        ],
    )
    assert "app:terminal|" in r.stdout
    assert r.stderr == ""


def test_supervisor_restarts_the_worker_until_the_budget_is_spent():
    r = run_example("supervisor", "app:supervisor")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "started worker #1\n"
        'word 1: "wippy" -> "WIPPY"\n'
        "word 2: worker #1 crashed: shouter #1 cannot shout an empty word\n"
        "started worker #2\n"
        'word 3: "actors" -> "ACTORS"\n'
        'word 4: "links" -> "LINKS"\n'
        "word 5: worker #2 crashed: shouter #2 cannot shout an empty word\n"
        "started worker #3\n"
        'word 6: "done" -> "DONE"\n'
        "word 7: worker #3 crashed: shouter #3 cannot shout an empty word\n"
        "restart budget used up\n"
        "4 words shouted, 3 lost, 2 restarts\n"
    )
    # the supervisor traps the links, so no crash is reported as its own failure
    assert "linked process failed" not in r.stderr


def test_worker_pool_counts_primes():
    r = run_example("worker-pool", "app:dispatcher")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "4 workers, 8 jobs of 2000 numbers\n"
        "job 1:     1.. 2000 has 303 primes\n"
        "job 2:  2001.. 4000 has 247 primes\n"
        "job 3:  4001.. 6000 has 233 primes\n"
        "job 4:  6001.. 8000 has 224 primes\n"
        "job 5:  8001..10000 has 222 primes\n"
        "job 6: 10001..12000 has 209 primes\n"
        "job 7: 12001..14000 has 214 primes\n"
        "job 8: 14001..16000 has 210 primes\n"
        "8 results, 1862 primes below 16001\n"
    )


def test_pipeline_counts_words_through_three_stages():
    r = run_example("pipeline", "app:wordcount")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "fed 4 lines into tokenize -> drop_stopwords -> tally\n"
        "words: 46 read, 23 kept, 9 distinct\n"
        "1. river  6\n"
        "2. rain   4\n"
        "3. road   4\n"
        "4. stone  3\n"
        "5. bends  2\n"
    )


def test_key_value_store_by_name():
    r = run_example("key-value", "app:main")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        'store is up as "kv": true\n'
        "ann: put ann.city -> created\n"
        "ann: incr ann.visits -> 1\n"
        "ann: incr ann.visits -> 11\n"
        "ann: get ann.city -> Lisbon\n"
        "ann: swap ann.city -> error: unknown op swap\n"
        "ben: put ben.lang -> created\n"
        "ben: get ben.missing -> nil\n"
        "ben: put ben.tmp -> created\n"
        "ben: put ben.tmp -> replaced\n"
        "ben: del ben.tmp -> true\n"
        "ben: del ben.tmp -> false\n"
        "keys: ann.city, ann.visits, ben.lang\n"
        "store served 13 requests\n"
        'after exit the name "kv" is free: true\n'
    )


def test_mass_spawn_ten_thousand():
    r = run_example("mass-spawn", "app:swarm")
    assert r.returncode == 0, r.stderr
    match_lines(
        r.stdout,
        [
            lit("spawned 10000 processes with 10000 distinct PIDs"),
            lit("10000 of 10000 answered from their own PID"),
            lit("sum of squares 1..10000 = 333383335000 (expected 333383335000)"),
            r"took \d+ ms \(\d+\.\d us per process\)",
        ],
    )


def test_every_example_passes_lint():
    names = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    for name in names:
        r = subprocess.run(
            [*wippy_command(), "lint", f"examples/{name}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, (name, r.stdout, r.stderr)
        assert "ok: " in r.stdout + r.stderr, (name, r.stdout, r.stderr)
