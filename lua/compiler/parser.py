"""Recursive-descent parser for Wippy's typed Lua dialect.

The AST is deliberately minimal because its only consumer is the emitter, which must put
every surviving token back on its original line:

* an ``int`` is a token index (emitted verbatim at the token's line);
* a ``list`` is a sequence of nodes emitted in order;
* a ``str`` is synthetic text emitted on the current output line (commas of lists);
* a ``tuple`` is a node the emitter treats specially:
  ``("cat", left, op_index, right)`` a ``..`` (flattened into ``__wcat(...)``),
  ``("at", text, line)`` synthetic text on a given line,
  ``("type", name, desc, tparams, line, shadowed)`` a top-level ``type``/``interface``
  declaration (``shadowed``: a chunk-level local of that name was declared before it).

Everything that belongs to the type language is parsed (so errors are reported) and then
dropped; type expressions yield small descriptor tuples (see the ``type_*`` methods) that the emitter
turns into runtime type values for top-level declarations only.

Expression precedence follows Lua 5.4 (``luaY_subexpr``); casts ``as``/``::`` and postfix
``!`` bind tighter than any binary operator (spec §0 C17), so a cast's type never swallows
a following ``|`` or ``&``.
"""

from __future__ import annotations

from .errors import LuaSyntaxError
from .lexer import DIALECT_KEYWORDS, RESERVED, col_of, tokenize

MAX_LEVELS = 200  # as LUAI_MAXCCALLS: deeper nesting is refused, never a RecursionError

_BINPRI = {
    "or": (1, 1), "and": (2, 2),
    "<": (3, 3), ">": (3, 3), "<=": (3, 3), ">=": (3, 3), "~=": (3, 3), "==": (3, 3),
    "|": (4, 4), "~": (5, 5), "&": (6, 6), "<<": (7, 7), ">>": (7, 7),
    "..": (9, 8), "+": (10, 10), "-": (10, 10),
    "*": (11, 11), "/": (11, 11), "//": (11, 11), "%": (11, 11),
    "^": (14, 13),
}
_UNARY_PRI = 12
_UNARY = frozenset(("not", "-", "#", "~"))
_BLOCK_END = frozenset(("end", "else", "elseif", "until", "<eof>"))

# Preemption safepoints (docs/engine.md, "Preemption"). Every function keeps a local
# budget of loop iterations; when it runs out the engine's `__wpre()` decides whether the
# running task has used its time slice and yields it back to the shard's run queue.
# `while` and `repeat` bodies run inside a counting `for` over the budget (its FORLOOP
# replaces the loop's back-jump, so an iteration costs no extra instruction; the budget
# left is saved when the loop exits); numeric `for` loops run in chunks of the engine's
# `__wfor` (lua/engine/forloop.lua); generic `for` and backward `goto` decrement `__wb`.
# `for v = A, b do` with A a non-negative integer literal first tries an inline check
# (FOR_FAST): an integer b whose iterations fit in the budget left is counted without
# calling `__wfor`. The chunk keeps `__wm` (math.type) and `__wfor` in locals, and its
# own budget cell `__wq` (PROLOGUE).
# Every text is emitted on the line of the token it follows, so line numbers stay.
PROLOGUE = "local __wb, __wm, __wq, __wfor = 1000, __wm, { 0 }, __wfor;"
BUDGET = " local __wb = 1000"
SAFEPOINT = " __wb = __wb - 1 if __wb <= 0 then __wb = __wpre() end"
LOOP_HEAD = "do while true do for __wk = __wb, 1, -1 do"
WHILE_TEST = "if not ("
WHILE_EXIT = ") then __wb = __wk - 1 goto __wbrk{} end"
REPEAT_TEST = "if ("
REPEAT_EXIT = " ) then __wb = __wk - 1 goto __wbrk{} end"
LOOP_TAIL = "end __wb = __wpre() end ::__wbrk{}:: end"
LOOP_BREAK = "__wb = __wk - 1 goto __wbrk{}"
FOR_HEAD = "do local __wi, __we, __ws, __wl = __wfor("
FOR_STEP = ", 1"
FOR_INNER = ", __wq ) while true do for"
FOR_FAST_HEAD = "do local __wi, __we, __ws, __wl ="
FOR_FAST = (", 1 if __wm(__we) == 'integer' and __we - __wi < __wq[1] then"
            " if __we >= __wi then __wq[1] = __wq[1] - (__we - __wi + 1) end"
            " else __wi, __we, __ws, __wl = __wfor(__wi, __we, __ws, __wq) end while true do for")
FOR_VARS = " = __wi, __we, __ws"
FOR_NEXT = " if __wl == nil then break end __wi, __we, __ws, __wl = __wfor(__we + __ws, __wl, __ws, __wq) end"
FOR_LABEL = " ::__wbrk{}::"
FOR_CLOSE = " end"
BREAK_GOTO = "goto __wbrk{}"
_SIMPLE = frozenset(("number", "string", "nil", "true", "false", "..."))
_FIELD_OK = frozenset(("name",)) | DIALECT_KEYWORDS  # names valid after `.`/`:` and as keys
_ANY_NAME = frozenset(("name",)) | RESERVED  # record field names in types may be any word
_LITERAL_ARG = frozenset(("number", "string", "true", "false", "nil", "-"))

ANY = ("any",)


def _returns(d: tuple) -> list:
    """Return types of a function type: ``(R1, R2)`` and ``()`` are lists, else one type."""
    return list(d[1]) if d[0] == "tup" else [d]


class Parser:
    """Parses one chunk; ``parse()`` returns (block, top-level type names)."""

    def __init__(self, source: str, chunk: str, preempt: bool = True) -> None:
        self.chunk = chunk
        self.preempt = preempt
        # enclosing loops of the current function: a loop whose `break` becomes a goto is
        # [label number, label used, goto text], a plain loop is None
        self.loops: list[list | None] = []
        self.labels = 0
        self.k, self.t, self.ln, self.off, self.src = tokenize(source, chunk)
        self.p = 0
        self.depth = 0
        self.mut: list[tuple[int, str, int]] = []  # split `>>`/`>=` tokens (for backtracking)
        self.in_cast = False
        self.vararg = True  # the chunk is a vararg function
        self.top_types: list[str] = []
        self.top_locals: set[str] = set()
        self.tparams: list[str] = []

    # ---- errors -------------------------------------------------------------------------

    def near(self, i: int) -> str:
        """The token as Lua 5.4 quotes it in messages (``'x'``, but ``<eof>`` bare)."""
        if self.k[i] == "<eof>":
            return "<eof>"
        return f"'{self.t[i]}'"

    def error_at(self, i: int, msg: str) -> LuaSyntaxError:
        return LuaSyntaxError(self.chunk, self.ln[i], col_of(self.src, self.off[i]), msg)

    def unexpected(self) -> LuaSyntaxError:
        return self.error_at(self.p, f"unexpected symbol near {self.near(self.p)}")

    def expected(self, what: str) -> LuaSyntaxError:
        return self.error_at(self.p, f"{what} expected near {self.near(self.p)}")

    def expect(self, kind: str) -> int:
        p = self.p
        if self.k[p] != kind:
            raise self.expected(f"'{kind}'")
        self.p = p + 1
        return p

    def expect_match(self, kind: str, opener: str, opener_i: int) -> int:
        p = self.p
        if self.k[p] != kind:
            if self.ln[opener_i] == self.ln[p]:
                raise self.expected(f"'{kind}'")
            raise self.error_at(
                p, f"'{kind}' expected (to close '{opener}' at line {self.ln[opener_i]}) "
                   f"near {self.near(p)}")
        self.p = p + 1
        return p

    def expect_name(self) -> int:
        p = self.p
        if self.k[p] != "name":
            raise self.expected("<name>")
        self.p = p + 1
        return p

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_LEVELS:
            raise self.error_at(self.p, "chunk has too many syntax levels")

    # ---- chunk and blocks ---------------------------------------------------------------

    def loop_body(self, body: list) -> list:
        """A loop body with a safepoint at its back-edge (not after a final return)."""
        if not self.preempt or body and self._starts_with(body[-1], "return"):
            return body
        return [body, SAFEPOINT]

    def _starts_with(self, node: object, kind: str) -> bool:
        first = self._first_token(node)
        return first is not None and self.k[first] == kind

    def _first_token(self, node: object) -> int | None:
        while type(node) is list and node:
            node = node[0]
        return node if type(node) is int else None

    def new_label(self) -> int:
        self.labels += 1
        return self.labels

    def parse(self) -> tuple[list, list[str]]:
        body = self.block(top=True)
        if self.k[self.p] != "<eof>":
            raise self.expected("<eof>")
        return body, self.top_types

    def block(self, top: bool = False) -> list:
        self.enter()
        k = self.k
        out: list = []
        stat = self.statement
        while True:
            kind = k[self.p]
            if kind in _BLOCK_END:
                break
            if kind == "return":
                out.append(self.retstat())
                break
            out.append(stat(top))
        self.depth -= 1
        return out

    def retstat(self) -> list:
        node: list = [self.p]
        self.p += 1
        kind = self.k[self.p]
        if kind not in _BLOCK_END and kind != ";":
            node.append(self.explist())
        if self.k[self.p] == ";":
            node.append(self.p)
            self.p += 1
        return node

    # ---- statements ---------------------------------------------------------------------

    def statement(self, top: bool):
        k = self.k
        p = self.p
        kind = k[p]
        if kind == "name":
            if self.t[p] == "type" and k[p + 1] == "name" and k[p + 2] in ("=", "<"):
                return self.typestat(top)
            return self.exprstat()
        if kind == "local":
            return self.localstat(top)
        if kind == "if":
            return self.ifstat()
        if kind == "function":
            return self.funcstat()
        if kind == "for":
            return self.forstat()
        if kind == "while":
            self.p += 1
            cond = self.expr()
            do_i = self.expect("do")
            if not self.preempt:
                body = self.loop_block(None)
                return [p, cond, do_i, body, self.expect_match("end", "while", p)]
            n = self.new_label()
            body = self.loop_block([n, True, LOOP_BREAK])
            end_i = self.expect_match("end", "while", p)
            ln = self.ln
            return [("at", LOOP_HEAD, ln[p]), ("at", WHILE_TEST, ln[p]), cond,
                    ("at", WHILE_EXIT.format(n), ln[do_i]), body, ("at", LOOP_TAIL.format(n), ln[end_i])]
        if kind == "do":
            self.p += 1
            body = self.block()
            return [p, body, self.expect_match("end", "do", p)]
        if kind == "repeat":
            self.p += 1
            if not self.preempt:
                body = self.loop_block(None)
                until_i = self.expect_match("until", "repeat", p)
                return [p, body, until_i, self.expr()]
            n = self.new_label()
            body = self.loop_block([n, True, LOOP_BREAK])
            if body and self._starts_with(body[-1], "return"):
                # the test follows the body now, and `return` must end its block
                body = [body[:-1], ("at", "do", self.ln[self._first_token(body[-1])]), body[-1], " end"]
            until_i = self.expect_match("until", "repeat", p)
            return [("at", LOOP_HEAD, self.ln[p]), body, ("at", REPEAT_TEST, self.ln[until_i]), self.expr(),
                    REPEAT_EXIT.format(n), " ", LOOP_TAIL.format(n)]
        if kind == ";":
            self.p += 1
            return p
        if kind == "::":
            self.p += 1
            name = self.expect_name()
            return [p, name, self.expect("::")]
        if kind == "break":
            self.p += 1
            loop = self.loops[-1] if self.loops else None
            if loop is None:
                return p
            loop[1] = True
            return ("at", loop[2].format(loop[0]), self.ln[p])
        if kind == "goto":
            self.p += 1
            if not self.preempt:
                return [p, self.expect_name()]
            return [SAFEPOINT, p, self.expect_name()]
        if kind == "interface":
            return self.interfacestat(top)
        return self.exprstat()

    def exprstat(self):
        start = self.p
        e, kind = self.suffixedexp()
        k = self.k
        if k[self.p] in ("=", ","):
            targets: list = [e]
            while True:
                if kind != "var":
                    raise self.error_at(self.p, f"syntax error near {self.near(self.p)}")
                if k[self.p] != ",":
                    break
                self.p += 1
                e, kind = self.suffixedexp()
                targets.append(",")
                targets.append(e)
            eq = self.expect("=")
            node = [targets, eq, self.explist()]
            if k[start] == "(":  # see below
                return [("at", ";", self.ln[start]), node]
            return node
        if kind != "call":
            raise self.error_at(self.p, f"syntax error near {self.near(self.p)}")
        if k[start] == "(":
            # Here `(` could not continue the previous statement, but once a trailing cast
            # (`x = a as T`) is erased Lua would read it as a call: separate explicitly.
            return [("at", ";", self.ln[start]), e]
        return e

    def localstat(self, top: bool = False) -> list:
        k = self.k
        local_i = self.p
        self.p += 1
        if k[self.p] == "function":
            fn_i = self.p
            self.p += 1
            name = self.expect_name()
            if top:
                self.top_locals.add(self.t[name])
            return [local_i, fn_i, name, self.funcbody(fn_i)]
        node: list = [local_i]
        while True:
            node.append(self.expect_name())
            if top:
                self.top_locals.add(self.t[node[-1]])
            if k[self.p] == "<":  # <const> / <close>
                lt = self.p
                self.p += 1
                attr = self.expect_name()
                if self.t[attr] not in ("const", "close"):
                    raise self.error_at(attr, f"unknown attribute '{self.t[attr]}'")
                node += [lt, attr, self.expect(">")]
            if k[self.p] == ":":
                self.p += 1
                self.type_expr()
            if k[self.p] != ",":
                break
            node.append(",")
            self.p += 1
        if k[self.p] == "=":
            node.append(self.p)
            self.p += 1
            node.append(self.explist())
        return node

    def ifstat(self) -> list:
        k = self.k
        if_i = self.p
        node: list = []
        while True:
            node.append(self.p)  # `if` / `elseif`
            self.p += 1
            node.append(self.expr())
            node.append(self.expect("then"))
            node.append(self.block())
            if k[self.p] != "elseif":
                break
        if k[self.p] == "else":
            node.append(self.p)
            self.p += 1
            node.append(self.block())
        node.append(self.expect_match("end", "if", if_i))
        return node

    def loop_block(self, loop: list | None) -> list:
        self.loops.append(loop)
        body = self.block()
        self.loops.pop()
        return body

    def forstat(self) -> list:
        k = self.k
        for_i = self.p
        self.p += 1
        name_i = self.expect_name()
        if k[self.p] == "=":
            eq_i = self.p
            self.p += 1
            start = self.expr()
            comma_i = self.expect(",")
            limit = self.expr()
            step: list = []
            if k[self.p] == ",":
                step = [self.p]
                self.p += 1
                step.append(self.expr())
            if self.preempt:
                return self.chunked_for(for_i, name_i, start, comma_i, limit, step)
            node: list = [for_i, name_i, eq_i, start, comma_i, limit, step]
        elif k[self.p] in (",", "in"):
            node = [for_i, name_i]
            while k[self.p] == ",":
                node.append(self.p)
                self.p += 1
                node.append(self.expect_name())
            node.append(self.expect("in"))
            node.append(self.explist())
        else:
            raise self.expected("'=' or 'in'")
        node.append(self.expect("do"))
        node.append(self.loop_body(self.loop_block(None)))
        node.append(self.expect_match("end", "for", for_i))
        return node

    def chunked_for(self, for_i: int, name_i: int, start, comma_i: int, limit, step: list) -> list:
        """A numeric `for` run in chunks by the engine's `__wfor` (lua/engine/forloop.lua)."""
        loop = [self.new_label(), False, BREAK_GOTO]
        if (not step and type(start) is int and self.k[start] == "number" and self.t[start].isdigit()
                and len(self.t[start]) <= 18):  # (an integer: longer literals may read as floats)
            head: list = [("at", FOR_FAST_HEAD, self.ln[for_i]), start, comma_i, limit, FOR_FAST]
        else:
            head = [("at", FOR_HEAD, self.ln[for_i]), start, comma_i, limit, step or FOR_STEP, FOR_INNER]
        node: list = [*head, name_i, FOR_VARS, self.expect("do"), self.loop_block(loop),
                      self.expect_match("end", "for", for_i), FOR_NEXT]
        if loop[1]:
            node.append(FOR_LABEL.format(loop[0]))
        node.append(FOR_CLOSE)
        return node

    def funcstat(self) -> list:
        k = self.k
        fn_i = self.p
        self.p += 1
        node: list = [fn_i, self.expect_name()]
        while k[self.p] == ".":
            node.append(self.p)
            self.p += 1
            node.append(self.field_name())
        if k[self.p] == ":":
            node.append(self.p)
            self.p += 1
            node.append(self.field_name())
        node.append(self.funcbody(fn_i))
        return node

    def field_name(self) -> int:
        p = self.p
        if self.k[p] not in _FIELD_OK:
            raise self.expected("<name>")
        self.p = p + 1
        return p

    def funcbody(self, fn_i: int) -> list:
        k = self.k
        if k[self.p] == "<":
            self.generic_params()
        node: list = [self.expect("(")]
        params = self.params()
        node.extend(params)
        node.append(self.expect(")"))
        if self.preempt:
            node.append(BUDGET)
        if k[self.p] == ":":
            self.p += 1
            self.return_types()
        saved, saved_loops = self.vararg, self.loops
        self.vararg = bool(params) and type(params[-1]) is int and k[params[-1]] == "..."
        self.loops = []
        node.append(self.block())
        self.vararg, self.loops = saved, saved_loops
        node.append(self.expect_match("end", "function", fn_i))
        return node

    def params(self) -> list:
        """Parameter list up to (not including) ``)``; type annotations are dropped."""
        k = self.k
        out: list = []
        if k[self.p] == ")":
            return out
        while True:
            kind = k[self.p]
            if kind == "name":
                out.append(self.p)
                self.p += 1
                if k[self.p] == ":":
                    self.p += 1
                    self.type_expr()
            elif kind == "...":
                out.append(self.p)
                self.p += 1
                if k[self.p] == ":":
                    self.p += 1
                    self.type_expr()
                break
            else:
                raise self.expected("<name> or '...'")
            if k[self.p] != ",":
                break
            out.append(",")
            self.p += 1
        return out

    def return_types(self) -> None:
        self.type_expr()
        while self.k[self.p] == ",":
            self.p += 1
            self.type_expr()

    def generic_params(self) -> list[str]:
        """``<T, U: C, V = D>`` after a function or type name; returns the names."""
        k = self.k
        self.p += 1  # '<'
        names = []
        while True:
            names.append(self.t[self.expect_name()])
            if k[self.p] == ":":
                self.p += 1
                self.type_expr()
            if k[self.p] == "=":
                self.p += 1
                self.type_expr()
            if k[self.p] != ",":
                break
            self.p += 1
        self.close_angle()
        return names

    def close_angle(self) -> None:
        p = self.p
        kind = self.k[p]
        if kind == ">":
            self.p = p + 1
        elif kind == ">>" or kind == ">=":
            # `Box<Box<T>>` / `x: Box<T>= v`: consume the first character only
            rest = kind[1]
            self.mut.append((p, kind, self.off[p]))
            self.k[p] = rest
            self.t[p] = rest
            self.off[p] += 1
        else:
            raise self.expected("'>'")

    def undo_mutations(self, mark: int) -> None:
        while len(self.mut) > mark:
            p, kind, off = self.mut.pop()
            self.k[p] = kind
            self.t[p] = kind
            self.off[p] = off

    def typestat(self, top: bool):
        k = self.k
        type_i = self.p
        name_i = self.p + 1
        self.p += 2
        tparams: list[str] = []
        if k[self.p] == "<":
            tparams = self.generic_params()
        self.expect("=")
        saved = self.tparams
        self.tparams = tparams
        desc = self.type_expr()
        self.tparams = saved
        return self.declared(top, type_i, name_i, desc, tparams)

    def declared(self, top: bool, start_i: int, name_i: int, desc: tuple, tparams: list[str]):
        if not top:
            return ("at", ";", self.ln[start_i])
        name = self.t[name_i]
        if name not in self.top_types:
            self.top_types.append(name)
        # a chunk-level local of the same name declared earlier keeps its value (in the
        # reference such a local shadows the type value); the type is only registered
        return ("type", name, desc, tparams, self.ln[start_i], name in self.top_locals)

    def interfacestat(self, top: bool):
        k = self.k
        int_i = self.p
        self.p += 1
        name_i = self.expect_name()
        tparams: list[str] = []
        if k[self.p] == "<":
            tparams = self.generic_params()
        saved = self.tparams
        self.tparams = tparams
        bases: list = []
        if k[self.p] == ":":
            self.p += 1
            bases.append(self.type_postfix())
            while k[self.p] == ",":
                self.p += 1
                bases.append(self.type_postfix())
        methods: list[str] = []
        fields: list = []
        while k[self.p] != "end":
            kind = k[self.p]
            if kind == "function":
                methods.append(self.method_sig())
            elif kind in (",", ";"):
                self.p += 1
            elif self.field_start(self.p):
                fields.append(self.record_field())
            elif kind == "<eof>":
                raise self.error_at(
                    self.p, f"'end' expected (to close 'interface' at line {self.ln[int_i]}) "
                            f"near <eof>")
            else:
                raise self.unexpected()
        self.p += 1
        self.tparams = saved
        return self.declared(top, int_i, name_i, ("iface", methods, fields, bases), tparams)

    # ---- expressions --------------------------------------------------------------------

    def explist(self) -> list:
        out = [self.expr()]
        k = self.k
        while k[self.p] == ",":
            self.p += 1
            out.append(",")
            out.append(self.expr())
        return out

    def expr(self, limit: int = 0):
        self.enter()
        k = self.k
        kind = k[self.p]
        if kind in _UNARY:
            op = self.p
            self.p += 1
            node = [op, self.expr(_UNARY_PRI)]
        else:
            node = self.simpleexp()
        binpri = _BINPRI
        seq = None  # left-associative chains stay one flat list (no deep nesting to emit)
        while True:
            kind = k[self.p]
            pri = binpri.get(kind)
            if pri is None or pri[0] <= limit:
                break
            op = self.p
            self.p += 1
            right = self.expr(pri[1])
            if kind == "..":
                node = ("cat", node, op, right)
                seq = None
            elif seq is not None:
                seq.append(op)
                seq.append(right)
            else:
                node = seq = [node, op, right]
        self.depth -= 1
        return node

    def simpleexp(self):
        k = self.k
        p = self.p
        kind = k[p]
        if kind in _SIMPLE:
            if kind == "..." and not self.vararg:
                raise self.error_at(p, "cannot use '...' outside a vararg function near '...'")
            self.p = p + 1
            node = p
        elif kind == "{":
            node = self.table()
        elif kind == "function":
            self.p = p + 1
            node = [p, self.funcbody(p)]
        else:
            node = self.suffixedexp()[0]
        # casts and `!` bind tighter than every binary operator
        while True:
            kind = k[self.p]
            if kind == "as":
                self.p += 1
                self.cast_type()
            elif kind == "::":
                if k[self.p + 1] == "name" and k[self.p + 2] == "::":
                    break  # a `::label::` statement follows
                self.p += 1
                self.cast_type()
            elif kind == "!":
                self.p += 1
            else:
                break
        return node

    def cast_type(self) -> None:
        saved = self.in_cast
        self.in_cast = True
        try:
            self.type_postfix()
        finally:
            self.in_cast = saved

    def suffixedexp(self):
        """Primary expression and its suffixes; returns (node, "var" | "call" | "other")."""
        k = self.k
        p = self.p
        kind = k[p]
        if kind == "name" or (kind == "typeof" and k[p + 1] == "("):
            # `typeof` is reserved, but `typeof(v)` is also a documented builtin call
            node = p
            self.p = p + 1
            what = "var"
        elif kind == "(":
            self.p = p + 1
            inner = self.expr()
            node = [p, inner, self.expect_match(")", "(", p)]
            what = "other"
        else:
            raise self.unexpected()
        node = [node]  # suffixes extend one flat list
        while True:
            p = self.p
            kind = k[p]
            if kind == ".":
                self.p = p + 1
                node.append(p)
                node.append(self.field_name())
                what = "var"
            elif kind == "[":
                self.p = p + 1
                node.append(p)
                node.append(self.expr())
                node.append(self.expect("]"))
                what = "var"
            elif kind == ":":
                self.p = p + 1
                node.append(p)
                node.append(self.field_name())
                node.append(self.callargs())
                what = "call"
            elif kind == "(" or kind == "string" or kind == "{":
                node.append(self.callargs())
                what = "call"
            elif kind == "!":
                self.p = p + 1
                what = "other"
            else:
                return node, what

    def callargs(self):
        k = self.k
        p = self.p
        kind = k[p]
        if kind == "string":
            self.p = p + 1
            return p
        if kind == "{":
            return self.table()
        if kind != "(":
            raise self.expected("function arguments")
        self.p = p + 1
        if k[self.p] == ")":
            self.p += 1
            return [p, self.p - 1]
        args = self.explist()
        return [p, args, self.expect_match(")", "(", p)]

    def table(self) -> list:
        k = self.k
        lb = self.p
        self.p += 1
        node: list = [lb]
        while k[self.p] != "}":
            p = self.p
            kind = k[p]
            if kind == "[":
                self.p = p + 1
                key = self.expr()
                rb = self.expect("]")
                eq = self.expect("=")
                node += [p, key, rb, eq, self.expr()]
            elif kind in _FIELD_OK and k[p + 1] == "=":
                self.p = p + 2
                node += [p, p + 1, self.expr()]
            else:
                node.append(self.expr())
            if k[self.p] in (",", ";"):
                node.append(self.p)
                self.p += 1
            else:
                break
        node.append(self.expect_match("}", "{", lb))
        return node

    # ---- type expressions ---------------------------------------------------------------
    # Descriptors: ("n", name, args) named type, ("lit", lua_text), ("rec", fields),
    # ("arr", d), ("map", k, v), ("un", ds), ("in", ds), ("opt", d), ("fn", params, returns)
    # (or ("fn",) when unknown), ("any",),
    # ("ann", d, {name: lua_text}), ("iface", methods, fields, bases), ("tup", ds).

    def type_expr(self) -> tuple:
        self.enter()
        d = self.type_union(False)
        if self.k[self.p] == "extends":
            self.p += 1
            self.type_union(True)
            self.expect("?")
            self.type_expr()
            self.expect(":")
            self.type_expr()
            d = ANY
        self.depth -= 1
        return d

    def type_union(self, no_opt: bool) -> tuple:
        k = self.k
        if k[self.p] == "|":
            self.p += 1
        d = self.type_inter(no_opt)
        if k[self.p] != "|":
            return d
        parts = [d]
        while k[self.p] == "|":
            self.p += 1
            parts.append(self.type_inter(no_opt))
        return ("un", parts)

    def type_inter(self, no_opt: bool) -> tuple:
        k = self.k
        d = self.type_postfix(no_opt)
        if k[self.p] != "&":
            return d
        parts = [d]
        while k[self.p] == "&":
            self.p += 1
            parts.append(self.type_postfix(no_opt))
        return ("in", parts)

    def type_postfix(self, no_opt: bool = False) -> tuple:
        k = self.k
        d = self.type_primary()
        cast = self.in_cast
        while True:
            kind = k[self.p]
            if kind == "?" and not no_opt:
                self.p += 1
                d = ("opt", d)
            elif kind == "[":
                if k[self.p + 1] == "]":
                    self.p += 2
                    d = ("arr", d)
                elif cast:
                    break
                else:
                    self.p += 1
                    self.type_expr()
                    self.expect("]")
                    d = ANY
            elif kind == "@" and not cast:
                d = self.annotations(d)
            else:
                return d

    def annotations(self, d: tuple) -> tuple:
        k = self.k
        anns: dict[str, str] = {}
        while k[self.p] == "@":
            self.p += 1
            name = self.t[self.p]
            if k[self.p] not in _ANY_NAME:
                raise self.expected("<name>")
            self.p += 1
            if k[self.p] == "(":
                lp = self.p
                self.p += 1
                if k[self.p] != ")":
                    saved = self.in_cast
                    self.in_cast = False
                    self.explist()
                    self.in_cast = saved
                rp = self.expect_match(")", "(", lp)
                one = rp == lp + 2 and k[lp + 1] in _LITERAL_ARG
                neg = rp == lp + 3 and k[lp + 1] == "-" and k[lp + 2] == "number"
                if (one or neg) and "\n" not in self.t[rp - 1]:
                    anns[name] = "".join(self.t[lp + 1:rp])
        return ("ann", d, anns) if anns else d

    def type_primary(self) -> tuple:
        k = self.k
        p = self.p
        kind = k[p]
        if kind == "name":
            self.p = p + 1
            name = self.t[p]
            if k[self.p] == "is":  # predicate return type `x is T`
                self.p += 1
                self.type_postfix()
                return ("n", "boolean", None)
            while k[self.p] == "." and k[self.p + 1] in _FIELD_OK:
                name += "." + self.t[self.p + 1]
                self.p += 2
            args = None
            if k[self.p] == "<":
                args = self.type_args()
            return ("n", name, args)
        if kind == "string" or kind == "number" or kind == "true" or kind == "false":
            self.p = p + 1
            return ("lit", self.t[p])
        if kind == "nil":
            self.p = p + 1
            return ("n", "nil", None)
        if kind == "-" and k[p + 1] == "number":
            self.p = p + 2
            return ("lit", "-" + self.t[p + 1])
        if kind == "{":
            return self.table_type()
        if kind == "(":
            return self.paren_type()
        if kind == "<" and k[p + 1] == "name":  # generic function type `<T>(x: T) -> T`
            self.generic_params()
            if k[self.p] != "(":
                raise self.expected("'('")
            return self.paren_type()
        if kind == "fun" or kind == "function":
            self.p = p + 1
            if k[self.p] == "<":
                self.generic_params()
            lp = self.expect("(")
            params = self.type_items()[0]
            self.expect_match(")", "(", lp)
            rets: list = []
            if k[self.p] == ":":
                self.p += 1
                rets = _returns(self.type_union(False))
            return ("fn", params, rets)
        if kind == "typeof":
            self.p = p + 1
            lp = self.expect("(")
            saved = self.in_cast
            self.in_cast = False
            self.expr()
            self.in_cast = saved
            self.expect_match(")", "(", lp)
            return ANY
        if kind == "keyof":
            self.p = p + 1
            if k[self.p] == "(":
                lp = self.p
                self.p += 1
                self.type_expr()
                self.expect_match(")", "(", lp)
            else:
                self.type_postfix()
            return ("n", "string", None)
        if kind == "readonly":
            self.p = p + 1
            return self.type_postfix()
        if kind == "asserts":
            self.p = p + 1
            self.expect_name()
            if k[self.p] == "is":
                self.p += 1
                self.type_postfix()
            return ANY
        if kind == "interface" and k[p + 1] == "{":
            self.p = p + 1
            return self.table_type()
        if kind == "...":
            self.p = p + 1
            if k[self.p] not in (")", ","):
                self.type_postfix()
            return ANY
        raise self.error_at(p, f"type expected near {self.near(p)}")

    def type_args(self) -> list:
        """``<T, U>`` after a type name; in a cast, a failed attempt backtracks (``x as T < y``)."""
        start = self.p
        mark = len(self.mut)
        depth = self.depth
        try:
            self.p += 1
            args = [self.type_expr()]
            while self.k[self.p] == ",":
                self.p += 1
                args.append(self.type_expr())
            self.close_angle()
            return args
        except LuaSyntaxError:
            if not self.in_cast:
                raise
            self.p = start
            self.depth = depth
            self.undo_mutations(mark)
            return None

    def method_sig(self, multi: bool = True) -> str:
        """``function name<T>(params): returns`` inside an interface or record type (in a
        record, ``,`` separates fields, so only a single or parenthesised return type)."""
        k = self.k
        self.p += 1
        name = self.t[self.field_name()]
        if k[self.p] == "<":
            self.generic_params()
        lp = self.expect("(")
        self.params()
        self.expect_match(")", "(", lp)
        if k[self.p] == ":":
            self.p += 1
            if multi:
                self.return_types()
            else:
                self.type_expr()
        return name

    def string_key(self, p: int) -> bool:
        """``["key"]?:`` in a record type: a field whose name is not an identifier."""
        k = self.k
        if k[p] != "[" or k[p + 1] != "string" or k[p + 2] != "]" or "\n" in self.t[p + 1]:
            return False
        return k[p + 3] == ":" or (k[p + 3] == "?" and k[p + 4] == ":")

    def field_start(self, p: int) -> bool:
        """Does a record field (``name:``, ``name?:``, ``readonly name:``) start at ``p``?"""
        k = self.k
        if k[p] not in _ANY_NAME:
            return False
        nxt = k[p + 1]
        if nxt == ":" or (nxt == "?" and k[p + 2] == ":"):
            return True
        return k[p] == "readonly" and self.field_start(p + 1)

    def record_field(self) -> tuple:
        k = self.k
        if k[self.p] == "readonly" and k[self.p + 1] != ":" and k[self.p + 1] != "?":
            self.p += 1  # `readonly name: T`
        name = self.t[self.p]
        self.p += 1
        if k[self.p] == "]":  # after `["key"`
            self.p += 1
        opt = False
        if k[self.p] == "?":
            opt = True
            self.p += 1
        self.expect(":")
        return (name, self.type_expr(), opt)

    def table_type(self) -> tuple:
        k = self.k
        lb = self.p
        self.p += 1
        kind = k[self.p]
        if kind == "}":
            self.p += 1
            return ("rec", [])
        if kind == "[" and not self.string_key(self.p):
            self.p += 1
            kd = self.type_expr()
            self.expect("]")
            self.expect(":")
            d = ("map", kd, self.type_expr())
            if k[self.p] in (",", ";"):
                self.p += 1
                self.record_rest()
            self.expect_match("}", "{", lb)
            return d
        if self.field_start(self.p) or self.string_key(self.p) or (
                kind == "function" and k[self.p + 1] in _FIELD_OK):
            fields = self.record_rest()
            self.expect_match("}", "{", lb)
            return ("rec", fields)
        d = ("arr", self.type_expr())
        if k[self.p] in (",", ";"):
            self.p += 1
        self.expect_match("}", "{", lb)
        return d

    def record_rest(self) -> list:
        k = self.k
        fields = []
        while k[self.p] != "}":
            kind = k[self.p]
            if self.string_key(self.p):  # `["content-type"]: string` is a named field
                self.p += 1
                fields.append(self.record_field())
            elif kind == "[":
                self.p += 1
                self.type_expr()
                self.expect("]")
                self.expect(":")
                self.type_expr()
            elif kind == "...":
                self.p += 1
            elif kind == "function" and k[self.p + 1] in _FIELD_OK:
                fields.append((self.method_sig(False), ("fn",), False))
            elif self.field_start(self.p):
                fields.append(self.record_field())
            else:
                raise self.expected("'}'")
            if k[self.p] in (",", ";"):
                self.p += 1
            else:
                break
        return fields

    def type_items(self) -> tuple[list, bool]:
        """Items of a parenthesised type list (function params or a tuple) up to ``)``."""
        k = self.k
        items: list = []
        named = False
        while k[self.p] != ")":
            kind = k[self.p]
            if kind == "...":
                self.p += 1
                if k[self.p] == ":":
                    self.p += 1
                if k[self.p] not in (")", ","):
                    self.type_expr()
                items.append(ANY)
                named = True
            elif kind in _ANY_NAME and k[self.p + 1] == ":":
                self.p += 2
                items.append(self.type_expr())
                named = True
            elif kind in _ANY_NAME and k[self.p + 1] == "?" and k[self.p + 2] == ":":
                self.p += 3
                items.append(self.type_expr())
                named = True
            else:
                items.append(self.type_expr())
            if k[self.p] != ",":
                break
            self.p += 1
        return items, named

    def paren_type(self) -> tuple:
        lp = self.p
        self.p += 1
        saved = self.in_cast
        self.in_cast = False
        items, named = self.type_items()
        self.in_cast = saved
        self.expect_match(")", "(", lp)
        if self.k[self.p] == "->":
            self.p += 1
            ret = self.type_postfix() if saved else self.type_union(False)
            return ("fn", items, _returns(ret))
        if len(items) == 1 and not named:
            return items[0]
        return ("tup", items)
