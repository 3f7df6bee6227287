"""Run the conformance scripts of the data/time modules under the stub harness."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from wippy.lua.modules import discover

from .harness import load, run_script

SUITES = Path("/work/shared/conformance/suites")
MODULE_PREFIXES = ("json_", "yaml_", "base64_", "uuid_", "hash_")
MINE = ("json", "yaml", "base64", "uuid", "hash", "time")


def _cases() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for suite in ("modules", "time"):
        index = SUITES / suite / "src" / "_index.yaml"
        if not index.exists():
            continue
        doc = yaml.safe_load(index.read_text())
        for entry in doc["entries"]:
            meta = entry.get("meta") or {}
            if meta.get("type") != "test":
                continue
            name = entry["name"]
            if suite == "modules" and not name.startswith(MODULE_PREFIXES):
                continue
            found.append((suite, name))
    return found


CASES = _cases()


@pytest.mark.skipif(not CASES, reason="conformance suites not available")
@pytest.mark.parametrize(("suite", "name"), CASES, ids=[f"{s}/{n}" for s, n in CASES])
def test_conformance_script(suite: str, name: str) -> None:
    doc = yaml.safe_load((SUITES / suite / "src" / "_index.yaml").read_text())
    entry = next(e for e in doc["entries"] if e["name"] == name)
    source = (SUITES / suite / "src" / entry["source"].removeprefix("file://")).read_text()
    specs = discover()
    h = load(*(specs[m] for m in MINE if m in specs))
    out = run_script(h, source)
    expect = entry["meta"]["expect"]
    if "stdout" in expect:
        path = SUITES / suite / "src" / expect["stdout"]
        if not path.exists():
            path = SUITES / suite / expect["stdout"]
        want = path.read_text()
        assert out == want
    for pattern in expect.get("stdout_re", []):
        assert any(re.search(pattern, line) for line in out.splitlines()), out
