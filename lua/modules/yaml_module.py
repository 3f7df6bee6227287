"""The ``yaml`` module (name ``yaml``): encode Lua tables as block YAML in the style of
Go's yaml.v3 (sorted keys, ``- item`` sequences, 2-space indent, ``field_order`` /
``sort_unordered`` options) and decode YAML with YAML 1.2 core-schema scalars (only
``true``/``false`` are booleans, timestamps stay strings, integers stay integers)."""

from __future__ import annotations

import base64
import json as _stdjson
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import yaml

from . import LuaModule
from ._datatools import TableMaker, lua_type, table_items

# --------------------------------------------------------------------------- decoding

_INT_RE = re.compile(r"^[-+]?(?:[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")

BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(BaseLoader):  # type: ignore[misc,valid-type]
    yaml_implicit_resolvers: dict[Any, Any] = {}


_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_RE, list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_RE, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_RE, list("-+0123456789."))
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL_RE, ["~", "n", "N", ""])
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_int(loader: Any, node: Any) -> int:
    s = loader.construct_scalar(node).replace("_", "")
    sign = -1 if s.startswith("-") else 1
    body = s.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1].isdigit():
        return sign * int(body, 8)
    return sign * int(body, 0)


def _construct_float(loader: Any, node: Any) -> float:
    s = loader.construct_scalar(node).replace("_", "")
    low = s.lower()
    if low.endswith(".inf"):
        return float("-inf") if low.startswith("-") else float("inf")
    if low == ".nan":
        return float("nan")
    return float(s)


def _construct_bool(loader: Any, node: Any) -> bool:
    return loader.construct_scalar(node).lower() == "true"


def _construct_timestamp(loader: Any, node: Any) -> str:
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def decode_text(data: bytes) -> Any:
    """Parse the first YAML document of ``data``; raises yaml.YAMLError on bad input."""
    docs = yaml.load_all(data, Loader=_Loader)  # noqa: S506 - restricted safe loader
    try:
        return next(iter(docs))
    except StopIteration:
        return None


# --------------------------------------------------------------------------- encoding


class YamlEncodeError(Exception):
    pass


_OLD_BOOLS = {
    "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
    "n", "N", "no", "No", "NO", "off", "Off", "OFF",
}  # fmt: skip
_BASE60_RE = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def _resolves_to_non_string(s: str) -> bool:
    return bool(
        _NULL_RE.match(s)
        or _BOOL_RE.match(s)
        or _INT_RE.match(s)
        or _FLOAT_RE.match(s)
        or s in _OLD_BOOLS
        or _BASE60_RE.match(s)
        or s == "<<"
    )


def _plain_ok(s: str) -> bool:
    if not s or s != s.strip() or "\n" in s:
        return False
    first = s[0]
    if first in _INDICATORS:
        if first in "-?:" and len(s) > 1 and s[1] not in " \t":
            pass
        else:
            return False
    if ": " in s or " #" in s or s.endswith(":") or "\t" in s:
        return False
    if s.startswith("--- ") or s == "---" or s.startswith("... ") or s == "...":
        return False
    return all(c.isprintable() or c == " " for c in s)


def _double_quoted(s: str) -> str:
    return _stdjson.dumps(s, ensure_ascii=False)


def _single_quoted(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _string_lines(s: str, *, key: bool = False) -> list[str]:
    if "\n" in s and not key:
        if s.startswith((" ", "\n")) or any(c != "\n" and not c.isprintable() for c in s):
            return [_double_quoted(s)]
        if s.endswith("\n"):
            body = s[:-1]
            header = "|+" if body.endswith("\n") else "|"
            if header == "|+":
                body = s[:-1]
        else:
            body, header = s, "|-"
        return [header, *body.split("\n")]
    if _resolves_to_non_string(s):
        return [_double_quoted(s)]
    if _plain_ok(s):
        return [s]
    if all(c.isprintable() or c == " " for c in s) and "\n" not in s:
        return [_single_quoted(s)]
    return [_double_quoted(s)]


def go_float_g(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64) with yaml.v3's .inf/.nan spellings."""
    if f != f:
        return ".nan"
    if f in (float("inf"), float("-inf")):
        return ".inf" if f > 0 else "-.inf"
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    sign, digits, exp = Decimal(repr(f)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    nd = len(ds)
    dp = len(digits) + int(exp)
    x = dp - 1
    neg = "-" if sign else ""
    if x < -4 or x >= 6:  # shortest 'g' uses precision 6 for the exponent decision
        mant = ds[0] + ("." + ds[1:] if nd > 1 else "")
        es = "-" if x < 0 else "+"
        return f"{neg}{mant}e{es}{abs(x):02d}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{ds}"
    if dp >= nd:
        return f"{neg}{ds}{'0' * (dp - nd)}"
    return f"{neg}{ds[:dp]}.{ds[dp:]}"


def _scalar_lines(v: Any, *, key: bool = False) -> list[str]:
    if v is None:
        return ["null"]
    if v is True:
        return ["true"]
    if v is False:
        return ["false"]
    if isinstance(v, int):
        return [str(v)]
    if isinstance(v, float):
        return [go_float_g(v)]
    if isinstance(v, bytes):
        try:
            s = v.decode("utf-8")
        except UnicodeDecodeError:
            return ["!!binary " + base64.b64encode(v).decode()]
        return _string_lines(s, key=key)
    raise YamlEncodeError(f"cannot encode value of type {type(v).__name__}")


class _Seq(list):  # type: ignore[type-arg]
    pass


class _Map(list):  # type: ignore[type-arg]
    """Ordered (key, value) pairs."""


def _key_rank(k: Any) -> tuple[int, Any]:
    if isinstance(k, bool):
        return (0, k)
    if isinstance(k, (int, float)):
        return (1, k)
    return (2, k)


def to_tree(
    value: Any, order: list[bytes], sort: bool, depth: int = 0, expand: Callable[[Any], Any] | None = None
) -> Any:
    """Convert a Lua value into _Seq/_Map/scalars, ordering map keys."""
    if value is None or isinstance(value, (bool, int, float, bytes)):
        return value
    if lua_type(value) != "table":
        raise YamlEncodeError(f"cannot encode value of type {lua_type(value)}")
    if depth > 128:
        raise YamlEncodeError("nesting depth exceeds 128 (cyclic table?)")
    items = table_items(value, expand)
    n = len(items)
    if n and all(isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= n for k, _ in items):
        seq = _Seq([None] * n)
        for k, v in items:
            seq[k - 1] = to_tree(v, order, sort, depth + 1, expand)
        return seq
    keys = [k for k, _ in items]
    pairs = dict(items)
    ordered: list[Any] = []
    if order:
        for name in order:
            if name in pairs:
                ordered.append(name)
        rest = [k for k in keys if k not in set(ordered)]
    else:
        rest = keys
    if sort:
        rest.sort(key=_key_rank)
    ordered.extend(rest)
    return _Map((k, to_tree(pairs[k], order, sort, depth + 1, expand)) for k in ordered)


def _indent(lines: list[str]) -> list[str]:
    return ["  " + line if line else line for line in lines]


def _block(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, _Map):
        for k, v in node:
            key = _scalar_lines(k, key=True)[0]
            if isinstance(v, (_Map, _Seq)) and v:
                out.append(key + ":")
                out.extend(_indent(_block(v)))
            else:
                lines = _value_lines(v)
                out.append(f"{key}: {lines[0]}")
                out.extend(_indent(lines[1:]))
    else:
        for v in node:
            lines = _block(v) if isinstance(v, (_Map, _Seq)) and v else _value_lines(v)
            out.append("- " + lines[0])
            out.extend(_indent(lines[1:]))
    return out


def _value_lines(v: Any) -> list[str]:
    if isinstance(v, _Map):
        return ["{}"]
    if isinstance(v, _Seq):
        return ["[]"]
    return _scalar_lines(v)


def encode_value(
    value: Any, order: list[bytes], sort: bool, expand: Callable[[Any], Any] | None = None
) -> str:
    tree = to_tree(value, order, sort, expand=expand)
    if isinstance(tree, (_Map, _Seq)) and tree:
        return "\n".join(_block(tree)) + "\n"
    if isinstance(tree, _Seq) and not isinstance(value, bytes):
        # an empty Lua table is an empty mapping
        return "{}\n"
    return "\n".join(_value_lines(tree)) + "\n"


# --------------------------------------------------------------------------- module


def _python(shard: Any) -> dict[str, Any]:
    maker = TableMaker()
    state: dict[str, Any] = {"err": None}

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

    def encode(value: Any, order: Any, sort: Any) -> Any:
        names = [v for _, v in sorted(order.items())] if order is not None else []
        try:
            return encode_value(value, names, sort is not False, maker.expand).encode("utf-8")
        except YamlEncodeError as e:
            return fail("Internal", str(e))
        except RecursionError:
            return fail("Internal", "nesting too deep")

    def decode(data: bytes) -> Any:
        try:
            value = decode_text(data)
        except yaml.YAMLError as e:
            return fail("Internal", f"yaml: {e}".replace("\n", " "))
        except (ValueError, TypeError) as e:
            return fail("Internal", f"yaml: {e}")
        return maker.to_lua(_lua_ready(value))

    return {"bind": maker.bind, "take_error": take_error, "encode": encode, "decode": decode}


def _lua_ready(value: Any) -> Any:
    """Drop null keys and make every key a valid Lua key (other keys become strings)."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if k is None or (isinstance(k, float) and k != k):
                continue
            if not isinstance(k, (str, int, float, bool, bytes)):
                k = str(k)
            out[k] = _lua_ready(v)
        return out
    if isinstance(value, list):
        return [_lua_ready(v) for v in value]
    return value


LUA = r"""
local py, rt = ...
py.bind(function() return {} end, function(t)
    local out = {}
    for k, v in pairs(t) do out[k] = v end
    return out
end)
local p_encode, p_decode, p_take = py.encode, py.decode, py.take_error
local type = type

local yaml = {}

local function failure()
    local e = p_take()
    if e == nil then return nil end
    return nil, rt.err(e[1], e[2])
end

function yaml.encode(value, opts)
    if type(value) ~= "table" then return nil, rt.err("Invalid", "table expected") end
    local order, sort = nil, nil
    if opts ~= nil then
        if type(opts) ~= "table" then return nil, rt.err("Invalid", "options must be a table") end
        if opts.field_order ~= nil then
            if type(opts.field_order) ~= "table" then
                return nil, rt.err("Invalid", "field_order must be a table of strings")
            end
            order = opts.field_order
        end
        sort = opts.sort_unordered
    end
    local s = p_encode(value, order, sort)
    if s == nil then return failure() end
    return s
end

function yaml.decode(text)
    if type(text) ~= "string" then return nil, rt.err("Invalid", "string expected") end
    if text == "" then return nil, rt.err("Invalid", "input cannot be empty") end
    local v = p_decode(text)
    if v == nil then return failure() end
    return v
end

return yaml
"""

MODULE = LuaModule(name="yaml", lua=LUA, python=_python)
