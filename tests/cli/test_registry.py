"""`wippy registry list|show` on a real project: filters, table, JSON/YAML, fields."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tests.cli.conftest import make_app, wippy_many

CALLS: dict[str, list[str]] = {
    "table": ["registry", "list"],
    "all_json": ["registry", "list", "--json"],
    "yaml": ["registry", "list", "--yaml"],
    "kind": ["registry", "list", "--json", "-k", "function.*"],
    "kinds": ["registry", "list", "--json", "--kind", "terminal.host", "-k", "function.lua"],
    "ns": ["registry", "list", "--json", "-n", "a*p"],
    "ns_long": ["registry", "list", "--json", "--ns", "api"],
    "name": ["registry", "list", "--json", "--name", "*user*"],
    "meta_eq": ["registry", "list", "--json", "--meta", "command.name=greet"],
    "meta_re": ["registry", "list", "--json", "--meta", "comment~^(Fetch|List) "],
    "meta_contains_list": ["registry", "list", "--json", "--meta", "tags*read"],
    "meta_contains_text": ["registry", "list", "--json", "--meta", "meta.comment*one "],
    "meta_prefix": ["registry", "list", "--json", "--meta", "comment^Greets"],
    "meta_suffix": ["registry", "list", "--json", "--meta", "comment$users"],
    "meta_number": ["registry", "list", "--json", "--meta", "level=3"],
    "meta_all": ["registry", "list", "--json", "-n", "api", "--meta", "tags*users", "--meta", "comment^List"],
    "bad_meta": ["registry", "list", "--meta", "nooperator"],
    "bad_regex": ["registry", "list", "--meta", "comment~("],
    "both": ["registry", "list", "--json", "--yaml"],
    "show": ["registry", "show", "app:greet"],
    "show_json": ["registry", "show", "app:greet", "--json"],
    "show_yaml": ["registry", "show", "app:greet", "--yaml"],
    "field_bare": ["registry", "show", "app:greet", "-f", "method"],
    "field_data": ["registry", "show", "app:greet", "--field", "data.modules", "--json"],
    "field_meta": ["registry", "show", "app:greet", "-f", "meta.command.short"],
    "field_kind": ["registry", "show", "app:greet", "-f", "kind"],
    "field_yaml": ["registry", "show", "app:greet", "-f", "meta.command", "--yaml"],
    "field_missing": ["registry", "show", "app:greet", "-f", "meta.nothing"],
    "show_missing": ["registry", "show", "app:ghost"],
    "show_dir": ["registry", "show", ".", "api:get_user", "-f", "kind"],
}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    app = make_app(tmp_path_factory.mktemp("registry") / "app")
    return dict(zip(CALLS, wippy_many(list(CALLS.values()), app), strict=True))


def ids(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [item["id"] for item in json.loads(result.stdout)]


ALL = ["api:get_user", "api:list_users", "app:code", "app:greet", "app:hello", "app:term2", "app:terminal"]


def test_list_table_is_readable(out) -> None:
    lines = out["table"].stdout.splitlines()
    assert lines[0].split() == ["ID", "KIND", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == ALL
    assert "app:greet       process.lua    command greet: Greet someone by name" in lines
    assert out["table"].stderr.strip() == "7 entries"


def test_list_json_and_yaml_are_stable(out) -> None:
    assert ids(out["all_json"]) == ALL
    first = json.loads(out["all_json"].stdout)[0]
    assert first == {"id": "api:get_user", "kind": "function.lua", "meta": {"comment": "Fetch one user",
                     "tags": ["users", "read"]}, "name": "get_user", "namespace": "api"}  # fmt: skip
    assert yaml.safe_load(out["yaml"].stdout) == json.loads(out["all_json"].stdout)


def test_list_globs(out) -> None:
    assert ids(out["kind"]) == ["api:get_user", "api:list_users"]
    assert ids(out["kinds"]) == ["api:get_user", "api:list_users", "app:term2", "app:terminal"]
    assert ids(out["ns"]) == [i for i in ALL if i.startswith("app:")]
    assert ids(out["ns_long"]) == ["api:get_user", "api:list_users"]
    assert ids(out["name"]) == ["api:get_user", "api:list_users"]


def test_list_meta_operators(out) -> None:
    assert ids(out["meta_eq"]) == ["app:greet"]
    assert ids(out["meta_re"]) == ["api:get_user", "api:list_users"]
    assert ids(out["meta_contains_list"]) == ["api:get_user"]
    assert ids(out["meta_contains_text"]) == ["api:get_user"]
    assert ids(out["meta_prefix"]) == ["app:greet"]
    assert ids(out["meta_suffix"]) == ["api:list_users"]
    assert ids(out["meta_number"]) == ["app:hello"]
    assert ids(out["meta_all"]) == ["api:list_users"]


def test_list_usage_errors(out) -> None:
    for key, text in (("bad_meta", "expected FIELD=VALUE"), ("bad_regex", "bad regular expression"),
                      ("both", "--json and --yaml exclude each other")):  # fmt: skip
        assert out[key].returncode == 2 and text in out[key].stderr, out[key].stderr
        assert "Traceback" not in out[key].stderr


def test_show(out) -> None:
    text = out["show"].stdout.splitlines()
    assert text[:3] == ["id:        app:greet", "kind:      process.lua", "defined:   src/_index.yaml:12"]
    assert "  method: main" in text and "    short: Greet someone by name" in text
    entry = json.loads(out["show_json"].stdout)
    assert entry["id"] == "app:greet" and entry["origin"] == "src/_index.yaml:12"
    assert entry["data"]["method"] == "main" and entry["data"]["source"].endswith("/src/greet.lua")
    assert yaml.safe_load(out["show_yaml"].stdout) == entry


def test_show_fields(out) -> None:
    assert out["field_bare"].stdout == "main\n"
    assert json.loads(out["field_data"].stdout) == ["io"]
    assert out["field_meta"].stdout == "Greet someone by name\n"
    assert out["field_kind"].stdout == "process.lua\n"
    assert yaml.safe_load(out["field_yaml"].stdout) == {"name": "greet", "short": "Greet someone by name"}
    assert out["show_dir"].stdout == "function.lua\n"


def test_show_missing(out) -> None:
    assert out["field_missing"].returncode == 1
    assert out["field_missing"].stderr.strip() == 'entry app:greet has no field "meta.nothing"'
    assert (
        out["show_missing"].returncode == 1
        and out["show_missing"].stderr.strip() == 'entry "app:ghost" not found'
    )
