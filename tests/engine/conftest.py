"""Shared fixture of the engine tests: small Wippy projects run through `wippy`.

A test writes a project (``wippy.lock``, ``src/_index.yaml`` and Lua files) into its
``tmp_path`` and runs one entry with ``wippy run -x ns:entry DIR`` in a subprocess,
exactly as a user would. Output is compared exactly, so every test can fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

LOCK = "directories:\n  modules: .wippy\n  src: ./src\n"


def wippy_command() -> list[str]:
    exe = shutil.which("wippy", path=str(Path(sys.executable).parent)) or shutil.which("wippy")
    return [exe] if exe else [sys.executable, "-m", "wippy"]


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


class Project:
    """A project directory under tmp_path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, files: dict[str, str]) -> Project:
        (self.root / "wippy.lock").write_text(LOCK)
        for name, text in files.items():
            path = self.root / "src" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        return self

    def run(self, entry: str, timeout: float = 30, args: tuple[str, ...] = ()) -> Result:
        return self.run_many([entry], timeout=timeout, args=args)[entry]

    def run_many(self, entries: list[str], timeout: float = 30, parallel: int = 4,
                 args: tuple[str, ...] = ()) -> dict[str, Result]:
        """Run several entries of this project, a few at a time (each is its own `wippy`)."""
        extra = [word for arg in args for word in ("--arg", arg)]

        def one(entry: str) -> Result:
            proc = subprocess.run(
                [*wippy_command(), "run", "-x", entry, *extra, str(self.root)],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=dict(os.environ, NO_COLOR="1"),
            )
            return Result(proc.returncode, proc.stdout, proc.stderr)

        if len(entries) == 1:
            return {entries[0]: one(entries[0])}
        # the first run compiles the sources into the project's cache; the rest reuse it
        results = {entries[0]: one(entries[0])}
        with ThreadPoolExecutor(parallel) as pool:
            results.update(zip(entries[1:], pool.map(one, entries[1:]), strict=True))
        return results


@pytest.fixture
def project(tmp_path: Path):
    def make(files: dict[str, str]) -> Project:
        return Project(tmp_path).write(files)

    return make
