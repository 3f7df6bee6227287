"""Shell completion and --help, through the installed `wippy`."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.cli.conftest import WIPPY, make_app, wippy_many

VERBS = [[], ["run"], ["lint"], ["entries"], ["init"], ["version"], ["registry"], ["registry", "list"],
         ["registry", "show"], ["completion"]]  # fmt: skip


def complete(shell: str, words: str, cword: int, cwd: Path) -> list[str]:
    env = {"_WIPPY_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = subprocess.run(WIPPY, cwd=cwd, env={**_base_env(), **env}, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("_WIPPY", "COMP_"))}


def test_every_verb_has_help_with_an_example(tmp_path: Path) -> None:
    results = wippy_many([[*verb, "--help"] for verb in VERBS], tmp_path)
    for verb, result in zip(VERBS, results, strict=True):
        assert result.returncode == 0, (verb, result.stderr)
        assert "Example" in result.stdout, verb
    run_help = results[1].stdout
    assert "wippy run . NAME" in run_help and "--arg" in run_help and 'command "Ada" not found' in run_help


def test_completion_scripts(tmp_path: Path) -> None:
    bash, zsh, fish, bad = wippy_many(
        [["completion", "bash"], ["completion", "zsh"], ["completion", "fish"], ["completion", "tcsh"]],
        tmp_path,
    )
    assert (
        bash.returncode == 0 and "_WIPPY_COMPLETE=bash_complete" in bash.stdout and "complete " in bash.stdout
    )
    assert zsh.returncode == 0 and "compdef" in zsh.stdout and "zsh_complete" in zsh.stdout
    assert fish.returncode == 0 and "fish_complete" in fish.stdout
    assert bad.returncode == 2


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return make_app(tmp_path / "app")


def test_completion_of_verbs_flags_commands_and_ids(app: Path) -> None:
    cases = [
        ("bash", "wippy reg", 1),
        ("bash", "wippy registry l", 2),
        ("bash", "wippy registry list --k", 3),
        ("bash", "wippy run g", 2),
        ("zsh", "wippy run -x app:g", 3),
        ("zsh", "wippy registry show api:", 3),
        ("zsh", "wippy run --host app:t", 3),
    ]
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        verbs, sub, flag, run_words, exec_ids, show_ids, hosts = pool.map(lambda c: complete(*c, app), cases)
    assert verbs == ["plain,registry"]
    assert sub == ["plain,list"]
    assert "plain,--kind" in flag
    assert run_words[0] == "plain,greet" and "dir,g" in run_words
    assert exec_ids == ["plain", "app:greet", "_"]
    assert show_ids == ["plain", "api:get_user", "_", "plain", "api:list_users", "_"]
    assert hosts[1::3] == ["app:terminal", "app:term2"]
