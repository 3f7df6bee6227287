"""Durations as Wippy configuration writes them: Go-style strings and bare numbers.

Every duration a user types, in YAML (``lifecycle.start_timeout: 10s``) or in Lua
(``time.after("250ms")``), uses the syntax of Go's ``time.ParseDuration``: an optional
sign, then one or more decimal numbers each followed by a unit (``ns``, ``us``/``µs``,
``ms``, ``s``, ``m``, ``h``), as in ``"1h30m"``, ``"1.5s"`` or ``"-2m3.5s"``. The lone
string ``"0"`` is the only unit-less value Go accepts. We reproduce Go's rules and error
texts (``time: invalid duration "x"``, ``time: missing unit in duration "1"``, ``time:
unknown unit "d" in duration "1d"``) because users see them in error messages.

Why integers: the core parser, :func:`parse_duration_ns`, works in integer nanoseconds
like Go does, so that ``"1.000000001s"`` survives exactly and the ``time`` module (whose
numbers are nanoseconds, spec C10) can hand out exact values. Everything that feeds trio
wants float seconds, so :func:`parse_duration` and :func:`to_seconds` return those.

Why an explicit unit for numbers: a bare number means different things in different
places (spec §4: nanoseconds in ``time``, seconds for store TTLs and lifecycle fields,
milliseconds for ``funcs`` timeouts). :func:`to_seconds` therefore takes the unit of a
bare number as an argument instead of guessing; the default, seconds, is the one used
by the ``lifecycle`` block.

:func:`format_duration` is Go's ``Duration.String()`` (``"1m30s"``, ``"200ms"``,
``"1h0m0s"``), so log lines and error messages read like the reference's.

XX: Go rejects durations above 2^63-1 ns (about 292 years) and so do we; a caller that
wants "forever" should use ``None`` or ``math.inf`` rather than a huge string.
"""

from __future__ import annotations

import math

__all__ = [
    "HOUR",
    "MICROSECOND",
    "MILLISECOND",
    "MINUTE",
    "NANOSECOND",
    "SECOND",
    "DurationError",
    "format_duration",
    "parse_duration",
    "parse_duration_ns",
    "to_seconds",
]

# Units in seconds, for ``to_seconds(number_unit=...)``.
NANOSECOND = 1e-9
MICROSECOND = 1e-6
MILLISECOND = 1e-3
SECOND = 1.0
MINUTE = 60.0
HOUR = 3600.0

_NS_PER_UNIT: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_MAX_NS = (1 << 63) - 1
_NS_PER_SECOND = 1_000_000_000


class DurationError(ValueError):
    """A duration that cannot be parsed; the message follows Go's wording."""


def parse_duration_ns(text: str) -> int:
    """Parse a Go duration string into integer nanoseconds (exact, may be negative)."""
    if not isinstance(text, str):
        raise DurationError(f"time: invalid duration {_quote(str(text))}")
    original = text
    s = text
    negative = False
    if s[:1] in ("-", "+"):
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        raise DurationError(f"time: invalid duration {_quote(original)}")

    total = 0
    while s:
        # The number: integer digits, then an optional fraction.
        i = 0
        while i < len(s) and s[i].isdigit() and s[i].isascii():
            i += 1
        whole_digits = s[:i]
        s = s[i:]
        frac_digits = ""
        if s[:1] == ".":
            s = s[1:]
            i = 0
            while i < len(s) and s[i].isdigit() and s[i].isascii():
                i += 1
            frac_digits = s[:i]
            s = s[i:]
        if not whole_digits and not frac_digits:
            raise DurationError(f"time: invalid duration {_quote(original)}")

        # The unit: everything up to the next digit or dot.
        i = 0
        while i < len(s) and s[i] != "." and not (s[i].isdigit() and s[i].isascii()):
            i += 1
        unit = s[:i]
        s = s[i:]
        if unit == "":
            raise DurationError(f"time: missing unit in duration {_quote(original)}")
        scale = _NS_PER_UNIT.get(unit)
        if scale is None:
            raise DurationError(f"time: unknown unit {_quote(unit)} in duration {_quote(original)}")

        value = int(whole_digits or "0") * scale
        if frac_digits:
            value += int(frac_digits) * scale // 10 ** len(frac_digits)
        total += value
        if total > _MAX_NS + (1 if negative else 0):
            raise DurationError(f"time: invalid duration {_quote(original)}")

    return -total if negative else total


def parse_duration(text: str) -> float:
    """Parse a Go duration string into float seconds."""
    return parse_duration_ns(text) / _NS_PER_SECOND


def to_seconds(
    value: str | int | float | None,
    *,
    number_unit: float = SECOND,
    default: float | None = None,
) -> float:
    """Convert a configured duration (string, or number in ``number_unit``) to seconds.

    ``None`` gives ``default`` (a :class:`DurationError` when there is no default).
    Booleans are rejected: ``timeout: true`` is a configuration mistake, not ``1``.
    """
    if value is None:
        if default is None:
            raise DurationError("time: invalid duration: no value")
        return default
    if isinstance(value, bool):
        raise DurationError(f"time: invalid duration {_quote(str(value).lower())}")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise DurationError(f"time: invalid duration {_quote(str(value))}")
        return value * number_unit
    if isinstance(value, str):
        return parse_duration(value.strip())
    raise DurationError(f"time: invalid duration {_quote(str(value))}")


def format_duration(seconds: float | int) -> str:
    """Format seconds the way Go's ``Duration.String()`` does: ``1m30s``, ``200ms``, ``0s``."""
    return _format_ns(round(seconds * _NS_PER_SECOND))


def _format_ns(ns: int) -> str:
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < _NS_PER_SECOND:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return f"{sign}{_decimal(u, 1_000)}\u00b5s"
        return f"{sign}{_decimal(u, 1_000_000)}ms"
    hours, rest = divmod(u, 3600 * _NS_PER_SECOND)
    minutes, rest = divmod(rest, 60 * _NS_PER_SECOND)
    secs = _decimal(rest, _NS_PER_SECOND)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


def _decimal(value: int, scale: int) -> str:
    """``value / scale`` as a decimal without trailing zeros (exact, no float)."""
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    digits = len(str(scale)) - 1
    return f"{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"


def _quote(s: str) -> str:
    """Go's %q for the plain strings that show up in duration errors."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
