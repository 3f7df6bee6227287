"""Dotted topic patterns for the event bus, compiled once and cached.

A pattern is a `.`-separated list of segments matched against a `.`-separated topic:

    literal    matches that exact segment
    *          exactly one (non-empty) segment
    **         zero or more segments
    (a|b|c)    one segment equal to one of the alternatives

Examples from the reference runtime: `host.(register|delete)`,
`(entry|registry).(create|update|delete|begin|commit|discard)`; `registry.*` matches
`registry.create` but not `registry.entry.create`; `registry.**` matches `registry`,
`registry.create` and `registry.entry.create`. The empty pattern, like the reference's
empty filter, matches everything.

Design: a pattern is compiled into the cheapest predicate that decides it. Most bus
patterns are plain literals (`registry`, `host.register`), so those become a bound
`str.__eq__`; `**` (and "") becomes a constant; `prefix.**` becomes a startswith test;
everything else is translated into one anchored regular expression, so the segment
walking happens in C. The translation keeps a "needs a dot" flag so that `**` can
swallow zero segments in any position without leaving a stray separator:

    a.**.b   ->  a(?:\\.[^.]*)*\\.b
    **.b     ->  (?:[^.]*\\.)*b

Compiled matchers are cached by pattern string (bounded LRU), since subscriptions reuse a
handful of patterns.

XX: this matcher is the internal bus's. Lua `events.subscribe` uses a different, simpler
rule (C11 in the spec); that one is `wippy.eventbus.lua_match`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

__all__ = ["Matcher", "compile", "match"]

_SEG = r"[^.]+"
_ANY_SEG = r"[^.]*"


class Matcher:
    """A compiled pattern. `match(topic) -> bool`; `kind` tells which fast path won."""

    __slots__ = ("pattern", "kind", "match")

    def __init__(self, pattern: str, kind: str, match: Callable[[str], bool]) -> None:
        self.pattern = pattern
        self.kind = kind  # "any" | "literal" | "prefix" | "regex"
        self.match = match

    @property
    def matches_all(self) -> bool:
        return self.kind == "any"

    def __repr__(self) -> str:
        return f"Matcher({self.pattern!r}, {self.kind})"


def _true(_topic: str) -> bool:
    return True


def _segment_regex(seg: str) -> str:
    if seg == "*":
        return _SEG
    if len(seg) >= 2 and seg[0] == "(" and seg[-1] == ")":
        alts = seg[1:-1].split("|")
        return "(?:" + "|".join(re.escape(a) for a in alts) + ")"
    return re.escape(seg)


def _is_literal(pattern: str) -> bool:
    return "*" not in pattern and "(" not in pattern


@lru_cache(maxsize=4096)
def compile(pattern: str) -> Matcher:
    """Compile `pattern` (cached)."""
    if pattern == "" or pattern == "**":
        return Matcher(pattern, "any", _true)
    if _is_literal(pattern):
        return Matcher(pattern, "literal", pattern.__eq__)
    segs = pattern.split(".")
    # collapse runs of "**" (they mean the same as one)
    collapsed: list[str] = []
    for s in segs:
        if s == "**" and collapsed and collapsed[-1] == "**":
            continue
        collapsed.append(s)
    if collapsed[-1] == "**" and len(collapsed) > 1 and _is_literal(".".join(collapsed[:-1])):
        prefix = ".".join(collapsed[:-1])
        dotted = prefix + "."

        def prefix_match(topic: str, _p: str = prefix, _d: str = dotted) -> bool:
            return topic == _p or topic.startswith(_d)

        return Matcher(pattern, "prefix", prefix_match)
    parts: list[str] = []
    need_dot = False
    last = len(collapsed) - 1
    for i, seg in enumerate(collapsed):
        if seg == "**":
            if need_dot:
                parts.append(r"(?:\." + _ANY_SEG + ")*")
            elif i == last:
                parts.append(".*")
            else:
                parts.append("(?:" + _ANY_SEG + r"\.)*")
            continue
        if need_dot:
            parts.append(r"\.")
        parts.append(_segment_regex(seg))
        need_dot = True
    rx = re.compile("".join(parts), re.DOTALL)
    fullmatch = rx.fullmatch

    def regex_match(topic: str) -> bool:
        return fullmatch(topic) is not None

    return Matcher(pattern, "regex", regex_match)


def match(pattern: str, topic: str) -> bool:
    """One-off match (uses the compile cache)."""
    return compile(pattern).match(topic)
