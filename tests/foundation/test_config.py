"""Runtime configuration: defaults, file merging, --set coercion, variables, warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from wippy.config import ConfigError, coerce, load_config, parse_duration


def test_defaults_without_a_config_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.files == []
    assert config.get("registry.history_type") == "memory"
    assert config.get("registry.enable_history") is True
    assert config.get("supervisor.host.buffer_size") == 1024
    assert config.get("lua.cache.enabled") is False
    assert config.get("logger.encoding") == "console"
    assert config.duration("shutdown.timeout") == 30.0
    assert config.get("no.such.key", "fallback") == "fallback"


def test_default_file_is_read_and_merged_per_leaf(tmp_path: Path) -> None:
    (tmp_path / ".wippy.yaml").write_text("registry:\n  history_type: sqlite\n")
    config = load_config(tmp_path)
    assert config.get("registry.history_type") == "sqlite"
    assert config.get("registry.history_path") == ".wippy/registry.db"


def test_config_files_merge_left_to_right(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("logger: {encoding: json}\nlua: {cache: {enabled: true, dir: x}}\n")
    (tmp_path / "b.yaml").write_text("lua: {cache: {dir: y}}\n")
    (tmp_path / ".wippy.yaml").write_text("logger: {encoding: console}\n")
    config = load_config(tmp_path, ["a.yaml", "b.yaml"])
    assert config.get("logger.encoding") == "json"  # the default file is not read with --config
    assert config.get("lua.cache") == {
        "enabled": True, "dir": "y", "mode": "readwrite", "compile": {"enabled": True}, "typecheck": {"enabled": True},
    }  # fmt: skip


def test_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path, ["missing.yaml"])


def test_set_coerces_by_shape(tmp_path: Path) -> None:
    config = load_config(
        tmp_path,
        sets=["registry.enable_history=false", "supervisor.host.worker_count=4", "lua.ratio=0.5",
              "relay.node_name=node-1", "new.section.key=TRUE"],
    )  # fmt: skip
    assert config.get("registry.enable_history") is False
    assert config.get("supervisor.host.worker_count") == 4
    assert config.get("lua.ratio") == 0.5
    assert config.get("relay.node_name") == "node-1"
    assert config.get("new.section.key") is True


def test_coerce() -> None:
    assert [coerce(v) for v in ["true", "False", "12", "-3", "1.5", "abc", "1s"]] == [
        True, False, 12, -3, 1.5, "abc", "1s",
    ]  # fmt: skip


def test_bad_set_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected section.path=value"):
        load_config(tmp_path, sets=["novalue"])


def test_unknown_section_warns(tmp_path: Path) -> None:
    (tmp_path / ".wippy.yaml").write_text("registry: {}\nbananas: 3\n")
    config = load_config(tmp_path)
    assert config.warnings == [".wippy.yaml: unknown config section 'bananas' ignored"]
    assert config.get("bananas") == 3


def test_vars_and_env_placeholders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIPPY_TEST_DIR", "/data")
    (tmp_path / ".wippy.yaml").write_text(
        "vars:\n  workers: 8\n  root: ${env:WIPPY_TEST_DIR}\n"
        "supervisor: {host: {worker_count: '${workers}'}}\n"
        "registry: {history_path: '${root}/registry.db'}\n"
    )
    config = load_config(tmp_path)
    assert config.get("supervisor.host.worker_count") == 8
    assert config.get("registry.history_path") == "/data/registry.db"


def test_missing_env_variable_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WIPPY_TEST_MISSING", raising=False)
    (tmp_path / ".wippy.yaml").write_text("relay: {node_name: '${env:WIPPY_TEST_MISSING}'}\n")
    with pytest.raises(ConfigError, match="WIPPY_TEST_MISSING is not set"):
        load_config(tmp_path)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / ".wippy.yaml").write_text("registry:\n  history_type: [x\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.line == 3 and "invalid YAML" in info.value.message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("100ms", 0.1),
        ("1m30s", 90.0),
        ("2h", 7200.0),
        (5, 5.0),
        ("1.5", 1.5),
        ("250us", 0.00025),
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_parse_duration_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_duration("10 parsecs")
