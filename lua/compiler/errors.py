"""The compiler's one exception type."""

from __future__ import annotations


class LuaSyntaxError(Exception):
    """A parse error at ``file:line:col``; ``str()`` gives ``file:line:col: message``."""

    def __init__(self, file: str, line: int, col: int, message: str) -> None:
        super().__init__(f"{file}:{line}:{col}: {message}")
        self.file = file
        self.line = line
        self.col = col
        self.message = message

    def __reduce__(self):  # keep it picklable despite the custom __init__
        return (LuaSyntaxError, (self.file, self.line, self.col, self.message))
