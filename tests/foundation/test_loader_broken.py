"""Every broken project is refused with each problem located by file, line, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from wippy.project import Problem, ProjectError, find_project, load_project

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"

# case -> expected problems as (file, line, entry_id, field, message substring)
CASES: dict[str, list[tuple[str, int, str | None, str | None, str]]] = {
    "bad_yaml_syntax": [("src/_index.yaml", 9, None, None, "invalid YAML")],
    "unknown_kind": [("src/_index.yaml", 11, "app:hello", "kind", "unknown kind 'process.luaa'")],
    "missing_field": [("src/_index.yaml", 10, "app:hello", "method", "missing required field")],
    "wrong_type": [("src/_index.yaml", 14, "app:hello", "modules", "expected `array`, got `str`")],
    "wrong_nested_type": [
        ("src/_index.yaml", 22, "app:worker_service", "lifecycle.restart.max_attempts", "got `str`")
    ],
    "duplicate_id": [
        (
            "src/more/_index.yaml",
            5,
            "app:hello",
            None,
            "duplicate entry ID (first defined at src/_index.yaml:10)",
        )
    ],
    "dangling_reference": [
        (
            "src/_index.yaml",
            12,
            "app:worker_service",
            "process",
            "reference to unknown entry app:no_such_process",
        )
    ],
    "bad_host_reference": [("src/_index.yaml", 13, "app:worker_service", "host", "unknown entry app:procs")],
    "file_outside_project": [
        ("src/_index.yaml", 7, "app:hello", "source", "file://../../outside.lua leaves the project root")
    ],
    "missing_source_file": [
        ("src/_index.yaml", 7, "app:hello", "source", "source file not found: missing.lua")
    ],
    "empty_namespace": [("src/_index.yaml", 2, None, "namespace", "empty namespace")],
    "missing_name": [("src/_index.yaml", 5, None, None, "missing name")],
    "missing_kind": [("src/_index.yaml", 5, "app:settings", None, "missing kind")],
    "bad_imports_reference": [("src/_index.yaml", 14, "app:user", "imports.txt", "unknown entry app:txt")],
    "bad_lifecycle_requires": [
        ("src/_index.yaml", 21, "app:worker_service", "lifecycle.requires[1]", "unknown entry app:database")
    ],
    "bad_env_storage": [("src/_index.yaml", 8, "app:greeting", "storage", "unknown entry app:env_memory")],
    "entries_not_a_list": [("src/_index.yaml", 4, None, "entries", "must be a list")],
    "missing_src_dir": [("source", 0, None, None, "source directory not found")],
    "single_entry_file_bad": [("src/hello.yaml", 5, "app:hello", "method", "expected `str`, got `int`")],
    "several_errors": [
        ("src/_index.yaml", 10, "app:hello", "method", "missing required field"),
        ("src/_index.yaml", 12, "app:hello", "source", "source file not found: gone.lua"),
        ("src/_index.yaml", 15, "app:ghost", "kind", "unknown kind 'ghost.kind'"),
        ("src/_index.yaml", 19, "app:svc", "process", "reference to unknown entry app:nowhere"),
        ("src/api/_index.yaml", 3, None, None, "missing name"),
    ],
}


def problems_of(case: str) -> list[Problem]:
    with pytest.raises(ProjectError) as info:
        load_project(find_project(BROKEN / case))
    return info.value.problems


def test_every_fixture_has_a_case() -> None:
    fixtures = {p.name for p in BROKEN.iterdir() if p.is_dir()}
    assert fixtures == set(CASES)
    assert len(fixtures) >= 15


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_project_reports_each_problem(case: str) -> None:
    problems = problems_of(case)
    assert len(problems) == len(CASES[case]), "\n".join(map(str, problems))
    for problem, (file, line, entry_id, field, message) in zip(problems, CASES[case], strict=True):
        assert (problem.file, problem.line, problem.entry_id, problem.field) == (file, line, entry_id, field)
        assert message in problem.message


def test_problem_prints_file_line_entry_field_message() -> None:
    problem = Problem("src/_index.yaml", 12, "app:svc", "process", "reference to unknown entry app:x")
    assert str(problem) == "src/_index.yaml:12: entry app:svc: process: reference to unknown entry app:x"
    assert str(Problem("src/_index.yaml", 3, message="missing name")) == "src/_index.yaml:3: missing name"


def test_project_error_message_lists_every_problem() -> None:
    with pytest.raises(ProjectError) as info:
        load_project(find_project(BROKEN / "several_errors"))
    assert str(info.value).count("\n") == len(CASES["several_errors"]) - 1


def test_a_yaml_error_is_worded_by_the_python_parser(tmp_path: Path) -> None:
    # definition files are parsed with libyaml when PyYAML has it; its message for a tab
    # leaves the character out, so a rejected file is parsed again in Python for it
    (tmp_path / "wippy.lock").write_text("directories:\n  modules: .wippy\n  src: ./src\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "_index.yaml").write_text('version: "1.0"\nnamespace: app\nentries:\n\t- name: x\n')
    with pytest.raises(ProjectError) as info:
        load_project(find_project(tmp_path))
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == ("src/_index.yaml", 4)
    assert problem.message == (
        "invalid YAML: while scanning for the next token, found character '\\t' that cannot start any token"
    )
