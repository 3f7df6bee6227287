"""The conformance target: every case of ../shared/conformance run against our `wippy`.

The whole set runs once per test session (in parallel jobs); each suite and the apps
group then become one check here, so a regression names its area. A case that fails is
run once more on its own before it counts, because the machine this runs on is shared
and a few cases measure wall-clock timers. The score is printed at the end of the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT.parent / "shared" / "conformance" / "run"
GROUPS = ["syntax", "lua", "process", "channel", "time", "events", "registry", "funcs", "modules", "apps"]

pytestmark = pytest.mark.skipif(not RUNNER.exists(), reason="../shared/conformance is not beside the repository")


def _wippy_command() -> str:
    exe = Path(sys.executable).parent / "wippy"
    if exe.exists():
        return str(exe)
    found = shutil.which("wippy")
    return found or f"{sys.executable} -m wippy"


def _run(args: list[str], out: Path) -> dict:
    cmd = [sys.executable, str(RUNNER), "--wippy", _wippy_command(), "--json", str(out), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)
    if not out.exists():
        raise RuntimeError(f"conformance runner failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def conformance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    work = tmp_path_factory.mktemp("conformance")
    jobs = os.environ.get("WIPPY_CONFORMANCE_JOBS", "4")
    report = _run(["--jobs", jobs], work / "all.json")
    by_group: dict[str, list[dict]] = {}
    for result in report["results"]:
        group, _, name = result["case"].partition("/")
        if not result["ok"]:
            retry = _run(_select(group, name), work / f"retry-{group}-{name}.json")
            result = next((r for r in retry["results"] if r["case"] == result["case"]), result)
        by_group.setdefault(group, []).append(result)
    passed = sum(1 for rs in by_group.values() for r in rs if r["ok"])
    total = sum(len(rs) for rs in by_group.values())
    print(f"\nconformance score: {passed}/{total}")
    return by_group


def _select(group: str, name: str) -> list[str]:
    if group == "apps":
        return ["--app", name]
    return ["--suite", group, "-k", name]


@pytest.mark.parametrize("group", GROUPS)
def test_conformance_area(conformance: dict[str, list[dict]], group: str) -> None:
    results = conformance.get(group, [])
    assert results, f"no conformance cases ran for {group}"
    failed = [f"{r['case']}: {'; '.join(r.get('problems') or [])}" for r in results if not r["ok"]]
    assert not failed, "\n".join(failed)
