"""The ``base64`` module: standard RFC 4648 alphabet with padding (Go's StdEncoding)."""

from __future__ import annotations

import binascii
from typing import Any

from . import LuaModule

_ALPHABET = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _python(shard: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"err": None}

    def encode(data: bytes) -> bytes:
        return binascii.b2a_base64(data, newline=False)

    def decode(data: bytes) -> Any:
        # Go's StdEncoding skips \r and \n and is strict about everything else.
        src = data.replace(b"\r", b"").replace(b"\n", b"")
        for i, c in enumerate(src):
            if c not in _ALPHABET and c != 0x3D:  # '='
                state["err"] = f"illegal base64 data at input byte {i}"
                return None
        if len(src) % 4 != 0:
            state["err"] = f"illegal base64 data at input byte {len(src) - len(src) % 4}"
            return None
        pad = src.find(b"=")
        if pad != -1 and (pad < len(src) - 2 or src[pad:].strip(b"=") != b""):
            state["err"] = f"illegal base64 data at input byte {pad}"
            return None
        try:
            return binascii.a2b_base64(src, strict_mode=True)
        except binascii.Error as e:
            state["err"] = f"illegal base64 data: {e}"
            return None

    def take_error() -> bytes:
        msg = state["err"] or "illegal base64 data"
        state["err"] = None
        return msg.encode()

    return {"encode": encode, "decode": decode, "take_error": take_error}


LUA = r"""
local py, rt = ...
local p_encode, p_decode, p_take = py.encode, py.decode, py.take_error
local type = type

local base64 = {}

function base64.encode(s)
    if type(s) ~= "string" then return nil, rt.err("Invalid", "string expected") end
    if s == "" then return "" end
    return p_encode(s)
end

function base64.decode(s)
    if type(s) ~= "string" then return nil, rt.err("Invalid", "string expected") end
    if s == "" then return "" end
    local out = p_decode(s)
    if out == nil then return nil, rt.err("Invalid", p_take()) end
    return out
end

return base64
"""

MODULE = LuaModule(name="base64", lua=LUA, python=_python)
