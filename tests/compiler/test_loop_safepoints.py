"""Loops compiled with preemption safepoints behave exactly as plain Lua.

Numeric `for` loops run in chunks (lua/engine/forloop.lua); `while` and `repeat` bodies
run inside a counting `for`. Each program is compiled twice, with preemption and without,
and both run in one Lua 5.4 state; the values visited, errors and results must agree.
Small budgets put chunk boundaries everywhere, including next to the limits.
"""

from __future__ import annotations

import math

import lupa.lua54 as lupa54
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wippy.lua.compiler import compile_source
from wippy.lua.engine.shard import forloop_source

MAXI = 2**63 - 1
MINI = -(2**63)

LOOP = """
local a, b, s = ...
local seen = {}
for i = a, b, s do
    seen[#seen + 1] = i
    if #seen >= 40 then break end
end
return seen
"""


class Runner:
    def __init__(self, budget: int) -> None:
        self.rt = lupa54.LuaRuntime(unpack_returned_tuples=True)
        g = self.rt.globals()
        self.safepoints = 0

        def wpre() -> int:
            self.safepoints += 1
            return budget

        g["__wpre"] = wpre
        g["__wfor"] = self.rt.execute(forloop_source(), g["__wpre"])
        g["__wm"] = self.rt.eval("math.type")
        self.pack = self.rt.eval("function(ok, ...) return {ok, ...} end")
        self._pcall = self.rt.eval("function(f, ...) return table.pack(pcall(f, ...)) end")

    def run(self, source: str, *args, preempt: bool = True):
        code = compile_source(source, "loop", preempt=preempt).code
        fn = self.rt.execute(f"return function(...) {code}\nend")
        res = self._pcall(fn, *args)
        if not res[1]:
            return ("error", str(res[2]))
        value = res[2]
        if lupa54.lua_type(value) == "table":
            return [self._plain(value[i]) for i in range(1, len(value) + 1)]
        return self._plain(value)

    def _plain(self, v):
        if isinstance(v, float):
            return ("float", v) if not math.isnan(v) else ("float", "nan")
        if lupa54.lua_type(v) == "table":
            return [self._plain(v[i]) for i in range(1, len(v) + 1)]
        return v


def same(source: str, *args, budget: int = 3) -> object:
    r = Runner(budget)
    plain = r.run(source, *args, preempt=False)
    chunked = r.run(source, *args)
    assert chunked == plain, (args, plain, chunked)
    return chunked


@pytest.mark.parametrize("budget", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("a,b,s", [
    (1, 10, 1), (10, 1, -1), (1, 10, 3), (1, 11, 3), (1, 0, 1), (0, 0, 1), (5, 5, -1),
    (1, 10.5, 1), (10, 1.5, -2), (1, math.inf, 1), (1, -math.inf, 1), (-1, -math.inf, -1),
    (1, math.nan, 1), (MAXI - 5, MAXI, 1), (MAXI - 10, MAXI, 3), (MINI + 5, MINI, -1),
    (MINI, MAXI, 2**62), (MAXI, MINI, -(2**62)), (MINI, MAXI, MAXI), (0, MAXI, 2**60),
    (1, 2.0**70, 1), (0.0, 1.0, 0.1), (1, 2, 0.25), (0.5, -2, -0.5), (1, 3, 1.0), (1.0, 3, 1),
    (0.1, 0.7, 0.1), (2**53, 2**53 + 10.0, 1.0), (1, 10, 2**53), (10, 1, -(2**53)),
])
def test_loops_visit_the_same_values(a, b, s, budget):
    same(LOOP, a, b, s, budget=budget)


@given(st.integers(MINI, MAXI), st.integers(MINI, MAXI),
       st.integers(MINI, MAXI).filter(lambda v: v != 0), st.integers(1, 5))
@settings(max_examples=300, deadline=None)
def test_integer_loops_agree(a, b, s, budget):
    same(LOOP, a, b, s, budget=budget)


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-7, 7).filter(lambda v: v != 0),
       st.integers(1, 5))
@settings(max_examples=200, deadline=None)
def test_small_integer_loops_agree(a, b, s, budget):
    same(LOOP, a, b, s, budget=budget)


@given(st.floats(-100, 100), st.floats(-100, 100), st.floats(-10, 10).filter(lambda v: v != 0),
       st.integers(1, 5))
@settings(max_examples=200, deadline=None)
def test_float_loops_agree(a, b, s, budget):
    same(LOOP, a, b, s, budget=budget)


# `for i = A, b` with A a non-negative integer literal: counted inline when an integer b fits
# in the budget, through __wfor otherwise (a float, huge or non-number b, a spent budget)
LITERAL_LOOPS = """
local b = ...
local seen = {}
for i = 0, b do
    seen[#seen + 1] = i
    if #seen >= 40 then break end
end
for i = 3, b do seen[#seen + 1] = i * 10 if #seen >= 80 then break end end
for i = 123456789012345678, b do seen[#seen + 1] = i break end
return seen
"""


@pytest.mark.parametrize("budget", [1, 2, 5, 1000])
@pytest.mark.parametrize("b", [-1, 0, 1, 2, 3, 5, 39, 100, 2.5, -0.5, 1e300, math.inf, -math.inf, math.nan,
                               MAXI, MINI, MINI + 1, 123456789012345680, "7", "x", None, {}])
def test_literal_start_loops_visit_the_same_values(b, budget):
    result = same(LITERAL_LOOPS, b, budget=budget)
    if b in ("x", None) or isinstance(b, dict):
        assert result[0] == "error" and "]:4: " in result[1] and "'for' limit" in result[1]


@given(st.integers(MINI, MAXI) | st.integers(-50, 50), st.integers(1, 5))
@settings(max_examples=200, deadline=None)
def test_literal_start_integer_loops_agree(b, budget):
    same(LITERAL_LOOPS, b, budget=budget)


def test_literal_start_loops_spend_the_budget_they_skip_checking():
    # short inner loops counted inline still add up to one safepoint per budget, and an
    # empty loop gives no budget back
    r = Runner(100)
    r.run("local s = 0 for i = 1, 100 do for j = 1, 10 do s = s + j end for k = 50, 1 do end end return s")
    assert 9 <= r.safepoints <= 12


@pytest.mark.parametrize("a,b,s", [(1, "x", 1), (1, 2, 0), (1.0, 2, 0.0), (None, 1, 1), (1, 2, None), ({}, 1, 1)])
def test_bad_values_raise_luas_own_errors(a, b, s):
    result = same(LOOP, a, b, s)
    assert result[0] == "error" and "]:4: " in result[1] and "'for'" in result[1]


def test_numeric_strings_are_converted_as_lua_does():
    assert same(LOOP, "1", 2, 1) == same(LOOP, 1, "2", "1") == [("float", 1.0), ("float", 2.0)]


def test_break_leaves_the_whole_loop_from_nested_blocks():
    src = """
local out = {}
for i = 1, 100 do
    if i % 2 == 0 then
        do
            if i > 8 then break end
        end
    end
    for j = 1, 3 do
        if j == 2 then break end
        out[#out + 1] = i * 10 + j
    end
    local k = 0
    while true do k = k + 1 if k > 2 then break end end
    out[#out + 1] = k
end
return out
"""
    assert same(src) == [v for i in range(1, 10) for v in (i * 10 + 1, 3)]  # i = 10 breaks


def test_goto_continue_closures_and_return_inside_chunks():
    src = """
local fs, out = {}, {}
for i = 10, 1, -1 do
    if i % 3 == 0 then goto continue end
    fs[#fs + 1] = function() return i end
    i = i * 100 -- assigning the loop variable does not change the iteration
    out[#out + 1] = i
    ::continue::
end
for i = 1, #fs do out[#out + 1] = fs[i]() end
local function find(n)
    for i = 1, n do
        if i * i > n then return i end
    end
    return -1
end
out[#out + 1] = find(50)
for i = 1, 3 do
    local function inner() for j = 1, 5 do if j == 2 then break end end return i end
    out[#out + 1] = inner()
end
return out
"""
    # the closures see the assignment made after they were created
    assert same(src, budget=2) == [1000, 800, 700, 500, 400, 200, 100] * 2 + [8, 1, 2, 3]


@pytest.mark.parametrize("src,low,high", [
    # numeric `for`: one budget per chunk (100 in the stand-in), short inner loops add up
    ("local s = 0 for i = 1, 10000 do s = s + i end return s", 99, 102),
    ("local s = 0 for i = 1, 100 do for j = 1, 10 do s = s + j end end return s", 9, 12),
    # `while`/`repeat`: a function starts with 1000 iterations, then 100 per safepoint,
    # and nested loops spend the same budget (1,000 x (1 + 10) iterations)
    ("local i = 0 while i < 10000 do i = i + 1 end return i", 89, 92),
    ("local i = 0 while i < 1000 do i = i + 1 local j = 0 repeat j = j + 1 until j == 10 end return i", 85, 105),
])
def test_safepoints_are_reached_once_per_budget(src, low, high):
    r = Runner(100)
    r.run(src)
    assert low <= r.safepoints <= high


def test_unchunked_compilation_has_no_safepoints():
    code = compile_source("for i = 1, 3 do end while false do end", "x", preempt=False).code
    assert "__w" not in code


def test_while_and_repeat_keep_their_meaning():
    src = """
local out, i = {}, 0
while i < 20 do
    i = i + 1
    if i % 5 == 0 then goto continue end
    if i > 17 then break end
    out[#out + 1] = i
    ::continue::
end
repeat
    local last = i
    i = i - 3
    out[#out + 1] = last
until last < 8
local function first_over(n)
    local k = 0
    repeat k = k + 1 if k * k > n then return k end until false
end
local function spin(n)
    local k = 0
    while true do k = k + 1 if k == n then return k end end
end
out[#out + 1] = first_over(30)
out[#out + 1] = spin(7)
local j = 0
repeat j = j + 1 do return out end until j > 3
"""
    expected = [1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 16, 17, 18, 15, 12, 9, 6, 6, 7]
    for budget in (1, 2, 5, 1000):
        assert same(src, budget=budget) == expected


def test_loops_that_never_run_and_false_conditions():
    src = """
local n = 0
while false do n = n + 1 end
while nil do n = n + 1 end
repeat n = n + 1 until true
repeat local t = {} n = n + #t + 1 until n
return n
"""
    assert same(src) == 2
