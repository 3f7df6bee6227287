"""The `wippy` command as a user runs it (subprocess), plus what `run` hands the runtime."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

import wippy
from wippy.cli import main
from wippy.runtime_options import RunOptions

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"
SCRIPT = Path(sys.executable).parent / "wippy"
WIPPY = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wippy"]


def wippy_cmd(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WIPPY, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_run_on_broken_project_prints_every_problem_and_exits_2() -> None:
    result = wippy_cmd("run", cwd=BROKEN / "several_errors")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "src/_index.yaml:10: entry app:hello: method: missing required field",
        "src/_index.yaml:12: entry app:hello: source: source file not found: gone.lua",
        "src/_index.yaml:15: entry app:ghost: kind: unknown kind 'ghost.kind'",
        "src/_index.yaml:19: entry app:svc: process: reference to unknown entry app:nowhere",
        "src/api/_index.yaml:3: missing name",
    ]


def test_run_with_project_dir_argument_and_bad_yaml(tmp_path: Path) -> None:
    result = wippy_cmd("run", "-x", "app:hello", str(BROKEN / "bad_yaml_syntax"), cwd=tmp_path)
    assert result.returncode == 2
    assert "src/_index.yaml:9: invalid YAML" in result.stderr and "Traceback" not in result.stderr


def test_init_then_entries_and_lint(tmp_path: Path) -> None:
    project = tmp_path / "hello"
    created = wippy_cmd("init", str(project))
    assert created.returncode == 0, created.stderr
    assert (project / "wippy.lock").is_file() and (project / "src" / "hello.lua").is_file()
    listed = wippy_cmd("entries", cwd=project)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows == [
        ["NAMESPACE", "KIND", "NAME"],
        ["app", "process.host", "processes"],
        ["app", "process.lua", "hello"],
        ["app", "terminal.host", "terminal"],
        ["3", "entries"],
    ]
    linted = wippy_cmd("lint", str(project))
    assert linted.returncode == 0, linted.stdout + linted.stderr
    again = wippy_cmd("init", str(project))
    assert again.returncode == 2 and "already contains a project" in again.stderr


def test_lint_reports_entry_problems_and_exits_1() -> None:
    result = wippy_cmd("lint", str(BROKEN / "missing_source_file"))
    assert result.returncode == 1
    assert "src/_index.yaml:7: entry app:hello: source: source file not found: missing.lua" in result.stdout


def test_boot_plan_prints_levels() -> None:
    result = wippy_cmd("run", "--boot-plan")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "level 0: dispatcher, eventbus, pidgen"
    assert all(line.startswith(f"level {i}: ") for i, line in enumerate(lines))


def test_version() -> None:
    result = wippy_cmd("version")
    assert result.returncode == 0 and result.stdout.strip() == f"wippy {wippy.__version__}"


@pytest.mark.parametrize("command", [[], ["run"], ["lint"], ["entries"], ["init"], ["version"]])
def test_every_help_has_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output


@pytest.fixture
def fake_runtime(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, RunOptions]]:
    calls: list[tuple[object, RunOptions]] = []

    def run(project: object, options: RunOptions) -> int:
        calls.append((project, options))
        return 7

    module = types.ModuleType("wippy.runtime")
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wippy.runtime", module)
    monkeypatch.setattr(wippy, "runtime", module, raising=False)
    return calls


def invoke_run(args: list[str], cwd: Path) -> tuple[int, str]:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(old)
    return result.exit_code, result.output


def test_run_hands_options_to_the_runtime(tmp_path: Path, fake_runtime) -> None:
    project = tmp_path / "p"
    assert CliRunner().invoke(main, ["init", str(project)]).exit_code == 0
    code, _ = invoke_run(["run", "-x", "app:hello", "--host", "app:terminal", "-o", "app:hello:method=main",
                          "--set", "lua.cache.enabled=true", str(project)], tmp_path)  # fmt: skip
    assert code == 7
    loaded, options = fake_runtime[-1]
    assert loaded.root == project.resolve()  # type: ignore[attr-defined]
    assert loaded.config.get("lua.cache.enabled") is True  # type: ignore[attr-defined]
    assert (options.exec_id, options.host, options.command, options.args) == (
        "app:hello",
        "app:terminal",
        None,
        [],
    )
    assert options.silent and options.overrides == ["app:hello:method=main"]


def test_run_command_words_and_c2_rule(tmp_path: Path, fake_runtime) -> None:
    project = tmp_path / "p"
    assert CliRunner().invoke(main, ["init", str(project)]).exit_code == 0
    invoke_run(["run", "greet", "Ada", "--loud"], project)
    options = fake_runtime[-1][1]
    assert (options.command, options.args, options.silent) == ("greet", ["Ada", "--loud"], False)
    invoke_run(["-v", "run", "-x", "app:hello", "Ada"], project)
    options = fake_runtime[-1][1]
    assert (options.exec_id, options.command, options.verbose, options.silent) == (
        "app:hello",
        "Ada",
        True,
        False,
    )
