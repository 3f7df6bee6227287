from __future__ import annotations

from pathlib import Path

import pytest

from wippy.entry import Entry
from wippy.envstore import (
    EnvError,
    EnvListener,
    PlaceholderError,
    build_env,
    entry_data,
    env_store,
    format_dotenv,
    parse_dotenv,
    resolve_placeholders,
    resolved_entry,
)


def entries(tmp_path: Path | None = None) -> list[Entry]:
    out = [
        Entry("app:mem", "env.storage.memory"),
        Entry("app:static", "env.storage.static", data={"values": {"COLOR": "teal", "PORT": 9090}}),
        Entry("app:os", "env.storage.os"),
        Entry("app:routed", "env.storage.router", data={"storages": ["mem", "app:static"]}),
        Entry(
            "app:greeting",
            "env.variable",
            data={"variable": "GREETING", "storage": "app:mem", "default": "hi"},
        ),
        Entry("app:nodefault", "env.variable", data={"variable": "NODEF", "storage": "mem"}),
        Entry(
            "app:locked",
            "env.variable",
            data={"variable": "LOCKED", "storage": "mem", "default": 1, "readonly": True},
        ),
        Entry(
            "app:color",
            "env.variable",
            data={"variable": "COLOR", "storage": "app:static", "default": "grey"},
        ),
        Entry("app:port", "env.variable", data={"variable": "PORT", "storage": "app:routed"}),
        Entry("app:home", "env.variable", data={"variable": "WCT_HOME_TEST", "storage": "app:os"}),
        Entry("app:unnamed", "env.variable", data={"storage": "app:mem", "default": "x"}),
    ]
    if tmp_path is not None:
        out.append(
            Entry("app:file", "env.storage.file", data={"file_path": "conf/app.env", "auto_create": True})
        )
        out.append(Entry("app:secret", "env.variable", data={"variable": "SECRET", "storage": "app:file"}))
    return out


def test_get_by_name_and_id_with_defaults() -> None:
    env = build_env(entries())
    assert env.get("GREETING") == "hi"
    assert env.get("app:greeting") == "hi"
    assert env.get("COLOR") == "teal"
    assert env.get("LOCKED") == "1"
    assert env.get("PORT") == "9090"
    assert env.get("app:unnamed") == "x"
    for key, kind in (("NODEF", "NotFound"), ("UNDECLARED", "NotFound"), ("", "Invalid")):
        with pytest.raises(EnvError) as info:
            env.get(key)
        assert info.value.kind == kind


def test_set_rules() -> None:
    env = build_env(entries())
    env.set("GREETING", "changed")
    assert env.get("app:greeting") == "changed"
    env.set("app:unnamed", 5)
    assert env.get("app:unnamed") == "5"
    for key, kind in (("LOCKED", "PermissionDenied"), ("COLOR", "PermissionDenied"), ("NOPE", "NotFound")):
        with pytest.raises(EnvError) as info:
            env.set(key, "v")
        assert info.value.kind == kind
    env.set("PORT", "1234")  # a router writes to its first storage, which then wins on reads
    assert env.get("PORT") == "1234"


def test_os_storage_and_only_registered_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WCT_HOME_TEST", "/home/x")
    monkeypatch.setenv("WCT_UNREGISTERED", "hidden")
    env = build_env(entries())
    assert env.get("WCT_HOME_TEST") == "/home/x"
    with pytest.raises(EnvError):
        env.get("WCT_UNREGISTERED")
    with pytest.raises(EnvError) as info:
        env.set("WCT_HOME_TEST", "y")
    assert info.value.kind == "PermissionDenied"
    everything = env.get_all()
    assert everything["GREETING"] == "hi" and everything["WCT_HOME_TEST"] == "/home/x"
    assert "NODEF" not in everything and everything["app:unnamed"] == "x"


def test_file_storage_round_trip(tmp_path: Path) -> None:
    env = build_env(entries(tmp_path), tmp_path)
    with pytest.raises(EnvError):
        env.get("SECRET")
    env.set("SECRET", 'a "quoted" value # not a comment')
    assert env.get("SECRET") == 'a "quoted" value # not a comment'
    text = (tmp_path / "conf" / "app.env").read_text()
    assert text.startswith("SECRET=")
    assert build_env(entries(tmp_path), tmp_path).get("SECRET") == 'a "quoted" value # not a comment'


def test_dotenv_format() -> None:
    parsed = parse_dotenv('# c\n\nA=1\nexport B = two \nC=\'x y\'\nD="q\\"n"\nE=v # note\nbad line\n')
    assert parsed == {"A": "1", "B": "two", "C": "x y", "D": 'q"n', "E": "v"}
    assert parse_dotenv(format_dotenv({"K": "a b\nc", "L": "plain"})) == {"K": "a b\nc", "L": "plain"}


def test_placeholders() -> None:
    env = build_env(entries())
    data = {
        "greeting": "${env:GREETING}",
        "by_id": "${env:app:color}",
        "port": "${env:PORT|8080}",
        "missing_int": "${env:NOPE|8080}",
        "ratio": "${env:NOPE|0.5}",
        "flag": "${env:NOPE|true}",
        "text": "say ${env:GREETING} on ${env:PORT}",
        "snake": "${UNSET_VAR|fallback}",
        "snake_set": "${GREETING|fallback}",
        "bare": "${VAR}",
        "lower": "${lower|x}",
        "escaped": "$${env:GREETING}",
        "list": ["${env:COLOR}", 3, None],
    }
    out = resolve_placeholders(data, env)
    assert out == {
        "greeting": "hi",
        "by_id": "teal",
        "port": 9090,
        "missing_int": 8080,
        "ratio": 0.5,
        "flag": True,
        "text": "say hi on 9090",
        "snake": "fallback",
        "snake_set": "hi",
        "bare": "${VAR}",
        "lower": "${lower|x}",
        "escaped": "${env:GREETING}",
        "list": ["teal", 3, None],
    }
    assert data["greeting"] == "${env:GREETING}"  # the input is not modified
    with pytest.raises(PlaceholderError):
        resolve_placeholders({"x": "${env:NODEF}"}, env)
    with pytest.raises(PlaceholderError):
        resolve_placeholders("a ${env:UNDECLARED} b", env)


def test_env_store_is_cached_on_the_runtime() -> None:
    class FakeRuntime:
        def __init__(self) -> None:
            self.entries = {e.id: e for e in entries()}
            self.root = None

    rt = FakeRuntime()
    store = env_store(rt)
    assert env_store(rt) is store and rt.env_store is store  # type: ignore[attr-defined]
    entry = Entry("app:svc", "http.service", data={"addr": ":${env:PORT|80}", "n": "${env:PORT|80}"})
    resolved = resolved_entry(rt, entry)
    assert resolved.data == {"addr": ":9090", "n": 9090}
    assert entry.data["n"] == "${env:PORT|80}"
    plain = Entry("app:x", "registry.entry", data={"a": 1})
    assert resolved_entry(rt, plain) is plain


async def test_listener_keeps_the_store_in_step() -> None:
    class FakeRuntime:
        def __init__(self) -> None:
            self.entries = {e.id: e for e in entries()}
            self.root = None

    rt = FakeRuntime()
    listener = EnvListener(rt)
    store = env_store(rt)
    store.set("GREETING", "kept")
    new_var = Entry(
        "app:extra", "env.variable", data={"variable": "EXTRA", "storage": "app:mem", "default": "e"}
    )
    await listener.add(new_var)
    assert store.get("EXTRA") == "e"
    assert store.get("GREETING") == "kept"  # memory values survive the rebuild
    await listener.update(new_var, Entry(new_var.id, new_var.kind, data={**new_var.data, "default": "f"}))
    assert store.get("EXTRA") == "f"
    await listener.update(entries()[0], Entry("app:mem", "env.storage.memory"))
    assert store.get("GREETING") == "kept" and store.get("PORT") == "9090"
    await listener.delete(new_var)
    with pytest.raises(EnvError):
        store.get("EXTRA")
    await listener.delete(Entry("app:static", "env.storage.static"))
    with pytest.raises(EnvError) as info:
        store.get("COLOR")
    assert info.value.kind == "NotFound"


def test_entry_data() -> None:
    class FakeRuntime:
        def __init__(self) -> None:
            self.entries = {e.id: e for e in entries()}
            self.root = None

    rt = FakeRuntime()
    entry = Entry("app:h", "process.host", data={"host": {"workers": "${env:NOPE|4}"}})
    assert entry_data(rt, entry) == {"host": {"workers": 4}}
    assert entry_data(rt, Entry("app:y", "x", data=[1])) == {}
