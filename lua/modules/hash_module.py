"""The ``hash`` module: md5/sha1/sha256/sha512 and their HMACs (hex, or raw bytes when
the last argument is true) and FNV-1 32/64 (integers)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from . import LuaModule

_FNV32_OFFSET, _FNV32_PRIME = 0x811C9DC5, 0x01000193
_FNV64_OFFSET, _FNV64_PRIME = 0xCBF29CE484222325, 0x100000001B3


def fnv1_32(data: bytes) -> int:
    h = _FNV32_OFFSET
    for b in data:
        h = ((h * _FNV32_PRIME) & 0xFFFFFFFF) ^ b
    return h


def fnv1_64(data: bytes) -> int:
    """FNV-1 64-bit as a signed 64-bit Lua integer (two's complement of the uint64)."""
    h = _FNV64_OFFSET
    for b in data:
        h = ((h * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF) ^ b
    return h - (1 << 64) if h >= 1 << 63 else h


def _python(shard: Any) -> dict[str, Any]:
    def digest(name: bytes, data: bytes, raw: Any) -> bytes:
        d = hashlib.new(name.decode(), data).digest()
        return d if raw else d.hex().encode()

    def mac(name: bytes, data: bytes, secret: bytes, raw: Any) -> bytes:
        d = hmac.new(secret, data, name.decode()).digest()
        return d if raw else d.hex().encode()

    return {"digest": digest, "hmac": mac, "fnv32": fnv1_32, "fnv64": fnv1_64}


LUA = r"""
local py, rt = ...
local p_digest, p_hmac, p_fnv32, p_fnv64 = py.digest, py.hmac, py.fnv32, py.fnv64
local type = type

local hash = {}

local function bad_data() return nil, rt.err("Invalid", "data must be a string") end

for _, name in ipairs({ "md5", "sha1", "sha256", "sha512" }) do
    hash[name] = function(data, raw)
        if type(data) ~= "string" then return bad_data() end
        return p_digest(name, data, raw == true)
    end
    hash["hmac_" .. name] = function(data, secret, raw)
        if type(data) ~= "string" then return bad_data() end
        if type(secret) ~= "string" then return nil, rt.err("Invalid", "secret must be a string") end
        return p_hmac(name, data, secret, raw == true)
    end
end

function hash.fnv32(data)
    if type(data) ~= "string" then return bad_data() end
    return p_fnv32(data)
end

function hash.fnv64(data)
    if type(data) ~= "string" then return bad_data() end
    return p_fnv64(data)
end

return hash
"""

MODULE = LuaModule(name="hash", lua=LUA, python=_python)
