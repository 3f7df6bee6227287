from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

LOCK = "directories:\n  modules: .wippy\n  src: ./src\n"
HOSTS = """version: "1.0"
namespace: test
entries:
  - name: processes
    kind: process.host
    host: {workers: 2}
    lifecycle: {auto_start: true}
  - name: terminal
    kind: terminal.host
    lifecycle: {auto_start: true}
"""


def wippy_command() -> list[str]:
    exe = Path(sys.executable).parent / "wippy"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("wippy")
    return [found] if found else [sys.executable, "-m", "wippy"]


@pytest.fixture
def run_project(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Write a project (extra entries YAML + Lua files under src/) and run one entry with -x."""

    def run(
        entries: str, files: dict[str, str], target: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        (tmp_path / "src").mkdir(exist_ok=True)
        (tmp_path / "wippy.lock").write_text(LOCK)
        (tmp_path / "src" / "_index.yaml").write_text(HOSTS + entries)
        for name, text in files.items():
            (tmp_path / "src" / name).write_text(text)
        return subprocess.run(
            [*wippy_command(), "run", "-x", target],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **(env or {})},
        )

    return run
