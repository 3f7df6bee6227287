"""Every Lua file of the shared conformance suites compiles and loads in Lua 5.4; the
syntax suite's programs behave as their expectations say (where the compiler alone decides).
"""

from __future__ import annotations

from pathlib import Path

import lupa.lua54 as lupa54
import pytest

from wippy.lua.compiler import LuaSyntaxError, compile_source

CONFORMANCE = Path("/work/shared/conformance")
SYNTAX = CONFORMANCE / "suites" / "syntax"
# hidden directories (`.wippy/` caches written by runs of the suites) hold compiler output
FILES = sorted(
    p for p in CONFORMANCE.rglob("*.lua")
    if not any(part.startswith(".") for part in p.relative_to(CONFORMANCE).parts)
) if CONFORMANCE.is_dir() else []

pytestmark = pytest.mark.skipif(not FILES, reason="shared conformance suites not present")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CONFORMANCE)))
def test_conformance_file_compiles_and_loads(lua, path):
    compiled = compile_source(path.read_text(), f"test:{path.stem}")
    fn = lua.load(compiled.code, path.stem)  # raises LuaError if Lua 5.4 refuses the output
    assert fn is not None
    src_lines = path.read_text().count("\n")
    assert compiled.code.count("\n") <= src_lines + 1


def _syntax_program(name: str) -> str:
    return (SYNTAX / "src" / f"{name}.lua").read_text()


def _run_main(lua, name: str) -> list[str]:
    printed: list[str] = []
    lua.rt.globals().io = lua.rt.table_from({"print": lambda *a: printed.append(" ".join(map(str, a)))})
    module = lua.run(_syntax_program(name), f"test:{name}")
    module["main"]()
    return printed


@pytest.mark.parametrize("name", [
    "typed_locals", "typed_params", "typed_varargs", "return_annotations", "typed_methods",
    "type_alias_keeps_type_builtin", "generic_functions", "interface_and_records", "type_expressions",
    "keywords_as_field_names", "cast_as", "cast_colon_and_labels", "non_nil_assertion", "type_is_record",
    "type_is_optional_fields", "type_is_collections", "type_call_validates", "goto_continue",
])
def test_syntax_suite_program_passes(lua, name):
    printed = _run_main(lua, name)
    assert len(printed) == 1 and printed[0].endswith("ok")


@pytest.mark.parametrize("name", ["floor_div_and_bitwise", "long_strings_and_comments", "string_escapes"])
def test_syntax_suite_exact_output(lua, name):
    printed = _run_main(lua, name)
    assert "\n".join(printed) + "\n" == (SYNTAX / "expect" / f"{name}.out").read_text()


@pytest.mark.parametrize("name,line", [("error_reports_line", 8), ("runtime_fault_reports_line", 8)])
def test_syntax_suite_error_lines(lua, name, line):
    with pytest.raises(lupa54.LuaError) as info:
        _run_main(lua, name)
    assert str(info.value).startswith(f"test:{name}:{line}: ")


@pytest.mark.parametrize("name,entry,line", [
    ("reject_missing_type", "bad_missing_type", 3),
    ("reject_incomplete_expression", "bad_incomplete_expression", 4),
    ("reject_unclosed_generic", "bad_unclosed_generic", 2),
    ("reject_reserved_word", "bad_reserved_word", 3),
])
def test_syntax_suite_rejected_programs(lua, name, entry, line):
    # the suite builds the bad program with table.concat({...}, "\n"); rebuild it in Lua
    source = _syntax_program(name)
    start = source.index("local PROGRAM = ")
    end = source.index('}, "\\n")', start) + len('}, "\\n")')
    program = lua.rt.execute(source[start:end].replace("local PROGRAM = ", "return ", 1))
    with pytest.raises(LuaSyntaxError) as info:
        compile_source(program, f"test:{entry}")
    assert str(info.value).startswith(f"test:{entry}:{line}:")
    assert info.value.col > 0


def test_numeric_literals_keep_subtypes(lua):
    printed = _run_main(lua, "numeric_literals")
    subtypes = [line.rsplit(" ", 1)[1] for line in printed]
    assert subtypes == ["integer"] * 3 + ["float"] * 6

