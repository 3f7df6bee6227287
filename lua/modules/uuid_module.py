"""The ``uuid`` module: v1 v3 v4 v5 v7 generation, validate/version/variant/parse/format."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid as _uuid
from typing import Any

from . import LuaModule

_HEX = set("0123456789abcdefABCDEF")
_VARIANTS = {
    _uuid.RESERVED_NCS: "Reserved",
    _uuid.RFC_4122: "RFC4122",
    _uuid.RESERVED_MICROSOFT: "Microsoft",
    _uuid.RESERVED_FUTURE: "Future",
}
_lock = threading.Lock()
_last_v7 = 0
# random node id with the multicast bit set (RFC 4122 4.5): never probes interfaces
_NODE = int.from_bytes(os.urandom(6), "big") | (1 << 40)


def parse_uuid(text: str) -> tuple[_uuid.UUID | None, str]:
    """Parse the forms Go's google/uuid accepts; return (uuid, "") or (None, error)."""
    n = len(text)
    if n == 45:
        if text[:9].lower() != "urn:uuid:":
            return None, f"invalid urn prefix: {text[:9]!r}"
        text = text[9:]
    elif n == 38:
        if text[0] != "{" or text[-1] != "}":
            return None, "invalid UUID format"
        text = text[1:-1]
    elif n == 32:
        if not set(text) <= _HEX:
            return None, "invalid UUID format"
        return _uuid.UUID(hex=text), ""
    elif n != 36:
        return None, f"invalid UUID length: {n}"
    if text[8] != "-" or text[13] != "-" or text[18] != "-" or text[23] != "-":
        return None, "invalid UUID format"
    digits = text.replace("-", "")
    if len(digits) != 32 or not set(digits) <= _HEX:
        return None, "invalid UUID format"
    return _uuid.UUID(hex=digits), ""


def uuid7() -> _uuid.UUID:
    """Version 7 with a 12-bit sub-millisecond sequence that keeps values increasing."""
    global _last_v7
    nano = time.time_ns()
    milli = nano // 1_000_000
    seq = (nano - milli * 1_000_000) >> 8
    with _lock:
        now = (milli << 12) + seq
        if now <= _last_v7:
            now = _last_v7 + 1
        _last_v7 = now
    milli, seq = now >> 12, now & 0xFFF
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (milli & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand
    return _uuid.UUID(int=value)


def _python(shard: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"err": None}
    tables: dict[str, Any] = {}

    def fail(msg: str) -> None:
        state["err"] = msg
        return None

    def take_error() -> bytes:
        msg = state["err"] or "invalid UUID"
        state["err"] = None
        return msg.encode()

    def get(text: bytes) -> _uuid.UUID | None:
        u, err = parse_uuid(text.decode("utf-8", "replace"))
        if u is None:
            state["err"] = err
        return u

    def gen(kind: int) -> bytes:
        if kind == 1:
            u = _uuid.uuid1(node=_NODE)
        elif kind == 4:
            u = _uuid.uuid4()
        else:
            u = uuid7()
        return str(u).encode()

    def named(kind: int, namespace: bytes, name: bytes) -> Any:
        ns = get(namespace)
        if ns is None:
            return fail(f"invalid namespace UUID: {state['err']}")
        algo = hashlib.md5 if kind == 3 else hashlib.sha1
        digest = algo(ns.bytes + name).digest()[:16]
        return str(_uuid.UUID(bytes=digest, version=kind)).encode()

    def validate(text: bytes) -> bool:
        return parse_uuid(text.decode("utf-8", "replace"))[0] is not None

    def version(text: bytes) -> Any:
        u = get(text)
        return None if u is None else (u.int >> 76) & 0xF

    def variant(text: bytes) -> Any:
        u = get(text)
        return None if u is None else _VARIANTS[u.variant].encode()

    def parse(text: bytes) -> Any:
        u = get(text)
        if u is None:
            return None
        t = tables["new"]()
        ver = (u.int >> 76) & 0xF
        t[b"uuid"] = str(u).encode()
        t[b"version"] = ver
        t[b"variant"] = _VARIANTS[u.variant].encode()
        if ver == 1:
            t[b"timestamp"] = (u.time - 0x01B21DD213814000) / 1e7
            t[b"node"] = f"{u.node:012x}".encode()
            t[b"clock_seq"] = u.clock_seq
        elif ver == 7:
            t[b"timestamp"] = (u.int >> 80) / 1e3
        return t

    def fmt(text: bytes, style: bytes) -> Any:
        u = get(text)
        if u is None:
            return None
        if style == b"standard":
            return str(u).encode()
        if style == b"simple":
            return u.hex.encode()
        if style == b"urn":
            return u.urn.encode()
        return fail(f"unsupported format: {style.decode('utf-8', 'replace')}")

    def bind(new_table: Any) -> None:
        tables["new"] = new_table

    return {
        "bind": bind,
        "take_error": take_error,
        "gen": gen,
        "named": named,
        "validate": validate,
        "version": version,
        "variant": variant,
        "parse": parse,
        "format": fmt,
    }


LUA = r"""
local py, rt = ...
py.bind(function() return {} end)
local p_gen, p_named, p_take = py.gen, py.named, py.take_error
local p_validate, p_version, p_variant, p_parse, p_format =
    py.validate, py.version, py.variant, py.parse, py.format
local type = type

local uuid = {}

local function invalid(msg) return nil, rt.err("Invalid", msg) end
local function checked(v)
    if v == nil then return invalid(p_take()) end
    return v
end

function uuid.v1() return p_gen(1) end
function uuid.v4() return p_gen(4) end
function uuid.v7() return p_gen(7) end

local function named(kind, namespace, name)
    if type(namespace) ~= "string" then return invalid("namespace must be a string") end
    if type(name) ~= "string" then return invalid("name must be a string") end
    return checked(p_named(kind, namespace, name))
end
function uuid.v3(namespace, name) return named(3, namespace, name) end
function uuid.v5(namespace, name) return named(5, namespace, name) end

function uuid.validate(id)
    if type(id) ~= "string" then return false end
    return p_validate(id)
end

local function with_id(fn)
    return function(id, ...)
        if type(id) ~= "string" then return invalid("uuid must be a string") end
        return checked(fn(id, ...))
    end
end

uuid.version = with_id(p_version)
uuid.variant = with_id(p_variant)
uuid.parse = with_id(p_parse)

function uuid.format(id, style)
    if type(id) ~= "string" then return invalid("uuid must be a string") end
    if style == nil then style = "standard" end
    if type(style) ~= "string" then return invalid("format must be a string") end
    return checked(p_format(id, style))
end

return uuid
"""

MODULE = LuaModule(name="uuid", lua=LUA, python=_python)
