"""The ``time`` module: Time, Duration and Location values built in Lua (``time.lua``),
with Go reference-layout formatting/parsing and zoneinfo lookups done here in Python.

Python helpers only see integers and strings; the Lua side owns the values:
Time = ``{s = unix seconds, n = nanoseconds 0..1e9-1, loc = Location}``,
Duration = ``{ns = integer nanoseconds}``, Location = ``{name, kind, offset}``.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import LuaModule
from ._datatools import TableMaker, lua_source

# ----------------------------------------------------------------------- layout chunks

(
    LONG_MONTH,
    MONTH,
    NUM_MONTH,
    ZERO_MONTH,
    LONG_WEEKDAY,
    WEEKDAY,
    DAY,
    UNDER_DAY,
    ZERO_DAY,
    UNDER_YEARDAY,
    ZERO_YEARDAY,
    HOUR,
    HOUR12,
    ZERO_HOUR12,
    MINUTE,
    ZERO_MINUTE,
    SECOND,
    ZERO_SECOND,
    LONG_YEAR,
    YEAR,
    PM_UPPER,
    PM_LOWER,
    TZ,
    ISO_TZ,
    ISO_SECONDS_TZ,
    ISO_SHORT_TZ,
    ISO_COLON_TZ,
    ISO_COLON_SECONDS_TZ,
    NUM_TZ,
    NUM_SECONDS_TZ,
    NUM_SHORT_TZ,
    NUM_COLON_TZ,
    NUM_COLON_SECONDS_TZ,
    FRAC0,
    FRAC9,
) = range(35)

# layout elements that print a zone offset; the ISO ones print "Z" for UTC
ISO_ZONES = (ISO_TZ, ISO_SECONDS_TZ, ISO_SHORT_TZ, ISO_COLON_TZ, ISO_COLON_SECONDS_TZ)
ZONE_OFFSETS = (*ISO_ZONES, NUM_TZ, NUM_SECONDS_TZ, NUM_SHORT_TZ, NUM_COLON_TZ, NUM_COLON_SECONDS_TZ)

_STD_NAMES = {
    LONG_MONTH: "January",
    MONTH: "Jan",
    NUM_MONTH: "1",
    ZERO_MONTH: "01",
    LONG_WEEKDAY: "Monday",
    WEEKDAY: "Mon",
    DAY: "2",
    UNDER_DAY: "_2",
    ZERO_DAY: "02",
    UNDER_YEARDAY: "__2",
    ZERO_YEARDAY: "002",
    HOUR: "15",
    HOUR12: "3",
    ZERO_HOUR12: "03",
    MINUTE: "4",
    ZERO_MINUTE: "04",
    SECOND: "5",
    ZERO_SECOND: "05",
    LONG_YEAR: "2006",
    YEAR: "06",
    PM_UPPER: "PM",
    PM_LOWER: "pm",
    TZ: "MST",
    ISO_TZ: "Z0700",
    ISO_SECONDS_TZ: "Z070000",
    ISO_SHORT_TZ: "Z07",
    ISO_COLON_TZ: "Z07:00",
    ISO_COLON_SECONDS_TZ: "Z07:00:00",
    NUM_TZ: "-0700",
    NUM_SECONDS_TZ: "-070000",
    NUM_SHORT_TZ: "-07",
    NUM_COLON_TZ: "-07:00",
    NUM_COLON_SECONDS_TZ: "-07:00:00",
}
_ZERO_STD = [ZERO_MONTH, ZERO_DAY, ZERO_HOUR12, ZERO_MINUTE, ZERO_SECOND, YEAR]
_TZ_FORMS = [
    ("070000", NUM_SECONDS_TZ),
    ("07:00:00", NUM_COLON_SECONDS_TZ),
    ("0700", NUM_TZ),
    ("07:00", NUM_COLON_TZ),
    ("07", NUM_SHORT_TZ),
]
_ISO = {
    NUM_SECONDS_TZ: ISO_SECONDS_TZ,
    NUM_COLON_SECONDS_TZ: ISO_COLON_SECONDS_TZ,
    NUM_TZ: ISO_TZ,
    NUM_COLON_TZ: ISO_COLON_TZ,
    NUM_SHORT_TZ: ISO_SHORT_TZ,
}

LONG_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
SHORT_MONTHS = [m[:3] for m in LONG_MONTHS]
LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
SHORT_DAYS = [d[:3] for d in LONG_DAYS]

Chunk = tuple[str, int, int]  # (literal prefix, std code or -1, fraction digits)


def _starts_lower(s: str) -> bool:
    return bool(s) and "a" <= s[0] <= "z"


def _is_digit(s: str, i: int) -> bool:
    return i < len(s) and "0" <= s[i] <= "9"


def _next_std(layout: str) -> tuple[str, int, int, str]:
    """Go's nextStdChunk: (prefix, std, frac digits, suffix); std -1 when none."""
    n = len(layout)
    for i, c in enumerate(layout):
        rest = layout[i:]
        if c == "J" and rest.startswith("Jan"):
            if rest.startswith("January"):
                return layout[:i], LONG_MONTH, 0, layout[i + 7 :]
            if not _starts_lower(layout[i + 3 :]):
                return layout[:i], MONTH, 0, layout[i + 3 :]
        elif c == "M" and n >= i + 3:
            if rest.startswith("Mon"):
                if rest.startswith("Monday"):
                    return layout[:i], LONG_WEEKDAY, 0, layout[i + 6 :]
                if not _starts_lower(layout[i + 3 :]):
                    return layout[:i], WEEKDAY, 0, layout[i + 3 :]
            if rest.startswith("MST"):
                return layout[:i], TZ, 0, layout[i + 3 :]
        elif c == "0":
            if n >= i + 2 and "1" <= layout[i + 1] <= "6":
                return layout[:i], _ZERO_STD[int(layout[i + 1]) - 1], 0, layout[i + 2 :]
            if rest.startswith("002"):
                return layout[:i], ZERO_YEARDAY, 0, layout[i + 3 :]
        elif c == "1":
            if n >= i + 2 and layout[i + 1] == "5":
                return layout[:i], HOUR, 0, layout[i + 2 :]
            return layout[:i], NUM_MONTH, 0, layout[i + 1 :]
        elif c == "2":
            if rest.startswith("2006"):
                return layout[:i], LONG_YEAR, 0, layout[i + 4 :]
            return layout[:i], DAY, 0, layout[i + 1 :]
        elif c == "_":
            if n >= i + 2 and layout[i + 1] == "2":
                if layout[i + 1 : i + 5] == "2006":
                    return layout[: i + 1], LONG_YEAR, 0, layout[i + 5 :]
                return layout[:i], UNDER_DAY, 0, layout[i + 2 :]
            if rest.startswith("__2"):
                return layout[:i], UNDER_YEARDAY, 0, layout[i + 3 :]
        elif c == "3":
            return layout[:i], HOUR12, 0, layout[i + 1 :]
        elif c == "4":
            return layout[:i], MINUTE, 0, layout[i + 1 :]
        elif c == "5":
            return layout[:i], SECOND, 0, layout[i + 1 :]
        elif c == "P" and n >= i + 2 and layout[i + 1] == "M":
            return layout[:i], PM_UPPER, 0, layout[i + 2 :]
        elif c == "p" and n >= i + 2 and layout[i + 1] == "m":
            return layout[:i], PM_LOWER, 0, layout[i + 2 :]
        elif c == "-":
            for form, std in _TZ_FORMS:
                if layout.startswith(form, i + 1):
                    return layout[:i], std, 0, layout[i + 1 + len(form) :]
        elif c == "Z":
            for form, std in _TZ_FORMS:
                if layout.startswith(form, i + 1):
                    return layout[:i], _ISO[std], 0, layout[i + 1 + len(form) :]
        elif c in ".," and i + 1 < n and layout[i + 1] in "09":
            ch = layout[i + 1]
            j = i + 1
            while j < n and layout[j] == ch:
                j += 1
            if not _is_digit(layout, j):
                std = FRAC0 if ch == "0" else FRAC9
                return layout[:i], std, j - (i + 1), layout[j:]
    return layout, -1, 0, ""


@lru_cache(maxsize=256)
def chunks(layout: str) -> list[tuple[str, int, int, str]]:
    """Split a layout into (prefix, std, digits, std text) chunks."""
    out: list[tuple[str, int, int, str]] = []
    while layout:
        prefix, std, digits, rest = _next_std(layout)
        text = layout[len(prefix) : len(layout) - len(rest)]
        out.append((prefix, std, digits, text))
        layout = rest
    return out


def _pad(v: int, width: int) -> str:
    if v < 0:
        return "-" + str(-v).rjust(width, "0")
    return str(v).rjust(width, "0")


def format_time(
    layout: str,
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    sec: int,
    nsec: int,
    wday: int,
    yday: int,
    offset: int,
    abbr: str,
) -> str:
    """Format broken-down time fields with a Go reference layout."""
    b: list[str] = []
    for prefix, std, digits, _text in chunks(layout):
        b.append(prefix)
        if std < 0:
            continue
        if std == YEAR:
            b.append(_pad(year % 100, 2))
        elif std == LONG_YEAR:
            b.append(_pad(year, 4))
        elif std == MONTH:
            b.append(SHORT_MONTHS[month - 1])
        elif std == LONG_MONTH:
            b.append(LONG_MONTHS[month - 1])
        elif std == NUM_MONTH:
            b.append(str(month))
        elif std == ZERO_MONTH:
            b.append(_pad(month, 2))
        elif std == WEEKDAY:
            b.append(SHORT_DAYS[wday])
        elif std == LONG_WEEKDAY:
            b.append(LONG_DAYS[wday])
        elif std == DAY:
            b.append(str(day))
        elif std == UNDER_DAY:
            b.append(str(day).rjust(2))
        elif std == ZERO_DAY:
            b.append(_pad(day, 2))
        elif std == UNDER_YEARDAY:
            b.append(str(yday).rjust(3))
        elif std == ZERO_YEARDAY:
            b.append(_pad(yday, 3))
        elif std == HOUR:
            b.append(_pad(hour, 2))
        elif std in (HOUR12, ZERO_HOUR12):
            hr = hour % 12 or 12
            b.append(str(hr) if std == HOUR12 else _pad(hr, 2))
        elif std == MINUTE:
            b.append(str(minute))
        elif std == ZERO_MINUTE:
            b.append(_pad(minute, 2))
        elif std == SECOND:
            b.append(str(sec))
        elif std == ZERO_SECOND:
            b.append(_pad(sec, 2))
        elif std == PM_UPPER:
            b.append("PM" if hour >= 12 else "AM")
        elif std == PM_LOWER:
            b.append("pm" if hour >= 12 else "am")
        elif (
            std in ISO_ZONES and offset == 0
        ):
            b.append("Z")
        elif std in ZONE_OFFSETS:
            zone = int(offset / 60)
            absoff = offset
            if zone < 0:
                b.append("-")
                zone, absoff = -zone, -absoff
            else:
                b.append("+")
            b.append(_pad(zone // 60, 2))
            colon = std in (ISO_COLON_TZ, NUM_COLON_TZ, ISO_COLON_SECONDS_TZ, NUM_COLON_SECONDS_TZ)
            if colon:
                b.append(":")
            if std not in (NUM_SHORT_TZ, ISO_SHORT_TZ):
                b.append(_pad(zone % 60, 2))
            if std in (ISO_SECONDS_TZ, NUM_SECONDS_TZ, NUM_COLON_SECONDS_TZ, ISO_COLON_SECONDS_TZ):
                if std in (NUM_COLON_SECONDS_TZ, ISO_COLON_SECONDS_TZ):
                    b.append(":")
                b.append(_pad(absoff % 60, 2))
        elif std == TZ:
            if abbr:
                b.append(abbr)
            else:
                zone = int(offset / 60)
                if zone < 0:
                    b.append("-")
                    zone = -zone
                else:
                    b.append("+")
                b.append(_pad(zone // 60, 2))
                b.append(_pad(zone % 60, 2))
        elif std in (FRAC0, FRAC9):
            sep = _text[0]
            frac = _pad(nsec, 9)[:digits]
            if std == FRAC9:
                frac = frac.rstrip("0")
                if frac:
                    b.append(sep + frac)
            else:
                b.append(sep + frac)
    return "".join(b)


# ----------------------------------------------------------------------------- parsing


class ParseError(Exception):
    pass


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _getnum(value: str, fixed: bool) -> tuple[int, str]:
    if not _is_digit(value, 0):
        raise ValueError
    if not _is_digit(value, 1):
        if fixed:
            raise ValueError
        return int(value[0]), value[1:]
    return int(value[:2]), value[2:]


def _getnum3(value: str, fixed: bool) -> tuple[int, str]:
    i = 0
    while i < 3 and _is_digit(value, i):
        i += 1
    if i == 0 or (fixed and i != 3):
        raise ValueError
    return int(value[:i]), value[i:]


def _lookup(names: list[str], value: str) -> tuple[int, str]:
    for i, name in enumerate(names):
        if len(value) >= len(name) and value[: len(name)].lower() == name.lower():
            return i, value[len(name) :]
    raise ValueError


def _skip(value: str, prefix: str) -> str:
    while prefix:
        if prefix[0] == " ":
            if value and value[0] != " ":
                raise ValueError
            prefix = prefix.lstrip(" ")
            value = value.lstrip(" ")
            continue
        if not value or value[0] != prefix[0]:
            raise ValueError
        prefix, value = prefix[1:], value[1:]
    return value


_TZ_NAME_RE = re.compile(r"^(?:GMT[+-]\d{1,2}|ChST|MeST|[A-Z]{3,5})")


def _days_in(month: int, year: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_time(layout: str, value: str) -> dict[str, Any]:
    """Go's time.Parse field extraction: returns fields plus optional offset/abbr."""
    orig_layout, orig_value = layout, value
    year, month, day, yday = 1, -1, -1, -1
    hour = minute = sec = nsec = 0
    pm_set = am_set = False
    offset: int | None = None
    abbr: str | None = None
    items = chunks(layout)

    def bad(elem: str, rest: str) -> ParseError:
        return ParseError(
            f"parsing time {_quote(orig_value)} as {_quote(orig_layout)}: "
            f"cannot parse {_quote(rest)} as {_quote(elem)}"
        )

    for idx, (prefix, std, digits, text) in enumerate(items):
        try:
            value = _skip(value, prefix)
        except ValueError:
            raise bad(prefix, value) from None
        if std < 0:
            continue
        hold = value
        elem = text
        try:
            if std == YEAR:
                if len(value) < 2 or not value[:2].isdigit():
                    raise ValueError
                year = int(value[:2])
                year += 1900 if year >= 69 else 2000
                value = value[2:]
            elif std == LONG_YEAR:
                if len(value) < 4 or not value[:4].isdigit():
                    raise ValueError
                year, value = int(value[:4]), value[4:]
            elif std == MONTH:
                month, value = _lookup(SHORT_MONTHS, value)
                month += 1
            elif std == LONG_MONTH:
                month, value = _lookup(LONG_MONTHS, value)
                month += 1
            elif std in (NUM_MONTH, ZERO_MONTH):
                month, value = _getnum(value, std == ZERO_MONTH)
                if not 1 <= month <= 12:
                    raise ParseError(f"parsing time {_quote(orig_value)}: month out of range")
            elif std == WEEKDAY:
                _, value = _lookup(SHORT_DAYS, value)
            elif std == LONG_WEEKDAY:
                _, value = _lookup(LONG_DAYS, value)
            elif std in (DAY, UNDER_DAY, ZERO_DAY):
                if std == UNDER_DAY and value[:1] == " ":
                    value = value[1:]
                day, value = _getnum(value, std == ZERO_DAY)
            elif std in (UNDER_YEARDAY, ZERO_YEARDAY):
                for _ in range(2):
                    if std == UNDER_YEARDAY and value[:1] == " ":
                        value = value[1:]
                yday, value = _getnum3(value, std == ZERO_YEARDAY)
            elif std == HOUR:
                hour, value = _getnum(value, False)
                if not 0 <= hour < 24:
                    raise ParseError(f"parsing time {_quote(orig_value)}: hour out of range")
            elif std in (HOUR12, ZERO_HOUR12):
                hour, value = _getnum(value, std == ZERO_HOUR12)
                if not 0 <= hour <= 12:
                    raise ParseError(f"parsing time {_quote(orig_value)}: hour out of range")
            elif std in (MINUTE, ZERO_MINUTE):
                minute, value = _getnum(value, std == ZERO_MINUTE)
                if not 0 <= minute < 60:
                    raise ParseError(f"parsing time {_quote(orig_value)}: minute out of range")
            elif std in (SECOND, ZERO_SECOND):
                sec, value = _getnum(value, std == ZERO_SECOND)
                if not 0 <= sec < 60:
                    raise ParseError(f"parsing time {_quote(orig_value)}: second out of range")
                nxt = items[idx + 1][1] if idx + 1 < len(items) else -1
                if len(value) >= 2 and value[0] in ".," and _is_digit(value, 1) and nxt not in (FRAC0, FRAC9):
                    j = 1
                    while _is_digit(value, j):
                        j += 1
                    nsec = int(value[1:j][:9].ljust(9, "0"))
                    value = value[j:]
            elif std == PM_UPPER or std == PM_LOWER:
                p = value[:2]
                want = p if std == PM_LOWER else p
                if want in (("PM", "AM") if std == PM_UPPER else ("pm", "am")):
                    pm_set, am_set = want in ("PM", "pm"), want in ("AM", "am")
                    value = value[2:]
                else:
                    raise ValueError
            elif (
                std in ISO_ZONES
                and value[:1] == "Z"
            ):
                value = value[1:]
                offset = 0
                abbr = "UTC"
            elif std in ZONE_OFFSETS:
                base = {
                    ISO_TZ: NUM_TZ,
                    ISO_SECONDS_TZ: NUM_SECONDS_TZ,
                    ISO_SHORT_TZ: NUM_SHORT_TZ,
                    ISO_COLON_TZ: NUM_COLON_TZ,
                    ISO_COLON_SECONDS_TZ: NUM_COLON_SECONDS_TZ,
                }.get(std, std)
                pattern = {
                    NUM_TZ: r"([+-])(\d\d)(\d\d)",
                    NUM_SECONDS_TZ: r"([+-])(\d\d)(\d\d)(\d\d)",
                    NUM_SHORT_TZ: r"([+-])(\d\d)",
                    NUM_COLON_TZ: r"([+-])(\d\d):(\d\d)",
                    NUM_COLON_SECONDS_TZ: r"([+-])(\d\d):(\d\d):(\d\d)",
                }[base]
                m = re.match(pattern, value)
                if not m:
                    raise ValueError
                parts = [int(g) for g in m.groups()[1:]] + [0, 0]
                hh, mm, ss = parts[0], parts[1], parts[2]
                if hh > 24 or mm > 60 or ss > 60:
                    raise ParseError(f"parsing time {_quote(orig_value)}: time zone offset out of range")
                offset = (hh * 3600 + mm * 60 + ss) * (-1 if m.group(1) == "-" else 1)
                value = value[m.end() :]
            elif std == TZ:
                if value[:3] == "UTC":
                    abbr, value = "UTC", value[3:]
                    offset = 0
                else:
                    m = _TZ_NAME_RE.match(value)
                    if not m:
                        raise ValueError
                    abbr, value = m.group(0), value[m.end() :]
            elif std in (FRAC0, FRAC9):
                if std == FRAC0:
                    ndigit = 1 + digits
                    if len(value) < ndigit or value[0] not in ".," or not value[1:ndigit].isdigit():
                        raise ValueError
                    nsec = int(value[1:ndigit][:9].ljust(9, "0"))
                    value = value[ndigit:]
                else:
                    if len(value) < 2 or value[0] not in ".," or not _is_digit(value, 1):
                        continue
                    j = 1
                    while j < 10 and _is_digit(value, j):
                        j += 1
                    nsec = int(value[1:j].ljust(9, "0"))
                    value = value[j:]
        except ValueError:
            raise bad(elem, hold) from None
    if value:
        raise ParseError(f"parsing time {_quote(orig_value)}: extra text: {_quote(value)}")
    if pm_set and hour < 12:
        hour += 12
    elif am_set and hour == 12:
        hour = 0
    if yday >= 0:
        leap = _days_in(2, year) == 29
        if yday < 1 or yday > (366 if leap else 365):
            raise ParseError(f"parsing time {_quote(orig_value)}: day-of-year out of range")
        if month < 0:
            m, d = 1, yday
            while d > _days_in(m, year):
                d -= _days_in(m, year)
                m += 1
            month, day = m, d
    if month < 0:
        month = 1
    if day < 0:
        day = 1
    if day < 1 or day > _days_in(month, year):
        raise ParseError(f"parsing time {_quote(orig_value)}: day out of range")
    out: dict[str, Any] = {
        "year": year,
        "month": month,
        "day": day,
        "hour": hour,
        "min": minute,
        "sec": sec,
        "nsec": nsec,
    }
    if offset is not None:
        out["offset"] = offset
    if abbr is not None:
        out["abbr"] = abbr
    return out


# ----------------------------------------------------------------------------- zones


def _local_zone() -> Any:
    tz = os.environ.get("TZ")
    if tz:
        tz = tz.lstrip(":")
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return UTC
    try:
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="Local")
    except (OSError, ValueError):
        return UTC


@lru_cache(maxsize=64)
def zone(name: str) -> Any:
    """tzinfo for a zone name ("Local" is the process's local zone); KeyError if unknown."""
    if name == "Local":
        return _local_zone()
    if not name or name.startswith("/") or ".." in name.split("/"):
        raise KeyError(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise KeyError(name) from None


_MIN_TS = -62135596800 + 86400  # 0001-01-02
_MAX_TS = 253402214400 - 86400  # 9999-12-30


def zone_lookup(name: str, unix: int) -> tuple[int, str]:
    tz = zone(name)
    clamped = min(max(unix, _MIN_TS), _MAX_TS)
    dt = datetime.fromtimestamp(clamped, tz)
    off = dt.utcoffset()
    return (int(off.total_seconds()) if off is not None else 0), (dt.tzname() or "")


@lru_cache(maxsize=64)
def zone_fixed(name: str) -> tuple[int, str] | None:
    """(offset, abbr) when the zone never changes offset in sampled years, else None."""
    samples = {
        zone_lookup(name, ts)
        for ts in (0, 15_638_400, 946_684_800, 962_409_600, 1_704_067_200, 1_719_792_000, 2_524_608_000)
    }
    if len(samples) == 1:
        return next(iter(samples))
    return None


def mod_duration(sec: int, nsec: int, d: int) -> int:
    """(t - zero time) mod d in nanoseconds, Go's Time.Truncate/Round remainder."""
    total = (sec + 62135596800) * 1_000_000_000 + nsec
    return total % d


# ----------------------------------------------------------------------------- module


def _python(shard: Any) -> dict[str, Any]:
    maker = TableMaker()
    state: dict[str, Any] = {"err": None}

    def take_error() -> bytes:
        msg = state["err"] or "invalid time"
        state["err"] = None
        return msg.encode("utf-8", "replace")

    def fmt(layout: bytes, *fields: Any) -> bytes:
        *nums, abbr = fields
        return format_time(
            layout.decode("utf-8", "surrogateescape"),
            *(int(x) for x in nums),
            abbr.decode("utf-8", "replace") if abbr else "",
        ).encode("utf-8", "surrogateescape")

    def parse(layout: bytes, value: bytes) -> Any:
        try:
            fields = parse_time(layout.decode("utf-8", "replace"), value.decode("utf-8", "replace"))
        except ParseError as e:
            state["err"] = str(e)
            return None
        return maker.to_lua(fields)

    def lookup(name: bytes, unix: int) -> bytes:
        off, abbr = zone_lookup(name.decode(), int(unix))
        return f"{off} {abbr}".encode()

    def fixed(name: bytes) -> Any:
        got = zone_fixed(name.decode())
        return None if got is None else f"{got[0]} {got[1]}".encode()

    def exists(name: bytes) -> bool:
        try:
            zone(name.decode("utf-8", "replace"))
        except KeyError:
            return False
        return True

    def rem(sec: int, nsec: int, d: int) -> int:
        return mod_duration(int(sec), int(nsec), int(d))

    return {
        "bind": maker.bind,
        "take_error": take_error,
        "format": fmt,
        "parse": parse,
        "zone_lookup": lookup,
        "zone_fixed": fixed,
        "zone_exists": exists,
        "mod": rem,
    }


MODULE = LuaModule(name="time", lua=lua_source("time"), python=_python)
