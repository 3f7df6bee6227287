"""Every package directory is listed in pyproject, so `pip install .` (not only `-e`) works."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_directory_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapping = config["package-dir"]
    found = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join((package, *rel.parts)) if rel.parts else package)
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"


def test_lua_sources_ship_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "**/*.lua" in config["package-data"]["wippy.lua"]
    assert (ROOT / "lua" / "engine" / "prelude.lua").exists()
