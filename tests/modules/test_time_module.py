"""time module under the stub harness (virtual clock for sleeps and timers)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from wippy.lua.modules import discover

from .harness import Harness, load

T = "local t = time.date(2024, 3, 9, 7, 5, 3, 120000000, time.utc) "


@pytest.fixture
def h() -> Harness:
    return load(discover()["time"])


def lua(h: Harness, code: str) -> tuple:
    out = h.run(code)
    return out if isinstance(out, tuple) else (out,)


def one(h: Harness, code: str) -> object:
    return lua(h, code)[0]


def has_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@pytest.mark.parametrize(
    ("layout", "want"),
    [
        ("Monday, January 2, 2006 3:04:05.000000 PM MST", "Saturday, March 9, 2024 7:05:03.120000 AM UTC"),
        ("Jan _2 __2 002 06", "Mar  9  69 069 24"),
        ("05,000 05.9 05.99999 .0", "03,120 03.1 03.12 .1"),
        ("Z07:00 Z0700 Z07 -07:00", "Z Z Z +00:00"),
        ("15:04:05pm 03", "07:05:03am 07"),
        ("2006-01-02T15:04:05.999999999Z07:00", "2024-03-09T07:05:03.12Z"),
        ("Janx Monx Mondays", "Janx Monx Saturdays"),
        ("_2006", "_2024"),
    ],
)
def test_format_layouts(h: Harness, layout: str, want: str) -> None:
    assert one(h, T + f"return t:format({layout!r})").decode() == want


def test_format_offsets(h: Harness) -> None:
    got = lua(
        h,
        T
        + """
        local a = t:in_location(time.fixed_zone("", -(3 * 3600 + 30 * 60)))
        local b = t:in_location(time.fixed_zone("", 5 * 3600 + 30 * 60))
        return a:format("-07 -07:00:00 Z070000 MST"), b:format(time.RFC3339NANO .. " MST"), tostring(b)
        """,
    )
    assert got == (
        b"-03 -03:30:00 -033000 -0330",
        b"2024-03-09T12:35:03.12+05:30 +0530",
        b"2024-03-09 12:35:03.12 +0530 +0530",
    )


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("1000", "1µs"),
        ("1500", "1.5µs"),
        ("1", "1ns"),
        ("-1", "-1ns"),
        ("999999999", "999.999999ms"),
        ("3600 * time.SECOND", "1h0m0s"),
        ("math.mininteger", "-2562047h47m16.854775808s"),
        ("'1.000000001s'", "1.000000001s"),
        ("'+5m'", "5m0s"),
        ("'.5s'", "500ms"),
        ("'1µs'", "1µs"),
        ("'3h2m1.5s4ms'", "3h2m1.504s"),
    ],
)
def test_duration_strings(h: Harness, expr: str, want: str) -> None:
    assert one(h, f"return tostring(time.parse_duration({expr}))").decode() == want


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", 'time: missing unit in duration "5"'),
        ("1x", 'time: unknown unit "x" in duration "1x"'),
        ("", 'time: invalid duration ""'),
        ("--1s", 'time: invalid duration "--1s"'),
        (".s", 'time: invalid duration ".s"'),
        ("99999999999h", 'time: invalid duration "99999999999h"'),
    ],
)
def test_duration_errors(h: Harness, text: str, message: str) -> None:
    got = lua(h, f"local d, e = time.parse_duration({text!r}) return d, e:kind(), e:message()")
    assert got == (None, b"Invalid", message.encode())


def test_duration_methods_and_ops(h: Harness) -> None:
    got = lua(
        h,
        """
        local d = time.parse_duration("-1500us")
        local a, b = time.parse_duration("1s"), time.parse_duration("2s")
        return d:milliseconds(), d:microseconds(), math.type(d:nanoseconds()),
               tostring(a + b), tostring(b - a), a < b, a == time.parse_duration(1e9), tostring(-a),
               tostring(time.parse_duration("1h15m30.918273645s"):round(time.parse_duration("1m"))),
               tostring(time.parse_duration("1h15m30.918273645s"):truncate(time.parse_duration("1m")))
        """,
    )
    assert got == (-1.0, -1500.0, b"float", b"3s", b"1s", True, True, b"-1s", b"1h16m0s", b"1h15m0s")


def test_constants_are_floats(h: Harness) -> None:
    got = lua(h, "return math.type(time.SECOND), time.HOUR, time.DECEMBER, time.SATURDAY, time.RFC3339")
    assert got == (b"float", 3.6e12, 12, 6, b"2006-01-02T15:04:05Z07:00")


def test_parse(h: Harness) -> None:
    got = lua(
        h,
        """
        local t, err = time.parse(time.RFC3339, "2024-03-09T12:35:03.5+05:30")
        assert(err == nil, tostring(err))
        return t:unix(), t:nanosecond(), t:format(time.RFC3339NANO), t:location():string()
        """,
    )
    assert got == (1709967903.0, 500000000, b"2024-03-09T12:35:03.5+05:30", b"")
    got = lua(
        h,
        """
        local t = time.parse("Jan 2 2006 3:04PM", "Mar 9 2024 7:05PM")
        local u = time.parse(time.RFC1123, "Sat, 09 Mar 2024 07:05:03 UTC")
        local z = time.parse(time.RFC3339, "2024-03-09T07:05:03Z")
        local f = time.parse("2006-01-02 15:04:05", "2024-03-09 07:05:03.25")
        return t:hour(), t:location():string(), u:unix(), u:location():string(), z:location():string(),
               f:nanosecond(), time.parse("2006-002", "2024-069"):format("01-02")
        """,
    )
    assert got == (19, b"UTC", 1709967903.0, b"UTC", b"UTC", 250000000, b"03-09")


@pytest.mark.parametrize(
    ("layout", "value", "message"),
    [
        (
            "2006-01-02",
            "2024/01/02",
            'parsing time "2024/01/02" as "2006-01-02": cannot parse "/01/02" as "-"',
        ),
        ("2006-01-02", "2024-02-30", 'parsing time "2024-02-30": day out of range'),
        ("2006-01-02", "2024-13-01", 'parsing time "2024-13-01": month out of range'),
        ("2006-01-02", "2024-01-02x", 'parsing time "2024-01-02x": extra text: "x"'),
        ("Jan 2006", "Foo 2024", 'parsing time "Foo 2024" as "Jan 2006": cannot parse "Foo 2024" as "Jan"'),
    ],
)
def test_parse_errors(h: Harness, layout: str, value: str, message: str) -> None:
    got = lua(h, f"local t, e = time.parse({layout!r}, {value!r}) return t, e:kind(), e:message()")
    assert got == (None, b"Invalid", message.encode())


def test_calendar(h: Harness) -> None:
    got = lua(
        h,
        """
        local z = time.date(1, 1, 1, 0, 0, 0, 0, time.utc)
        local leap = time.date(2024, 2, 29, 0, 0, 0, 0, time.utc):add_date(1, 0, 0)
        local norm = time.date(2023, 14, 35, 25, 61, 61, 1500000000, time.utc)
        local old = time.date(-44, 3, 15, 12, 0, 0, 0, time.utc)
        return z:is_zero(), z:weekday(), leap:format("2006-01-02"), norm:format(time.RFC3339NANO),
               old:format("2006-01-02 Mon"), time.date(2024, 12, 31, 0, 0, 0, 0, time.utc):year_day(),
               time.unix(0, 0):utc():format(time.RFC3339), time.unix(1.5):utc():nanosecond()
        """,
    )
    assert got == (
        True,
        1,
        b"2025-03-01",
        b"2024-03-07T02:02:02.5Z",
        b"-0044-03-15 Thu",
        366,
        b"1970-01-01T00:00:00Z",
        500000000,
    )


def test_round_truncate_and_sub(h: Harness) -> None:
    got = lua(
        h,
        T
        + """
        local H = time.parse_duration("1h")
        local far = time.date(1, 1, 1, 0, 0, 0, 0, time.utc)
        return t:truncate(H):format("15:04:05"), t:round(H):format("15:04:05"),
               t:round(time.parse_duration("10m")):format("15:04:05"),
               t:truncate(time.parse_duration("24h")):format(time.RFC3339),
               tostring(t:sub(far)), tostring(t:add("-1ns"):sub(t))
        """,
    )
    assert got == (
        b"07:00:00",
        b"07:00:00",
        b"07:10:00",
        b"2024-03-09T00:00:00Z",
        b"2562047h47m16.854775807s",
        b"-1ns",
    )


def test_add_invalid_duration(h: Harness) -> None:
    assert lua(h, T + "local v, e = t:add('soon') return v, e:kind()") == (None, b"Invalid")


def test_locations(h: Harness) -> None:
    got = lua(
        h,
        """
        local a, e1 = time.load_location("")
        local b, e2 = time.load_location("Nowhere/Special")
        local u = time.load_location("UTC")
        return a, e1:kind(), b, e2:kind(), u == time.utc, time.localtz:string(), tostring(time.utc)
        """,
    )
    assert got == (None, b"Invalid", None, b"NotFound", True, b"Local", b"UTC")


@pytest.mark.skipif(not has_zone("America/New_York"), reason="no tz database")
def test_zoneinfo(h: Harness) -> None:
    got = lua(
        h,
        """
        local ny = assert(time.load_location("America/New_York"))
        local summer = time.date(2024, 7, 1, 12, 0, 0, 0, ny)
        local winter = time.date(2024, 1, 1, 12, 0, 0, 0, ny)
        local gap = time.date(2024, 3, 10, 2, 30, 0, 0, ny)
        local p = time.parse("2006-01-02 15:04", "2024-07-01 12:00", ny)
        return summer:format("15:04 MST -0700"), winter:format("15:04 MST -0700"),
               gap:format("15:04 MST"), summer:utc():format("15:04"), p:equal(summer),
               ny == time.load_location("America/New_York"), summer:location():string()
        """,
    )
    assert got == (
        b"12:00 EDT -0400",
        b"12:00 EST -0500",
        b"01:30 EST",
        b"16:00",
        True,
        True,
        b"America/New_York",
    )


def test_sleep_timer_ticker_on_virtual_clock(h: Harness) -> None:
    got = lua(
        h,
        """
        local m0 = rt.mono_ns()
        time.sleep("1s")
        time.sleep(-5)
        local slept = rt.mono_ns() - m0
        local tk = time.ticker("100ms")
        local a = tk:channel():receive()
        local b = tk:response():receive()
        tk:stop()
        local tm = time.timer(time.SECOND)
        local stopped = tm:stop()
        local ch = time.after(5)
        local v, ok = ch:receive()
        local v2, ok2 = ch:receive()
        return slept, tostring(b:sub(a)), stopped, getmetatable(v) ~= nil, ok, v2, ok2,
               select("#", time.sleep(0))
        """,
    )
    assert got == (1000000000, b"100ms", True, True, True, None, False, 0)


def test_invalid_waits(h: Harness) -> None:
    got = lua(
        h,
        """
        local r = {}
        for _, f in ipairs({time.after, time.timer, time.ticker}) do
            local v, e = f(0)
            r[#r + 1] = e:kind()
            v, e = f({})
            r[#r + 1] = e:kind()
        end
        local _, e = time.sleep(true)
        r[#r + 1] = e:kind()
        return table.concat(r, ",")
        """,
    )
    assert got == (b"Invalid,Invalid,Invalid,Invalid,Invalid,Invalid,Invalid",)
