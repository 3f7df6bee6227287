"""Public API: compile_source, Compiled, CompileCache (memory and disk), lint_files."""

from __future__ import annotations

import os
import pickle

import pytest

from wippy.lua import compiler
from wippy.lua.compiler import (
    COMPILER_VERSION,
    CompileCache,
    Compiled,
    LuaSyntaxError,
    compile_source,
    lint_files,
)
from wippy.lua.compiler.parser import PROLOGUE

TYPED = "type Point = {x: number}\ntype Mode = 'a' | 'b'\nlocal function f(p: Point): number return p.x end\nreturn f"


def test_compile_source_returns_code_and_type_names():
    result = compile_source(TYPED, "app:mod")
    assert isinstance(result, Compiled)
    assert result.type_names == ("Point", "Mode")
    assert "__wtype(" in result.code
    assert ": number" not in result.code
    assert result.code.count("\n") == TYPED.count("\n") + 1


def test_no_type_declarations_means_no_prelude():
    result = compile_source("local x: number = 1\nreturn x", "c")
    assert result.type_names == ()
    assert "__wt" not in result.code
    assert result.code.split("\n")[1].split() == ["return", "x"]


def test_nested_declarations_are_not_runtime_values():
    result = compile_source("local function f()\n  type Inner = number\n  return 1\nend\nreturn f", "c")
    assert result.type_names == ()
    assert "__wtype" not in result.code


def test_version_is_a_string():
    assert isinstance(COMPILER_VERSION, str) and COMPILER_VERSION


def test_error_carries_position_and_formats_like_lua():
    with pytest.raises(LuaSyntaxError) as info:
        compile_source("local a = 1\nlocal b = a +\n", "app:broken")
    err = info.value
    assert (err.file, err.line, err.col) == ("app:broken", 3, 1)
    assert str(err) == "app:broken:3:1: unexpected symbol near <eof>"
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err)


def test_cache_memory_hit_returns_same_object_without_parsing(monkeypatch):
    cache = CompileCache(None)
    first = cache.compile(TYPED, "a")
    monkeypatch.setattr(compiler, "compile_source", lambda *a: pytest.fail("parsed again"))
    assert cache.compile(TYPED, "b") is first


def test_cache_disk_survives_a_new_cache(tmp_path, monkeypatch):
    first = CompileCache(str(tmp_path)).compile(TYPED, "a")
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].endswith(".lua")
    monkeypatch.setattr(compiler, "compile_source", lambda *a: pytest.fail("parsed again"))
    warm = CompileCache(str(tmp_path)).compile(TYPED, "a")
    assert warm.code == first.code
    assert warm.type_names == first.type_names


def test_cache_key_depends_on_source_and_version(tmp_path, monkeypatch):
    cache = CompileCache(str(tmp_path))
    cache.compile("return 1", "a")
    cache.compile("return 2", "a")
    assert len(os.listdir(tmp_path)) == 2
    monkeypatch.setattr(compiler, "COMPILER_VERSION", "other")
    CompileCache(str(tmp_path)).compile("return 1", "a")
    assert len(os.listdir(tmp_path)) == 3


def test_cache_does_not_store_failures(tmp_path):
    cache = CompileCache(str(tmp_path))
    for _ in range(2):
        with pytest.raises(LuaSyntaxError):
            cache.compile("local = 1", "bad")
    assert os.listdir(tmp_path) == []


def test_cache_with_unwritable_dir_still_compiles(tmp_path):
    cache = CompileCache(str(tmp_path))
    os.chmod(tmp_path, 0o500)
    try:
        assert cache.compile("return 3", "a").code.replace(PROLOGUE, "").strip() == "return 3"
    finally:
        os.chmod(tmp_path, 0o700)


def test_cache_ignores_a_truncated_disk_entry(tmp_path):
    cache = CompileCache(str(tmp_path))
    cache.compile("return 4", "a")
    (entry,) = os.listdir(tmp_path)
    (tmp_path / entry).write_text("no newline header")
    assert CompileCache(str(tmp_path)).compile("return 4", "a").code.replace(PROLOGUE, "").strip() == "return 4"


def test_lint_files_collects_every_error(tmp_path):
    good = tmp_path / "good.lua"
    good.write_text(TYPED)
    bad1 = tmp_path / "bad1.lua"
    bad1.write_text("local x: = 1\n")
    bad2 = tmp_path / "bad2.lua"
    bad2.write_text("\n\nif x then\n")
    missing = tmp_path / "missing.lua"
    errors = lint_files([str(good), str(bad1), str(bad2), str(missing)])
    assert [(e.file, e.line) for e in errors] == [(str(bad1), 1), (str(bad2), 4), (str(missing), 0)]
    assert str(errors[0]) == f"{bad1}:1:10: type expected near '='"
    assert lint_files([str(good)]) == []
    (err,) = lint_files([bad1])  # pathlib paths too
    assert err.file == str(bad1)


def test_crlf_sources_keep_lines():
    result = compile_source("local a = 1\r\nlocal b = 2\r\nreturn a + b\r\n", "c")
    assert result.code.split("\n")[2].split() == ["return", "a", "+", "b"]
