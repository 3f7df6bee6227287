"""Which project `wippy` loads, and the flags that shape it: -l, DIR, --config, --set, -o,
the config's override section, -v/-s/-c. Only verbs that need no runtime are used here."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import LOCK, wippy, wippy_many, write

TOOL_INDEX = """\
version: "1.0"
namespace: tool
entries:
  - name: run_me
    kind: process.lua
    meta:
      command: {name: greet, short: The nested project's greet}
    source: file://t.lua
    method: main
"""
T_LUA = "return { main = function() return 0 end }\n"


def ids(result) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [item["id"] for item in json.loads(result.stdout)]


def test_lock_file_flag_picks_the_source_directory(app: Path) -> None:
    write(
        app,
        {"other.lock": "directories:\n  src: ./src2\n", "src2/_index.yaml": TOOL_INDEX, "src2/t.lua": T_LUA},
    )
    default, other, short, missing = wippy_many(
        [
            ["registry", "list", "--json"],
            ["registry", "list", "--json", "--lock-file", "other.lock"],
            ["-l", "other.lock", "run", "list"],
            ["registry", "list", "-l", "nope.lock"],
        ],
        app,
    )
    assert "app:greet" in ids(default) and "tool:run_me" not in ids(default)
    assert ids(other) == ["tool:run_me"]
    assert short.stdout == "greet  The nested project's greet\n"
    assert missing.returncode == 2 and "nope.lock: lock file not found" in missing.stderr


def test_without_lock_src_is_loaded_with_one_log_line(tmp_path: Path) -> None:
    write(tmp_path, {"src/_index.yaml": TOOL_INDEX, "src/t.lua": T_LUA})
    plain, silent, coloured, as_json, verbose = wippy_many(
        [
            ["run", "list"],
            ["run", "list", "-s"],
            ["run", "list", "-c"],
            ["run", "list", "--set", "logger.encoding=json"],
            ["-v", "run", "list"],
        ],
        tmp_path,
    )
    assert plain.stdout == "greet  The nested project's greet\n"
    warnings = [line for line in plain.stderr.splitlines() if line]
    assert (
        len(warnings) == 1 and "WARN" in warnings[0] and "no wippy.lock found, loading ./src" in warnings[0]
    )
    assert "\x1b[" not in plain.stderr
    assert silent.stderr == "" and silent.stdout == plain.stdout
    assert "\x1b[33m" in coloured.stderr
    record = json.loads(as_json.stderr.strip())
    assert record["level"] == "warn" and record["msg"] == "no wippy.lock found, loading ./src"
    assert "DEBUG" in verbose.stderr and "project loaded" in verbose.stderr and "DEBUG" not in plain.stderr


def test_config_files_are_repeatable_and_later_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/_index.yaml": TOOL_INDEX,
            "src/t.lua": T_LUA,
            "json.yaml": "logger: {encoding: json}\n",
            "console.yaml": "logger: {encoding: console}\n",
            ".wippy.yaml": "logger: {encoding: json}\n",
        },
    )
    default, one, two, missing = wippy_many(
        [
            ["run", "list"],
            ["run", "list", "--config", "console.yaml"],
            ["--config", "console.yaml", "run", "list", "--config", "json.yaml"],
            ["run", "list", "--config", "absent.yaml"],
        ],
        tmp_path,
    )
    assert json.loads(default.stderr)["msg"].startswith("no wippy.lock")  # ./.wippy.yaml is the default
    assert one.stderr.startswith("20") and "WARN" in one.stderr  # console form, .wippy.yaml not read
    assert json.loads(two.stderr)["level"] == "warn"
    assert missing.returncode == 2 and "config file not found" in missing.stderr


def test_overrides_from_flags_and_config_are_applied_before_validation(app: Path) -> None:
    write(
        app,
        {
            "src/extra/_index.yaml": 'version: "1.0"\nnamespace: extra\nentries:\n'
            "  - name: later\n    kind: not.a.kind\n    source: file://../hello.lua\n    method: main\n",
            ".wippy.yaml": "override:\n  app:greet:meta.command.short: Say hi\n  app:hello:meta.level: 9\n",
        },
    )
    broken = wippy("registry", "list", cwd=app)
    assert broken.returncode == 2 and "unknown kind 'not.a.kind'" in broken.stderr
    fix = ["-o", "extra:later:kind=process.lua"]
    shown, listed, config_override = wippy_many(
        [
            [*fix, "registry", "show", "app:hello", "--json", "-o", "app:hello:data.method=other",
             "-o", "app:hello:meta.flag=true", "-o", "app:hello:meta.level=12", "-o", "app:hello:timeout=2.5",
             "-o", "app:hello:meta.owner=ada", "-o", "app:hello:data.kind=literal"],
            [*fix, "registry", "list", "--json", "-k", "process.lua", "-n", "extra"],
            [*fix, "run", "list"],
        ],
        app,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    entry = json.loads(shown.stdout)
    assert entry["data"]["method"] == "other" and entry["data"]["timeout"] == 2.5
    assert entry["meta"]["flag"] is True and entry["meta"]["level"] == 12  # -o wins over the config
    assert entry["meta"]["owner"] == "ada"
    assert entry["data"]["kind"] == "literal" and entry["kind"] == "process.lua"  # data.kind is a data field
    assert ids(listed) == ["extra:later"]
    assert "greet  Say hi" in config_override.stdout.splitlines()


def test_bad_override_is_a_usage_error(app: Path) -> None:
    missing, shape = wippy_many(
        [["registry", "list", "-o", "app:ghost:x=1"], ["registry", "list", "-o", "app:hello"]], app
    )
    assert missing.returncode == 2 and "entry app:ghost not found" in missing.stderr
    assert shape.returncode == 2 and "expected ns:entry:path=value" in shape.stderr
    assert "Traceback" not in missing.stderr + shape.stderr


def test_project_directory_word_and_the_shared_name_corner(app: Path, tmp_path: Path) -> None:
    # `greet` is a command of ./ AND a folder holding another project.
    write(app, {"greet/wippy.lock": LOCK, "greet/src/_index.yaml": TOOL_INDEX, "greet/src/t.lua": T_LUA})
    write(app, {"tool/src/_index.yaml": TOOL_INDEX, "tool/src/t.lua": T_LUA})
    elsewhere, explicit_dir, dot, tool, registry_dir = wippy_many(
        [
            ["run", str(app), "list"],
            ["run", "./greet", "list"],
            ["run", ".", "list"],
            ["run", "tool", "list"],  # a folder, and no command of that name: the folder
            ["registry", "list", "greet", "--json"],
        ],
        app,
    )
    assert elsewhere.stdout.splitlines()[1] == "greet  Greet someone by name"
    assert explicit_dir.stdout == "greet  The nested project's greet\n"
    assert dot.stdout.splitlines()[1] == "greet  Greet someone by name"
    assert tool.stdout == "greet  The nested project's greet\n"
    assert ids(registry_dir) == ["tool:run_me"]
    # The bare name that is also a command of ./ runs the command (it has no `list` to show).
    from_cwd = wippy("run", "greet", "Ada", cwd=app)
    assert from_cwd.stdout == "Hello, Ada!\ncommand-line arguments: 1 (Ada)\n", from_cwd.stderr
    outside = wippy("run", "list", cwd=tmp_path / "app" / "src" / "api")
    assert outside.returncode == 2 and "source directory not found" in outside.stderr
