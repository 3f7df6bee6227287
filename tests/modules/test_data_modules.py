"""json, yaml, base64, uuid and hash modules under the stub harness."""

from __future__ import annotations

import pytest

from wippy.lua.modules import discover

from .harness import Harness, load


@pytest.fixture(scope="module")
def h() -> Harness:
    specs = discover()
    return load(*(specs[m] for m in ("json", "yaml", "base64", "uuid", "hash")))


def lua(h: Harness, code: str) -> tuple:
    out = h.run(code)
    return out if isinstance(out, tuple) else (out,)


def test_discovered_names() -> None:
    specs = discover()
    for name in ("json", "yaml", "base64", "uuid", "hash", "time"):
        assert name in specs and specs[name].name == name and not specs[name].is_global


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("nil", b"null"),
        ("4.0", b"4"),
        ("-0.0", b"-0"),
        ("0.1", b"0.1"),
        ("1e-7", b"1e-7"),
        ("1.5e-7", b"1.5e-7"),
        ("0.000001", b"0.000001"),
        ("1e20", b"100000000000000000000"),
        ("1e21", b"1e+21"),
        ("123456789.5", b"123456789.5"),
        ("0/0", b"null"),
        ("math.huge", b"null"),
        ("math.maxinteger", b"9223372036854775807"),
        ('"\\1\\b\\f\\r"', b'"\\u0001\\b\\f\\r"'),
        ('"\\u{2028}"', b'"\\u2028"'),
        ('"\\xff"', b'"\\ufffd"'),
        ("{b = 1, a = {}, c = {x = false}}", b'{"a":[],"b":1,"c":{"x":false}}'),
        ("{{1, {2}}, {}}", b"[[1,[2]],[]]"),
    ],
)
def test_json_encode_values(h: Harness, expr: str, want: bytes) -> None:
    assert lua(h, f"return json.encode({expr})")[0] == want


@pytest.mark.parametrize(
    "expr",
    ["{[1] = 1, [3] = 3}", "{[1.5] = 1}", "{[true] = 1}", "{print}", "{f = function() end}"],
)
def test_json_encode_rejects(h: Harness, expr: str) -> None:
    v, err = lua(h, f"local v, e = json.encode({expr}) return v, e:kind()")
    assert v is None and err == b"Internal"


def test_json_encode_depth_limit(h: Harness) -> None:
    ok = lua(h, "local t = {} for i = 1, 127 do t = {t} end return json.encode(t) ~= nil")[0]
    assert ok is True
    kind = lua(h, "local t = {} for i = 1, 200 do t = {t} end local _, e = json.encode(t) return e:kind()")[0]
    assert kind == b"Internal"


def test_json_decode_shapes(h: Harness) -> None:
    got = lua(
        h,
        """
        local t = json.decode('[1, null, 3, {"a": null, "b": [true]}]')
        return #t, t[2], t[3], t[4].a, t[4].b[1], math.type(t[1])
        """,
    )
    assert got == (4, None, 3, None, True, b"integer")


def test_json_decode_big_and_errors(h: Harness) -> None:
    got = lua(h, 'return math.type(json.decode("123456789012345678901234567890"))')[0]
    assert got == b"float"
    got = lua(h, 'local v, e = json.decode("  ") return v, e:kind()')
    assert got == (None, b"Internal")
    got = lua(h, 'local v, e = json.decode("[1,]") return v, e:kind()')
    assert got == (None, b"Internal")


def test_json_validate_keywords(h: Harness) -> None:
    got = lua(
        h,
        """
        local s = {type = "object", properties = {n = {type = "integer", minimum = 1, maximum = 3},
                   tags = {type = "array", items = {type = "string"}, minItems = 1},
                   kind = {enum = {"a", "b"}}}, additionalProperties = false}
        local r = {}
        r[#r + 1] = json.validate(s, {n = 2, tags = {"x"}, kind = "a"})
        r[#r + 1] = json.validate(s, {n = 5})
        r[#r + 1] = json.validate(s, {n = 2, extra = 1})
        r[#r + 1] = json.validate(s, {tags = {1}})
        r[#r + 1] = json.validate(s, {kind = "c"})
        r[#r + 1] = json.validate(s, {})
        r[#r + 1] = json.validate_string('{"$ref": "#/definitions/x", "definitions": {"x": {"type": "string"}}}', '"s"')
        r[#r + 1] = json.validate_string({anyOf = {{type = "string"}, {type = "null"}}}, "null")
        local ok, e = json.validate_string({type = "object"}, "{bad")
        r[#r + 1] = ok
        r[#r + 1] = e:kind()
        return table.unpack(r)
        """,
    )
    assert got == (True, False, False, False, False, True, True, True, False, b"Invalid")


def test_yaml_encode_shapes(h: Harness) -> None:
    got = lua(
        h,
        r"""
        return yaml.encode({name = "x", list = {"a", {k = 1, j = {}}}, s = "true", e = "",
                            multi = "l1\nl2", colon = "a: b", f = 0.5, nn = {{1, 2}}})
        """,
    )[0]
    assert got.decode() == (
        "colon: 'a: b'\ne: \"\"\nf: 0.5\nlist:\n  - a\n  - j: {}\n    k: 1\n"
        'multi: |-\n  l1\n  l2\nname: x\nnn:\n  - - 1\n    - 2\ns: "true"\n'
    )


def test_yaml_field_order_nested_and_unsorted(h: Harness) -> None:
    got = lua(
        h,
        'return yaml.encode({b = {z = 1, id = 2}, id = 0}, {field_order = {"id"}})',
    )[0]
    assert got == b"id: 0\nb:\n  id: 2\n  z: 1\n"
    got = lua(h, "return yaml.encode({x = 1}, {sort_unordered = false})")[0]
    assert got == b"x: 1\n"


def test_yaml_decode_core_schema(h: Harness) -> None:
    got = lua(
        h,
        r"""
        local t = yaml.decode("a: yes\nb: 2024-01-02\nc: 0x10\nd: 1e3\ne: ~\nf: [1, 2]\ng: 1_000\nh: on\n")
        return t.a, t.b, t.c, t.d, t.e, t.f[2], t.g, t.h, math.type(t.d)
        """,
    )
    assert got == (b"yes", b"2024-01-02", 16, 1000.0, None, 2, 1000, b"on", b"float")
    assert lua(h, 'return yaml.decode("# nothing")') == (None,)
    assert lua(h, 'return yaml.decode("[1, 2]")[2]')[0] == 2


def test_base64_strictness(h: Harness) -> None:
    cases = {
        '"YQ="': False,
        '"YQ"': False,
        '"Y Q=="': False,
        '"YQ==\\n"': True,
        '"YWJj"': True,
        '"YQ==YQ=="': False,
    }
    for expr, ok in cases.items():
        v = lua(h, f"local v, e = base64.decode({expr}) return v ~= nil, e and e:kind()")
        assert v == ((True, None) if ok else (False, b"Invalid")), expr


def test_uuid_forms(h: Harness) -> None:
    base = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
    got = lua(
        h,
        f"""
        return uuid.validate("{{{base}}}"), uuid.validate("urn:uuid:{base}"),
               uuid.validate("{base.replace("-", "")}"), uuid.validate("{base[:-1]}x"),
               uuid.variant("{base}"), uuid.parse("{base}").node, uuid.version(uuid.v7())
        """,
    )
    assert got == (True, True, True, False, b"RFC4122", b"00c04fd430c8", 7)
    v, e = lua(h, "return uuid.v3(1, 'x')")
    assert v is None


def test_hash_fnv_and_raw(h: Harness) -> None:
    got = lua(h, 'return hash.fnv64(""), hash.fnv64("a"), #hash.hmac_sha1("m", "k", true), hash.sha1("")')
    offset = 0xCBF29CE484222325 - (1 << 64)
    assert got[0] == offset
    assert got[1] == ((0xCBF29CE484222325 * 0x100000001B3) & (2**64 - 1) ^ 0x61) - (1 << 64)
    assert got[2] == 20
    assert got[3] == b"da39a3ee5e6b4b0d3255bfef95601890afd80709"


def test_encode_reads_pairs_proxies(h: Harness) -> None:
    got = lua(
        h,
        """
        local data = {b = 2, a = {1, 2}}
        local proxy = setmetatable({}, {__index = data, __pairs = function() return next, data, nil end})
        return json.encode(proxy), yaml.encode(proxy)
        """,
    )
    assert got == (b'{"a":[1,2],"b":2}', b"a:\n  - 1\n  - 2\nb: 2\n")
