"""Typed-Lua compiler: Wippy's dialect in, plain Lua 5.4 out.

Public face of the package; the machinery lives in ``lexer`` (tokens), ``parser`` (a
recursive-descent parser building a token-index AST) and ``emitter`` (Lua text keeping
every token on its source line, types erased, runtime type values for top-level
declarations). ``CompileCache`` makes a warm start parse nothing: results are keyed by the
xxh3-64 of compiler version + source, held in memory and optionally on disk.

How the engine loads the output: ``"return function(_ENV, ...) " .. code .. "\\nend"``
compiled once per Lua state. The code calls two engine globals, ``__wcat`` (number
formatting concatenation) and ``__wtype`` (from lua/engine/types.lua).
"""

from __future__ import annotations

import os
import sys
import threading

import xxhash

from .errors import LuaSyntaxError

__all__ = ["COMPILER_VERSION", "Compiled", "CompileCache", "LuaSyntaxError", "compile_source",
           "lint_files"]


def _version() -> str:
    """Release number plus a digest of the compiler's own sources, so a cache written by any
    other build of the compiler (even an unreleased edit) is never reused."""
    here = os.path.dirname(os.path.abspath(__file__))
    digest = xxhash.xxh3_64()
    for name in ("lexer.py", "parser.py", "emitter.py", "errors.py"):
        try:
            with open(os.path.join(here, name), "rb") as f:
                digest.update(f.read())
        except OSError:
            digest.update(name.encode())
    return "1.0+" + digest.hexdigest()[:12]


COMPILER_VERSION = _version()

# The parser refuses nesting beyond 200 syntax levels (as Lua does); a few Python frames per
# level need more than the default limit. Python 3.11 frames do not use the C stack.
if sys.getrecursionlimit() < 10000:
    sys.setrecursionlimit(10000)


class Compiled:
    """Result of compiling one chunk."""

    __slots__ = ("code", "type_names")

    def __init__(self, code: str, type_names: tuple[str, ...]) -> None:
        self.code = code
        self.type_names = type_names

    def __repr__(self) -> str:
        return f"Compiled({len(self.code)} chars, types={self.type_names!r})"


def compile_source(source: str, chunkname: str, preempt: bool = True) -> Compiled:
    """Compile typed Lua ``source``; raises LuaSyntaxError (and nothing else) on bad input.

    ``preempt=False`` leaves out the preemption safepoints (``lua.preempt: false``).
    """
    try:
        from .emitter import Emitter  # a warm start (every file cached) never parses
        from .parser import Parser

        parser = Parser(source, chunkname, preempt)
        block, types = parser.parse()
        code = Emitter(parser.k, parser.t, parser.ln, types, preempt).run(block)
    except RecursionError:
        raise LuaSyntaxError(chunkname, 1, 1, "chunk has too many syntax levels") from None
    return Compiled(code, tuple(types))


def _key(source: str, preempt: bool) -> str:
    mode = "" if preempt else "np"
    return xxhash.xxh3_64_hexdigest((COMPILER_VERSION + mode + "\0" + source).encode("utf-8", "surrogatepass"))


class CompileCache:
    """Memoises ``compile_source`` by content hash, in memory and under ``cache_dir``.

    A disk entry is ``<key>.lua``: a first line with the comma-separated type names, then
    the code. Failed compilations are not cached (the error names the chunk).
    """

    def __init__(self, cache_dir: str | None = None, preempt: bool = True) -> None:
        self.cache_dir = cache_dir
        self.preempt = preempt
        self._mem: dict[str, Compiled] = {}
        if cache_dir is not None:
            os.makedirs(cache_dir, exist_ok=True)

    def compile(self, source: str, chunkname: str) -> Compiled:
        key = _key(source, self.preempt)
        hit = self._mem.get(key)
        if hit is not None:
            return hit
        if self.cache_dir is not None:
            path = os.path.join(self.cache_dir, key + ".lua")
            try:
                with open(path, "rb") as f:
                    data = f.read()
                nl = data.index(b"\n")
                names = tuple(n for n in data[:nl].decode("ascii").split(",") if n)
                result = Compiled(data[nl + 1:].decode("utf-8", "surrogatepass"), names)
            except (OSError, ValueError):  # missing, truncated or foreign: compile anew
                pass
            else:
                self._mem[key] = result
                return result
        result = compile_source(source, chunkname, self.preempt)
        self._mem[key] = result
        if self.cache_dir is not None:
            self._store(key, result)
        return result

    def _store(self, key: str, result: Compiled) -> None:
        path = os.path.join(self.cache_dir, key + ".lua")
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"  # engine workers are threads
        try:
            with open(tmp, "wb") as f:
                f.write((",".join(result.type_names) + "\n" + result.code).encode("utf-8", "surrogatepass"))
            os.replace(tmp, path)
        except OSError:  # a read-only or full cache dir only costs speed
            try:
                os.unlink(tmp)
            except OSError:
                pass


def lint_files(paths: list[str] | list[os.PathLike]) -> list[LuaSyntaxError]:
    """Compile every file and return all syntax errors (an unreadable file is line 0)."""
    errors: list[LuaSyntaxError] = []
    for path in map(os.fspath, paths):
        try:
            with open(path, encoding="utf-8") as f:
                source = f.read()
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(LuaSyntaxError(path, 0, 0, f"cannot read file: {exc}"))
            continue
        try:
            compile_source(source, path)
        except LuaSyntaxError as exc:
            errors.append(exc)
    return errors
