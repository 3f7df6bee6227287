"""Emitter: AST -> plain Lua 5.4 with every token on its original line.

Output is built token by token: before a token on a later line the emitter writes the
missing newlines, otherwise a single space (so erasing never glues tokens together, e.g.
``a - -b`` can never become a comment). Types simply produce no tokens.

Engine conventions implemented here:

* a ``..`` chain whose operands are not all string literals becomes ``__wcat(a, b, c)``
  (the engine's global formats floats as the reference prints them); ``__wcat(`` sits on
  the line of the chain's first operand and each comma on the line of the ``..`` it
  replaces;
* top-level ``type``/``interface`` declarations become runtime type values: the chunk
  starts with ``local __wt, A, B = {}`` (all top-level type names, so forward and
  recursive references work and a later ``local A = {}`` class table cannot shadow the
  type for other types) and each declaration becomes, on its own line,
  ``A = __wtype(<descriptor>, "A", __wt, <type params>);`` (see lua/engine/types.lua), or
  just the call when a chunk-level ``local A`` declared earlier must keep its value;
* string escapes follow the reference's Lua 5.1 lexer: an unknown escape yields the
  character (``"\\x41"`` is ``"x41"``), so the backslash is dropped before Lua 5.4 sees it.
"""

from __future__ import annotations

import re

from .parser import PROLOGUE

_BAD_ESCAPE = re.compile(r"\\([^abfnrtv\\\"'\n0-9])")
_BUILTIN_TYPES = frozenset(
    "number integer string boolean any unknown nil never table function thread userdata".split()
)
ANY_DESC = '"any"'
_VALIDATORS = frozenset(("min", "max", "min_len", "max_len", "pattern"))


def fix_string(text: str) -> str:
    """Rewrite a short string literal so Lua 5.4 reads it as the reference's lexer does."""
    if text[0] == "[" or "\\" not in text:
        return text
    out = []
    i = 0
    n = len(text)
    while True:
        j = text.find("\\", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        c = text[j + 1] if j + 1 < n else ""
        if c in "abfnrtv\\\"'\n0123456789" and c:
            out.append(text[j:j + 2])
        else:
            out.append(c)
        i = j + 2
    return "".join(out)


def _key(name: str) -> str:
    """A record field name as a Lua string literal (``["a-b"]`` keys are literals already)."""
    return fix_string(name) if name[0] in "\"'" else f'"{name}"'


class Emitter:
    """Writes one parsed chunk; ``run(block)`` returns the Lua text."""

    def __init__(self, kinds: list[str], texts: list[str], lines: list[int],
                 top_types: list[str], preempt: bool = True) -> None:
        self.preempt = preempt
        self.k = kinds
        self.t = texts
        self.ln = lines
        self.top = frozenset(top_types)
        self.top_types = top_types
        self.out: list[str] = []
        self.line = 1

    def run(self, block: list) -> str:
        self.decls = {n[1]: (n[2], n[3]) for n in block if type(n) is tuple and n[0] == "type"}
        self.expanding: set[str] = set()
        if self.preempt:
            self.out.append(PROLOGUE)
        if self.top_types:
            self.out.append(" local __wt, " + ", ".join(self.top_types) + " = {};")
        self.emit_list(block)
        self.out.append("\n")
        return "".join(self.out)

    def emit_list(self, nodes: list) -> None:
        out = self.out
        append = out.append
        kinds, texts, lines = self.k, self.t, self.ln
        for x in nodes:
            tp = type(x)
            if tp is int:
                ln = lines[x]
                if ln > self.line:
                    append("\n" * (ln - self.line))
                    self.line = ln
                else:
                    append(" ")
                if kinds[x] == "string":
                    text = fix_string(texts[x])
                    append(text)
                    if "\n" in text:
                        self.line += text.count("\n")
                else:
                    append(texts[x])
            elif tp is list:
                self.emit_list(x)
            elif tp is str:
                append(x)
            else:
                self.special(x)

    def at(self, text: str, line: int) -> None:
        if line > self.line:
            self.out.append("\n" * (line - self.line))
            self.line = line
        else:
            self.out.append(" ")
        self.out.append(text)

    def first_line(self, node) -> int:
        while True:
            tp = type(node)
            if tp is int:
                return self.ln[node]
            if tp is list:
                node = node[0]
            elif tp is tuple and node[0] == "cat":
                node = node[1]
            elif tp is tuple and node[0] == "at":
                return node[2]
            else:
                return self.line

    def special(self, node: tuple) -> None:
        tag = node[0]
        if tag == "cat":
            self.concat(node)
        elif tag == "at":
            self.at(node[1], node[2])
        elif tag == "type":
            _, name, desc, tparams, line, shadowed = node
            tp = "{" + ",".join(f'"{p}"' for p in tparams) + "}" if tparams else "nil"
            text = self.desc(desc, dict.fromkeys(tparams, ANY_DESC))
            call = f'__wtype({text}, "{name}", __wt, {tp});'
            self.at(call if shadowed else f"{name} = {call}", line)

    def concat(self, node: tuple) -> None:
        operands: list = []
        ops: list[int] = []
        stack = [node]
        while stack:  # flatten the chain, keeping source order
            n = stack.pop()
            if type(n) is tuple and n[0] == "cat":
                stack.append(n[3])
                stack.append(("op", n[2]))
                stack.append(n[1])
            elif type(n) is tuple and n[0] == "op":
                ops.append(n[1])
            else:
                operands.append(n)
        kinds = self.k
        if all(type(o) is int and kinds[o] == "string" for o in operands):
            seq: list = [operands[0]]
            for op, o in zip(ops, operands[1:], strict=True):
                seq.append(op)
                seq.append(o)
            self.emit_list(seq)
            return
        self.at("__wcat(", self.first_line(operands[0]))
        self.emit_list([operands[0]])
        lines = self.ln
        last = operands[-1]
        if type(last) is not int or kinds[last] == "...":
            # a call or `...` as the last argument would pass all its values; `..` takes one
            operands[-1] = ["(", last, ")"]
        for op, o in zip(ops, operands[1:], strict=True):
            self.at(",", lines[op])
            self.emit_list([o])
        self.out.append(")")

    # ---- type descriptors (Lua table constructors, see lua/engine/types.lua) ------------

    def desc(self, d: tuple, env: dict[str, str]) -> str:
        tag = d[0]
        sub = self.desc
        if tag == "n":
            name = d[1]
            if name in env:
                return env[name]
            if name in self.top:
                return self.generic_instance(name, d[2], env) or f'{{k="ref",n="{name}",r=__wt}}'
            if name in _BUILTIN_TYPES:
                return f'"{name}"'
            return '"any"'
        if tag == "lit":
            text = d[1]
            if "\n" in text:
                return '"any"'
            if text[0] in "\"'[":
                text = fix_string(text)
            return f"{{k=\"lit\",v={text}}}"
        if tag == "rec":
            fields = ",".join(
                f'{{{_key(name)},{sub(fd, env)},{"true" if opt else "false"}}}'
                for name, fd, opt in d[1])
            return f'{{k="record",f={{{fields}}}}}'
        if tag == "arr":
            return f'{{k="array",e={sub(d[1], env)}}}'
        if tag == "map":
            return f'{{k="map",key={sub(d[1], env)},val={sub(d[2], env)}}}'
        if tag == "un" or tag == "in":
            kind = "union" if tag == "un" else "inter"
            return f'{{k="{kind}",v={{{",".join(sub(x, env) for x in d[1])}}}}}'
        if tag == "opt":
            return f'{{k="optional",e={sub(d[1], env)}}}'
        if tag == "fn":
            if len(d) == 1:
                return '"function"'
            params = ",".join(sub(x, env) for x in d[1])
            rets = ",".join(sub(x, env) for x in d[2])
            return f'{{k="function",p={{{params}}},r={{{rets}}}}}'
        if tag == "ann":
            extra = "".join(f",{n}={v}" for n, v in d[2].items() if n in _VALIDATORS)
            return f'{{k="ann",e={sub(d[1], env)}{extra}}}'
        if tag == "iface":
            _, methods, fields, bases = d
            ms = ",".join(f'"{m}"' for m in methods)
            fs = ",".join(
                f'{{{_key(name)},{sub(fd, env)},{"true" if opt else "false"}}}'
                for name, fd, opt in fields)
            bs = ",".join(sub(b, env) for b in bases)
            return f'{{k="interface",m={{{ms}}},f={{{fs}}},b={{{bs}}}}}'
        return '"any"'

    def generic_instance(self, name: str, args: list | None, env: dict[str, str]) -> str | None:
        """``Pair<string, number>`` of a top-level generic: its descriptor with the arguments
        substituted (so fields are checked precisely); None means "use a plain reference"
        (no arguments, not generic, or already being expanded: recursive generics)."""
        decl = self.decls.get(name)
        if not args or decl is None or not decl[1] or name in self.expanding:
            return None
        target, tparams = decl
        inner = {p: self.desc(args[i], env) if i < len(args) else '"any"' for i, p in enumerate(tparams)}
        self.expanding.add(name)
        try:
            return self.desc(target, inner)
        finally:
            self.expanding.discard(name)
