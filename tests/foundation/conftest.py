from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

LOCK = "directories:\n  modules: .wippy\n  src: ./src\n"


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project from {relative path: text}; adds a wippy.lock unless lock=False."""

    def make(files: dict[str, str], lock: bool = True) -> Path:
        if lock:
            files = {"wippy.lock": LOCK, **files}
        for rel, text in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return tmp_path

    return make
