"""The loader on valid projects: discovery, order, meta, data, file:// and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from wippy.config import load_config
from wippy.kinds import KindSpec, kind_spec, known_kinds, register_kind
from wippy.project import ProjectError, find_project, load_project

CONFORMANCE = Path("/work/shared/conformance")

INDEX = """version: "1.0"
namespace: app
meta:
  team: core
entries:
  - name: hello
    kind: process.lua
    meta: {comment: hi}
    source: file://hello.lua
    method: main
    modules: [io]
  - name: settings
    kind: registry.entry
    meta: {team: ops}
    data: {colour: teal}
  - name: service
    kind: process.service
    process: hello
    host: app:processes
  - name: processes
    kind: process.host
"""


@pytest.fixture
def project_dir(make_project):
    return make_project(
        {
            "src/_index.yaml": INDEX,
            "src/hello.lua": "return {main = function() return 0 end}\n",
            "src/api/_index.yaml": "namespace: app.api\nentries:\n  - {name: a, kind: registry.entry, x: 1}\n",
            "src/api/single.yaml": "namespace: app.api\nname: b\nkind: registry.entry\nvalue: 2\n",
            "src/api/notes.yaml": "just: some yaml\n",
            "src/node_modules/_index.yaml": "namespace: nm\nentries:\n  - {name: x, kind: registry.entry}\n",
            "src/.hidden/_index.yaml": "namespace: hidden\nentries:\n  - {name: x, kind: registry.entry}\n",
        }
    )


def test_entries_in_file_order_with_meta_data_and_origin(project_dir: Path) -> None:
    project = load_project(find_project(project_dir))
    assert [e.id for e in project.entries] == [
        "app:hello", "app:settings", "app:service", "app:processes", "app.api:a", "app.api:b",
    ]  # fmt: skip
    hello = project.get("app:hello")
    assert hello is not None and hello.kind == "process.lua"
    assert hello.meta == {"team": "core", "comment": "hi"}
    assert hello.data["source"] == "file://" + str((project_dir / "src" / "hello.lua").resolve())
    assert hello.data["modules"] == ["io"]
    assert hello.origin is not None and hello.origin.line == 6
    assert Path(hello.origin.file) == (project_dir / "src" / "_index.yaml").resolve()
    settings = project.get("app:settings")
    assert settings is not None and settings.meta == {"team": "ops"} and settings.data == {"colour": "teal"}
    single = project.get("app.api:b")
    assert single is not None and single.data == {"value": 2}


def test_references_are_kept_as_written(project_dir: Path) -> None:
    project = load_project(find_project(project_dir))
    service = project.get("app:service")
    assert service is not None and service.data["process"] == "hello"


def test_lock_names_the_source_directory(make_project) -> None:
    root = make_project(
        {
            "wippy.lock": "directories:\n  src: ./code\n",
            "code/_index.yaml": INDEX.split("  - name: service")[0],
        },
        lock=False,
    )
    (root / "code" / "hello.lua").write_text("return {}\n")
    paths = find_project(root)
    assert paths.src_dir == (root / "code").resolve() and paths.lock == root / "wippy.lock"
    assert [e.id for e in load_project(paths).entries] == ["app:hello", "app:settings"]


def test_without_lock_falls_back_to_src_with_a_warning(make_project) -> None:
    root = make_project(
        {"src/_index.yaml": "namespace: a\nentries:\n  - {name: x, kind: registry.entry}\n"}, lock=False
    )
    project = load_project(find_project(root))
    assert [e.id for e in project.entries] == ["a:x"]
    assert "no wippy.lock found, loading ./src" in project.warnings


def test_named_lock_file_must_exist(make_project) -> None:
    root = make_project({"src/_index.yaml": ""})
    with pytest.raises(ProjectError, match="lock file not found"):
        find_project(root, "other.lock")


def test_config_overrides_and_cli_overrides_apply_before_validation(project_dir: Path) -> None:
    (project_dir / ".wippy.yaml").write_text('override:\n  "app:settings:colour": red\n')
    project = load_project(
        find_project(project_dir), overrides=["app:hello:method=run", "app:hello:meta.n=3"]
    )
    assert project.get("app:settings").data["colour"] == "red"
    hello = project.get("app:hello")
    assert hello.data["method"] == "run" and hello.meta["n"] == 3


def test_override_of_kind_is_validated(project_dir: Path) -> None:
    with pytest.raises(ProjectError, match="unknown kind 'nope'"):
        load_project(find_project(project_dir), overrides=["app:settings:kind=nope"])


def test_override_of_unknown_entry_is_an_error(project_dir: Path) -> None:
    with pytest.raises(ProjectError, match="entry app:ghost not found"):
        load_project(find_project(project_dir), overrides=["app:ghost:x=1"])


def test_disable_removes_entries_by_namespace_and_id(project_dir: Path) -> None:
    config = load_config(project_dir, sets=[])
    config.data["disable"] = {"namespaces": ["app.api"], "entries": ["app:sett*"]}
    project = load_project(find_project(project_dir), config)
    assert [e.id for e in project.entries] == ["app:hello", "app:service", "app:processes"]


def test_lenient_and_pattern_kinds(make_project) -> None:
    root = make_project(
        {
            "src/_index.yaml": "namespace: a\nentries:\n  - {name: s, kind: http.service, addr: ':8080'}\n"
            "  - {name: n, kind: network.socks5}\n"
        }  # fmt: skip
    )
    assert [e.kind for e in load_project(find_project(root)).entries] == ["http.service", "network.socks5"]
    assert kind_spec("http.service") is not None and kind_spec("nobody.registered") is None
    assert "process.lua" in known_kinds()


def test_registered_kind_refs_are_checked(make_project) -> None:
    register_kind(KindSpec("test.widget", None, ("parts.*.ref",)))
    root = make_project(
        {
            "src/_index.yaml": "namespace: a\nentries:\n  - {name: w, kind: test.widget, parts: [{ref: a:w}, {ref: gone}]}\n"
        }
    )
    with pytest.raises(ProjectError) as info:
        load_project(find_project(root))
    [problem] = info.value.problems
    assert (problem.field, problem.message) == ("parts[1].ref", "reference to unknown entry a:gone")


@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance projects not available")
@pytest.mark.parametrize(
    "project",
    sorted(p for group in ("apps", "suites") for p in (CONFORMANCE / group).iterdir() if p.is_dir())
    if CONFORMANCE.is_dir()
    else [],
    ids=lambda p: p.name,
)
def test_conformance_projects_load(project: Path) -> None:
    loaded = load_project(find_project(project))
    assert loaded.entries and not loaded.warnings
