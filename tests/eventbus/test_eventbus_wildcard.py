"""The bus's dotted wildcard patterns and the Lua-side matcher (C11), as tables."""

from __future__ import annotations

import pytest

from wippy import wildcard
from wippy.eventbus import lua_match

CASES: list[tuple[str, str, bool]] = [
    # literals
    ("registry", "registry", True),
    ("registry", "registry.create", False),
    ("host.register", "host.register", True),
    ("host.register", "host.registe", False),
    ("a.b", "a-b", False),  # the dot is not a regex wildcard
    # empty pattern and ** match everything
    ("", "anything.at.all", True),
    ("", "", True),
    ("**", "x", True),
    ("**", "x.y.z", True),
    ("**", "", True),
    # * is exactly one segment
    ("*", "registry", True),
    ("*", "registry.create", False),
    ("*", "", False),
    ("registry.*", "registry.create", True),
    ("registry.*", "registry.entry.create", False),
    ("registry.*", "registry", False),
    ("*.create", "entry.create", True),
    ("*.create", "create", False),
    ("a.*.c", "a.b.c", True),
    ("a.*.c", "a.b.x.c", False),
    # ** is zero or more segments
    ("registry.**", "registry", True),
    ("registry.**", "registry.create", True),
    ("registry.**", "registry.entry.create", True),
    ("registry.**", "registryx", False),
    ("registry.**", "other.registry", False),
    ("**.accept", "accept", True),
    ("**.accept", "host.accept", True),
    ("**.accept", "a.b.accept", True),
    ("**.accept", "xaccept", False),
    ("a.**.b", "a.b", True),
    ("a.**.b", "a.x.b", True),
    ("a.**.b", "a.x.y.b", True),
    ("a.**.b", "a.x.y", False),
    ("a.**.**.b", "a.b", True),
    ("a.**.*", "a.x", True),
    ("a.**.*", "a", False),
    # alternation
    ("host.(register|delete)", "host.register", True),
    ("host.(register|delete)", "host.delete", True),
    ("host.(register|delete)", "host.update", False),
    ("host.(register|delete)", "host.registerx", False),
    ("(registry|supervisor)", "supervisor", True),
    ("(registry|supervisor)", "process", False),
    ("(entry|registry).(create|update|delete|begin|commit|discard)", "registry.commit", True),
    ("(entry|registry).(create|update|delete|begin|commit|discard)", "entry.accept", False),
    ("factory.(accept|reject)", "factory.reject", True),
    ("(a.b|c)", "a.b", False),  # alternation is within one segment; "." splits first
    ("(a+|b)", "a+", True),  # alternatives are literal text
    ("(a+|b)", "aa", False),
]


@pytest.mark.parametrize(("pattern", "topic", "expected"), CASES)
def test_wildcard_table(pattern: str, topic: str, expected: bool) -> None:
    assert wildcard.compile(pattern).match(topic) is expected
    assert wildcard.match(pattern, topic) is expected


def test_compile_is_cached_and_picks_fast_paths() -> None:
    assert wildcard.compile("a.b") is wildcard.compile("a.b")
    assert wildcard.compile("registry").kind == "literal"
    assert wildcard.compile("**").kind == "any"
    assert wildcard.compile("").matches_all
    assert wildcard.compile("registry.**").kind == "prefix"
    assert wildcard.compile("registry.*").kind == "regex"


LUA_CASES: list[tuple[str, str, bool]] = [
    ("", "anything", True),
    ("*", "anything.at.all", True),
    ("*", "", True),
    ("shop.*", "shop.a", True),
    ("shop.*", "shop.a.b", True),  # plain string prefix, not segments
    ("shop.*", "shop", False),
    ("shop*", "shopping", True),
    ("orders", "orders", True),
    ("orders", "orders.x", False),
    ("orders.**", "orders.x", False),  # no ** for Lua subscriptions: exact
    ("orders.**", "orders.**", True),
    ("(a|b)", "a", False),  # no alternation either
]


@pytest.mark.parametrize(("pattern", "value", "expected"), LUA_CASES)
def test_lua_match_table(pattern: str, value: str, expected: bool) -> None:
    assert lua_match(pattern, value) is expected
