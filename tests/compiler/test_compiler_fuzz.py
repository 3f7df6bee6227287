"""Property tests: on any input the compiler returns or raises LuaSyntaxError, quickly."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wippy.lua.compiler import LuaSyntaxError, compile_source

TOKENS = [
    "local", "function", "end", "if", "then", "else", "elseif", "for", "in", "do", "while", "repeat",
    "until", "return", "break", "goto", "not", "and", "or", "nil", "true", "false", "type", "interface",
    "as", "is", "fun", "typeof", "keyof", "extends", "readonly", "asserts", "x", "y", "T", "Box",
    "1", "0x1F", "2.5e3", "'s'", '"t"', "[[long]]", "...", "..", ".", ":", "::", ",", ";", "=", "==", "~=",
    "<", ">", ">>", "<<", ">=", "<=", "+", "-", "*", "/", "//", "%", "^", "#", "&", "|", "~", "(", ")",
    "{", "}", "[", "]", "?", "!", "@", "->", "@min(0)", "\n", "--c\n", "--[[c]]",
]

SEEDS = [
    "local function f<T: {name: string}>(a: T, ...: any): (T, string?)\n  return a, nil\nend\n",
    "type P = {x: number, y?: string, [string]: any}\ninterface S : B\n  function f(self): number\nend\n",
    "local v = (x as {number})[1] .. y :: string .. f()!\n::l::\ngoto l\n",
    "local t: Map<string, Box<number>>= {a = 1, ['b'] = 2; 3}\nreturn t.a // 2 | 1 ~ 3\n",
]
_CONFORMANCE = Path("/work/shared/conformance/suites/syntax/src")
if _CONFORMANCE.is_dir():
    SEEDS += [p.read_text() for p in sorted(_CONFORMANCE.glob("*.lua"))[:8]]


def _compile(src: str) -> None:
    start = time.perf_counter()
    try:
        result = compile_source(src, "fuzz")
        assert isinstance(result.code, str)
    except LuaSyntaxError as err:
        assert err.line >= 1 and err.col >= 1 and err.message
    assert time.perf_counter() - start < 2.0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_random_token_streams(tokens):
    _compile(" ".join(tokens))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 3),
                                                  st.sampled_from(TOKENS)), min_size=1, max_size=4))
def test_mutated_valid_files(seed, edits):
    src = seed
    for pos, how, tok in edits:
        at = pos % (len(src) + 1)
        if how == 0:
            src = src[:at] + tok + src[at:]
        elif how == 1:
            src = src[:at] + src[at + len(tok):]
        elif how == 2:
            src = src[:at] + " " + tok + " " + src[at + 1:]
        else:
            src = src[:at]
    _compile(src)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text(text):
    _compile(text)


def test_deep_nesting_is_refused_not_crashing():
    for src in ["x = " + "{" * 5000, "x = " + "(" * 5000 + "1", "local x: " + "{" * 5000,
                "if x then " * 3000, "x = " + "-" * 5000 + "1", "x = 1" + " .. 1" * 5000]:
        _compile(src)


def test_long_flat_chains_compile():
    # left-associative operators and suffix chains do not nest: as long as Lua allows
    n = 20000
    assert compile_source("return 1" + " + 1" * n, "c").code.count("+") == n
    assert compile_source("return a" + ".b" * n, "c").code.count(".") == n
    assert compile_source("return a" + ":m()" * 2000, "c").code.count(":") == 2000


# Lua refuses some programs our parser accepts only for reasons it checks after parsing
# (goto/label resolution, break placement, <const>/<close> rules, register limits).
_LUA_SEMANTIC = ("break outside", "no visible label", "jumps into the scope", "label '",
                 "attempt to assign to const", "multiple to-be-closed", "too many", "overflow")

PLAIN_TOKENS = [t for t in TOKENS if t not in {"as", "is", "fun", "typeof", "keyof", "extends",
                                                "readonly", "asserts", "interface", "?", "!", "@",
                                                "->", "@min(0)", "type"}]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PLAIN_TOKENS + ["x", "y", "=", "(", ")", "end", "do"]), max_size=40))
def test_output_loads_exactly_when_lua_accepts_plain_lua(lua, tokens):
    """For plain Lua input, Lua 5.4 is the oracle: same verdict, and loadable output."""
    src = " ".join(tokens)
    check = lua.rt.eval("function(s) local f, e = load(s, '=t') return e end")
    lua_error = check(src)
    try:
        code = compile_source(src, "t").code
    except LuaSyntaxError as err:
        assert lua_error is not None, f"we refuse what Lua accepts: {err}"
        # `::` is a cast for us and `:` after a name or `)` starts a type annotation, so
        # there the dialect's message rightly differs from plain Lua's
        if "'::'" not in lua_error and "'::'" not in err.message and "':'" not in lua_error:
            assert f"t:{err.line}: {err.message}" == lua_error
        return
    out_error = check(code)
    if lua_error is None:
        assert out_error is None, f"output does not load: {out_error}\n{code}"
    else:
        assert any(s in lua_error for s in _LUA_SEMANTIC) or "::" in src, lua_error
