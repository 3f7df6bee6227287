"""The ``json`` module: encode/decode with the reference's (Go encoding/json) output rules,
plus JSON Schema validation (``validate`` / ``validate_string``).

Encoding rules: nil -> ``null``; an empty table -> ``[]``; keys exactly 1..n -> array;
string keys -> object with sorted keys; mixed keys, sparse arrays, cycles and nesting
deeper than 128 fail with INTERNAL; NaN/Inf -> ``null``; integral floats print without a
fraction; strings escape ``< > &`` and U+2028/U+2029 like Go.
Decoding keeps integral numbers as Lua integers and everything else as floats.
"""

from __future__ import annotations

import json as _stdjson
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from . import LuaModule
from ._datatools import EncodeError, TableMaker, lua_type, table_to_python
from ._jsonschema import SchemaError, check_schema, validate_instance

MAX_DEPTH = 128

_encode_str = _stdjson.encoder.encode_basestring  # type: ignore[attr-defined]
_HTML = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
    | {c: "\\ufffd" for c in range(0xDC80, 0xDD00)}  # invalid UTF-8 bytes (surrogateescape)
)


def go_float(f: float) -> str:
    """Format a float the way Go's encoding/json does (NaN/Inf become ``null``)."""
    if math.isnan(f) or math.isinf(f):
        return "null"
    a = abs(f)
    r = repr(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        # exponent form, with Go's cleanup of e-07 -> e-7
        mant, _, exp = r.partition("e")
        if mant.endswith(".0"):
            mant = mant[:-2]
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-").lstrip("0") or "0"
        if len(digits) < 2 and sign == "+":
            digits = "0" + digits
        return f"{mant}e{sign}{digits}"
    out = format(Decimal(r), "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return out


def _quote(b: bytes) -> str:
    return _encode_str(b.decode("utf-8", "surrogateescape")).translate(_HTML)


def _emit(v: Any, out: list[str]) -> None:
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, bytes):
        out.append(_quote(v))
    elif isinstance(v, int):
        out.append(str(v))
    elif isinstance(v, float):
        out.append(go_float(v))
    elif isinstance(v, list):
        out.append("[")
        first = True
        for item in v:
            if not first:
                out.append(",")
            first = False
            _emit(item, out)
        out.append("]")
    elif isinstance(v, dict):
        out.append("{")
        first = True
        for k in sorted(v):
            if not first:
                out.append(",")
            first = False
            out.append(_quote(k))
            out.append(":")
            _emit(v[k], out)
        out.append("}")
    else:  # pragma: no cover - table_to_python only yields the types above
        raise EncodeError(f"cannot encode {type(v).__name__}")


def encode_value(value: Any, expand: Callable[[Any], Any] | None = None) -> str:
    """Encode a Lua value (as lupa hands it over) to JSON text; raises EncodeError."""
    data = table_to_python(value, max_depth=MAX_DEPTH, expand=expand)
    out: list[str] = []
    _emit(data, out)
    return "".join(out)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def decode_text(data: bytes) -> Any:
    """Decode JSON text to Python data; raises ValueError with a message on bad input."""
    try:
        return msgspec.json.decode(data)
    except UnicodeDecodeError:
        return msgspec.json.decode(data.decode("utf-8", "replace").encode("utf-8"))
    except msgspec.DecodeError as e:
        # msgspec rejects lone surrogate escapes ("\ud800") that Go accepts as U+FFFD
        if b"\\u" in data:
            try:
                return _stdjson.loads(data.decode("utf-8", "replace"), parse_constant=_reject_constant)
            except ValueError:
                pass
        raise ValueError(str(e)) from None
    except msgspec.ValidationError as e:
        raise ValueError(str(e)) from None


def _plain(value: Any, expand: Callable[[Any], Any] | None = None) -> Any:
    """JSON-decoded data with str strings, for the schema validator."""
    return _stdjson.loads(encode_value(value, expand))


def _python(shard: Any) -> dict[str, Any]:
    maker = TableMaker()
    state: dict[str, Any] = {"err": None}
    schemas: dict[str, Any] = {}

    def fail(kind: str, msg: str) -> None:
        state["err"] = (kind, msg)
        return None

    def take_error() -> Any:
        e = state["err"]
        state["err"] = None
        if e is None:
            return None
        t = maker.table()
        t[1] = e[0].encode()
        t[2] = e[1].encode("utf-8", "replace")
        return t

    def encode(value: Any) -> Any:
        try:
            return encode_value(value, maker.expand).encode("utf-8")
        except EncodeError as e:
            return fail("Internal", str(e))
        except RecursionError:
            return fail("Internal", "nesting too deep")

    def decode(data: Any) -> Any:
        try:
            value = decode_text(data)
        except ValueError as e:
            return fail("Internal", str(e))
        return maker.to_lua(value)

    def load_schema(schema: Any) -> Any:
        if isinstance(schema, bytes):
            key = schema.decode("utf-8", "replace")
        elif lua_type(schema) == "table":
            key = encode_value(schema, maker.expand)
        else:
            raise SchemaError("schema must be a table or a JSON string")
        compiled = schemas.get(key)
        if compiled is None:
            try:
                compiled = _stdjson.loads(key)
            except ValueError as e:
                raise SchemaError(f"invalid schema JSON: {e}") from None
            # a Lua table {} in a schema position means an empty object
            check_schema(compiled)
            if len(schemas) > 256:
                schemas.clear()
            schemas[key] = compiled
        return compiled

    def run_validation(schema: Any, instance: Any) -> Any:
        try:
            compiled = load_schema(schema)
        except (SchemaError, EncodeError) as e:
            return fail("Invalid", str(e))
        problems = validate_instance(compiled, instance)
        if problems:
            return fail("Invalid", "validation failed: " + "; ".join(problems))
        return True

    def validate(schema: Any, value: Any) -> Any:
        try:
            instance = _plain(value, maker.expand)
        except EncodeError as e:
            return fail("Invalid", f"cannot convert value: {e}")
        return run_validation(schema, instance)

    def validate_string(schema: Any, text: Any) -> Any:
        try:
            instance = _stdjson.loads(text.decode("utf-8", "replace"))
        except ValueError as e:
            return fail("Invalid", f"invalid JSON: {e}")
        return run_validation(schema, instance)

    return {
        "bind": maker.bind,
        "take_error": take_error,
        "encode": encode,
        "decode": decode,
        "validate": validate,
        "validate_string": validate_string,
    }


LUA = r"""
local py, rt = ...
py.bind(function() return {} end, function(t)
    local out = {}
    for k, v in pairs(t) do out[k] = v end
    return out
end)

local type = type
local p_encode, p_decode, p_take = py.encode, py.decode, py.take_error
local p_validate, p_validate_string = py.validate, py.validate_string

local function failure(value)
    local e = p_take()
    if e == nil then return value end
    return nil, rt.err(e[1], e[2])
end

local json = {}

function json.encode(value)
    if value == nil then return "null" end
    local tv = type(value)
    if tv == "boolean" then return value and "true" or "false" end
    local s = p_encode(value)
    if s == nil then return failure(nil) end
    return s
end

function json.decode(text)
    if type(text) ~= "string" then
        return nil, rt.err("Invalid", "string expected")
    end
    if text == "" then
        return nil, rt.err("Invalid", "empty string is not valid JSON")
    end
    local v = p_decode(text)
    if v == nil then return failure(nil) end
    return v
end

local function schema_arg(schema)
    local ts = type(schema)
    if ts ~= "table" and ts ~= "string" then
        return false
    end
    return true
end

function json.validate(schema, value)
    if not schema_arg(schema) then
        return false, rt.err("Invalid", "schema must be a table or a JSON string")
    end
    local ok = p_validate(schema, value)
    if ok == nil then
        local _, err = failure(nil)
        return false, err
    end
    return true
end

function json.validate_string(schema, text)
    if not schema_arg(schema) then
        return false, rt.err("Invalid", "schema must be a table or a JSON string")
    end
    if type(text) ~= "string" then
        return false, rt.err("Invalid", "string expected")
    end
    local ok = p_validate_string(schema, text)
    if ok == nil then
        local _, err = failure(nil)
        return false, err
    end
    return true
end

return json
"""

MODULE = LuaModule(name="json", lua=LUA, python=_python)
