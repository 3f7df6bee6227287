"""Process identifiers: the `PID` value and the `PidGen` counter.

A PID names an actor anywhere in a cluster: the relay node it lives on, the host
(`process.host` registry ID, a function pool, `node:control`, ...) that owns its inbox,
and a unique ID within the runtime. Its string form is part of the user-visible
contract because Lua scripts print and compare PIDs:

    {host|uniq}          node == ""  (standalone / local node)
    {node@host|uniq}     node != ""

The reference runtime omits the node part when the node ID is `local`; here the rule is
expressed on the value itself: whoever builds a local PID leaves `node` empty, and the
relay treats an empty node as "this node". That keeps `str()` a pure function of the
fields (no global "what is my node name" lookup on a hot path).

Parsing follows the reference: braces are required ("invalid pid format: missing
braces"), a `|` is required ("invalid pid format: missing pipe"), and the legacy
three-part form `{host|x|uniq}` keeps the part after the last pipe. Parsing is cached
(`PID.parse` is memoised) because the relay parses the same few target strings over and
over; PIDs are immutable so sharing cached instances is safe.

`PidGen` renders a per-runtime counter as `0x` + lowercase hex with at least five
digits (`0x00001`, ..., `0xfffff`, `0x100000`). Numbers are taken under a lock, one at
a time or in blocks (`reserve`): a shard takes a block and numbers the processes it
spawns on its own host itself, so PIDs are unique but not in spawn order across shards.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["PID", "PidGen", "PidFormatError"]


class PidFormatError(ValueError):
    """A string that is not a PID."""


@dataclass(frozen=True, slots=True)
class PID:
    """An actor address: `node` ("" = local), `host` ID and `uniq` ID."""

    node: str
    host: str
    uniq: str

    def __str__(self) -> str:
        if self.node:
            return f"{{{self.node}@{self.host}|{self.uniq}}}"
        return f"{{{self.host}|{self.uniq}}}"

    def __repr__(self) -> str:
        return f"PID({str(self)!r})"

    @property
    def is_local(self) -> bool:
        return not self.node

    def with_node(self, node: str) -> PID:
        """The same actor addressed with an explicit node (for cross-node replies)."""
        return PID(node, self.host, self.uniq)

    @staticmethod
    def parse(text: str) -> PID:
        """Parse `{host|uniq}` / `{node@host|uniq}`; raise `PidFormatError`."""
        return _parse(text)


@lru_cache(maxsize=65536)
def _parse(text: str) -> PID:
    s = text.strip()
    if len(s) < 2 or s[0] != "{" or s[-1] != "}":
        raise PidFormatError("invalid pid format: missing braces")
    inner = s[1:-1]
    first = inner.find("|")
    if first < 0:
        raise PidFormatError("invalid pid format: missing pipe")
    head = inner[:first]
    uniq = inner[inner.rfind("|") + 1 :]  # legacy {host|x|uniq}: keep the last part
    at = head.find("@")
    if at >= 0:
        return PID(head[:at], head[at + 1 :], uniq)
    return PID("", head, uniq)


class PidGen:
    """Thread-safe generator of unique IDs (`0x00001`, ...) and PIDs for one runtime."""

    __slots__ = ("_next", "_lock", "node")

    def __init__(self, node: str = "", start: int = 1) -> None:
        self.node = node
        self._next = start
        self._lock = threading.Lock()

    def next_uniq(self) -> str:
        return f"0x{self.reserve(1):05x}"

    def reserve(self, count: int) -> int:
        """Take ``count`` consecutive numbers; returns the first (a shard numbers its own
        spawns from such a block without asking for each)."""
        with self._lock:
            first = self._next
            self._next = first + count
        return first

    def new(self, host: str) -> PID:
        """A fresh PID on `host` (node = this generator's node, "" for local)."""
        return PID(self.node, host, self.next_uniq())
