"""Small real projects run through the installed `wippy run -x` (as a user would)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "wippy"
WIPPY = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wippy"]

HEADER = """version: "1.0"
namespace: app
entries:
  - name: processes
    kind: process.host
    lifecycle: {auto_start: true}
  - name: terminal
    kind: terminal.host
    lifecycle: {auto_start: true}
"""


def make_project(root: Path, entries_yaml: str, files: dict[str, str]) -> Path:
    """A project in ``root``: wippy.lock, src/_index.yaml (hosts + ``entries_yaml``) and files."""
    src = root / "src"
    src.mkdir(parents=True, exist_ok=True)
    (root / "wippy.lock").write_text("directories:\n  modules: .wippy\n  src: ./src\n")
    (src / "_index.yaml").write_text(HEADER + entries_yaml)
    for name, text in files.items():
        (src / name).write_text(text)
    return root


def run_x(root: Path, entry: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WIPPY, "run", "-x", entry], cwd=root, capture_output=True, text=True, timeout=timeout
    )


def run_many(root: Path, entries: list[str], timeout: float = 45) -> dict[str, tuple[int, str, str]]:
    """Run several ``wippy run -x`` at once; ``{entry: (rc, stdout, stderr)}``."""
    procs = {
        entry: subprocess.Popen(
            [*WIPPY, "run", "-x", entry], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for entry in entries
    }
    results: dict[str, tuple[int, str, str]] = {}
    for entry, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += "\n(timed out)"
        results[entry] = (proc.returncode, out, err)
    return results
