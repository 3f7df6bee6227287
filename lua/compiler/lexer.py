"""Lexer for Wippy's typed Lua dialect.

One compiled master regex finds the next token (leading whitespace and newlines are part
of the match, so there is no per-character Python loop). Line numbers are counted with
``str.count`` between token starts, which is C-speed and also accounts for newlines inside
multi-line tokens. Tokens live in four parallel lists (kind, text, line, offset) rather
than objects: the parser indexes them by position, which is the cheapest representation
CPython offers.

Token kinds: ``"name"``, ``"number"``, ``"string"``, ``"<eof>"``; keywords (Lua's and the
dialect's reserved words) and operators use their own text as the kind.
"""

from __future__ import annotations

import re

from .errors import LuaSyntaxError

LUA_KEYWORDS = frozenset(
    "and break do else elseif end false for function goto if in local nil not or repeat "
    "return then true until while".split()
)
# Reserved by the dialect: not variable names, but valid field names after `.`/`:` and in
# table constructors (they are ordinary Lua names once the types are erased).
DIALECT_KEYWORDS = frozenset("fun interface as asserts readonly is typeof keyof extends".split())
RESERVED = LUA_KEYWORDS | DIALECT_KEYWORDS

_OPS = r"\.\.\.|\.\.|==|~=|<=|>=|<<|>>|//|::|->|[-+*/%^#&~|<>=(){}\[\];:,.!?@]"
_MASTER = re.compile(
    r"[ \t\f\v\n]*(?:"
    r"([A-Za-z_][A-Za-z0-9_]*)"  # 1 name / keyword
    r"|([0-9]|\.[0-9])"  # 2 numeral start
    r"|(--)"  # 3 comment
    r"|([\"'])"  # 4 short string
    r"|(\[=*\[)"  # 5 long string
    r"|(" + _OPS + r")"  # 6 operator
    r"|(\Z)"  # 7 end of input
    r"|(.)"  # 8 anything else
    r")",
    re.S,
)
# Lua's read_numeral is greedy (it swallows letters, digits, dots and exponent signs) and
# validates afterwards, so `1..2` and `3f` are malformed numbers, not two tokens.
_NUM_GREEDY = re.compile(r"0[xX](?:[pP][-+]|[0-9A-Za-z_.])*|(?:[eE][-+]|[0-9A-Za-z_.])+")
_NUM_VALID = re.compile(
    r"0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][-+]?[0-9]+)?"
    r"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
)
_STR = {
    '"': re.compile(r'"[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*"'),
    "'": re.compile(r"'[^'\\\n]*(?:\\[\s\S][^'\\\n]*)*'"),
}
_LONG_OPEN = re.compile(r"\[=*\[")


def col_of(src: str, offset: int) -> int:
    """1-based column of ``offset`` in ``src``."""
    return offset - src.rfind("\n", 0, offset)


def tokenize(src: str, chunk: str) -> tuple[list[str], list[str], list[int], list[int], str]:
    """Split ``src`` into tokens; returns (kinds, texts, lines, offsets, normalised source)."""
    if "\r" in src:
        src = src.replace("\r\n", "\n").replace("\n\r", "\n").replace("\r", "\n")
    kinds: list[str] = []
    texts: list[str] = []
    lines: list[int] = []
    offs: list[int] = []
    ak, at, al, ao = kinds.append, texts.append, lines.append, offs.append
    pos = 0
    if src.startswith("#!"):  # shebang line, as luaL_loadfile skips it
        nl = src.find("\n")
        pos = len(src) if nl < 0 else nl
    line = 1
    prev = 0
    match = _MASTER.match
    count = src.count
    reserved = RESERVED

    def fail(msg: str, at_off: int, at_line: int) -> LuaSyntaxError:
        return LuaSyntaxError(chunk, at_line, col_of(src, at_off), msg)

    while True:
        m = match(src, pos)
        g = m.lastindex
        start = m.start(g)
        line += count("\n", prev, start)
        prev = start
        if g == 1:
            text = m.group(1)
            ak(text if text in reserved else "name")
            at(text)
            al(line)
            ao(start)
            pos = m.end()
        elif g == 6:
            text = m.group(6)
            ak(text)
            at(text)
            al(line)
            ao(start)
            pos = m.end()
        elif g == 3:
            lm = _LONG_OPEN.match(src, start + 2)
            if lm is not None:
                close = "]" + "=" * (lm.end() - lm.start() - 2) + "]"
                end = src.find(close, lm.end())
                if end < 0:
                    raise fail(f"unfinished long comment (starting at line {line}) near <eof>",
                               len(src), line + count("\n", start))
                pos = end + len(close)
            else:
                end = src.find("\n", start)
                pos = len(src) if end < 0 else end
        elif g == 4:
            sm = _STR[m.group(4)].match(src, start)
            if sm is None:
                end = src.find("\n", start)
                if end < 0:  # Lua reports where the input ended
                    raise fail("unfinished string near <eof>", len(src), line + count("\n", start))
                raise fail(f"unfinished string near '{src[start:end]}'", start, line)
            ak("string")
            at(sm.group())
            al(line)
            ao(start)
            pos = sm.end()
        elif g == 2:
            nm = _NUM_GREEDY.match(src, start)
            text = nm.group()
            if _NUM_VALID.fullmatch(text) is None:
                raise fail(f"malformed number near '{text}'", start, line)
            ak("number")
            at(text)
            al(line)
            ao(start)
            pos = nm.end()
        elif g == 5:
            opener = m.group(5)
            close = "]" + "=" * (len(opener) - 2) + "]"
            end = src.find(close, start + len(opener))
            if end < 0:
                raise fail(f"unfinished long string (starting at line {line}) near <eof>",
                           len(src), line + count("\n", start))
            pos = end + len(close)
            ak("string")
            at(src[start:pos])
            al(line)
            ao(start)
        elif g == 7:
            ak("<eof>")
            at("<eof>")
            al(line)
            ao(start)
            return kinds, texts, lines, offs, src
        else:
            ch = m.group(8)
            raise fail(f"unexpected symbol near '{ch}'", start, line)
