"""`wippy run`: commands, -x with its exit codes, --arg, --host, -o at run time, errors.

Every invocation that boots the runtime is started at once by the module fixture
(they are independent), and each test checks its own results.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import make_app, wippy, wippy_many

HELLO_ARGS = Path("/work/shared/conformance/apps/hello-args")
BAD = ["--set", "registry.history_type=bogus", "greet", "Ada"]
CODES = {"int": 7, "float": 3, "false": 1, "error": 1, "errval": 1}

CALLS: dict[str, list[str]] = {
    "greet": ["run", "greet", "Ada", "Bob"],
    "greet_none": ["run", "greet"],
    "dashdash": ["run", "greet", "--", "-v", "Ada"],
    "unknown": ["run", "nope"],
    "c2": ["run", "-x", "app:greet", "Ada"],
    "x_arg": ["run", "-x", "app:greet", "--arg", "Ada", "--arg", "Bob"],
    "host_ok": ["run", "-x", "app:hello", "--host", "app:term2"],
    "host_bad": ["run", "-x", "app:hello", "--host", "app:nope"],
    "override": ["run", "-x", "app:hello", "-o", "app:hello:method=other"],
    "verbose": ["run", "-v", "-x", "app:hello"],
    "bad": ["run", *BAD],
    "bad_very_verbose": ["--very-verbose", "run", *BAD],
    **{f"code_{what}": ["run", "-x", "app:code", "--arg", what] for what in CODES},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    app = make_app(tmp_path_factory.mktemp("run") / "app")
    results = dict(zip(CALLS, wippy_many(list(CALLS.values()), app), strict=True))
    results["bad_env"] = wippy("run", *BAD, cwd=app, env={"WIPPY_DEBUG": "1"})
    return results


def test_command_gets_its_arguments_through_main_and_io_args(runs) -> None:
    greet, none = runs["greet"], runs["greet_none"]
    assert (greet.returncode, greet.stdout) == (0, "Hello, Ada!\ncommand-line arguments: 2 (Ada, Bob)\n"), (
        greet
    )
    assert (none.returncode, none.stdout) == (0, "Hello, stranger!\ncommand-line arguments: 0 ()\n"), none
    dashdash = runs["dashdash"]  # `--` ends wippy's own flags
    assert dashdash.stdout == "Hello, -v!\ncommand-line arguments: 2 (-v, Ada)\n", dashdash.stderr


def test_unknown_command_and_the_c2_rule_for_x(runs) -> None:
    unknown, c2 = runs["unknown"], runs["c2"]
    assert (unknown.returncode, unknown.stderr.strip()) == (1, 'command "nope" not found')
    assert (c2.returncode, c2.stderr.strip(), c2.stdout) == (1, 'command "Ada" not found', "")


def test_x_passes_args_with_the_arg_flag(runs) -> None:
    result = runs["x_arg"]
    assert (result.returncode, result.stdout) == (0, "Hello, Ada!\ncommand-line arguments: 2 (Ada, Bob)\n"), (
        result
    )


def test_x_exit_codes_c8(runs) -> None:
    got = {what: runs[f"code_{what}"].returncode for what in CODES}
    assert got == CODES, {what: runs[f"code_{what}"].stderr for what in CODES}
    assert "boom from lua" in runs["code_error"].stderr and "Traceback" not in runs["code_error"].stderr
    assert "bad thing" in runs["code_errval"].stderr
    assert runs["code_int"].stderr == ""  # -x silences the console logs


def test_host_picks_the_terminal_host(runs) -> None:
    ok, bad = runs["host_ok"], runs["host_bad"]
    assert (ok.returncode, ok.stdout) == (0, "hello\n"), ok.stderr
    assert bad.returncode == 1 and "terminal host app:nope not found" in bad.stderr


def test_override_applies_before_running(runs) -> None:
    result = runs["override"]
    assert (result.returncode, result.stdout) == (5, "other method\n"), result.stderr


def test_verbose_shows_debug_logs_under_x(runs) -> None:
    result = runs["verbose"]
    assert result.returncode == 0 and result.stdout == "hello\n"
    assert "DEBUG" in result.stderr and "project loaded" in result.stderr


def test_internal_error_is_one_line_unless_debugging(runs) -> None:
    plain = runs["bad"]
    assert plain.returncode == 1
    assert plain.stderr.strip().splitlines() == ["error: unknown registry history type: bogus"]
    for result in (runs["bad_env"], runs["bad_very_verbose"]):
        assert result.returncode == 1 and "Traceback" in result.stderr
        assert "error: unknown registry history type: bogus" in result.stderr


def test_unknown_exec_entry_fails_before_booting(app: Path) -> None:
    ghost, not_process = wippy_many([["run", "-x", "app:ghost"], ["run", "-x", "api:get_user"]], app)
    assert (ghost.returncode, ghost.stderr.strip()) == (1, 'entry "app:ghost" not found')
    assert not_process.returncode == 1
    assert (
        not_process.stderr.strip()
        == "entry api:get_user is a function.lua, not a process (process.lua, process.wasm)"
    )


def test_run_list_prints_name_and_short_text(app: Path) -> None:
    result = wippy("run", "list", cwd=app)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "code   Exit with a code chosen by the argument",
        "greet  Greet someone by name",
    ]


@pytest.mark.skipif(not HELLO_ARGS.is_dir(), reason="conformance apps not available")
def test_conformance_hello_args(tmp_path: Path) -> None:
    project = tmp_path / "hello-args"
    for path in HELLO_ARGS.rglob("*"):
        if path.is_file() and ".wippy" not in path.parts:
            target = project / path.relative_to(HELLO_ARGS)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    result = wippy("run", "greet", "Ada", cwd=project)
    assert (result.returncode, result.stdout) == (0, "Hello, Ada!\ncommand-line arguments: 1 (Ada)\n")
