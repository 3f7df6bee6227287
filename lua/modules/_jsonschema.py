"""A small JSON Schema validator (draft 4 to 2020-12 keywords that matter in practice)
used by ``json.validate`` / ``json.validate_string``.

Schemas and instances are plain JSON-decoded Python data (``str`` strings). Empty Lua
tables reach us as ``[]``; in positions where a schema expects an object (``properties``,
``definitions``, a sub-schema) an empty list is read as an empty object.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


class SchemaError(Exception):
    """The schema itself is unusable."""


_OBJECT_KEYWORDS = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")


def check_schema(schema: Any) -> None:
    if not isinstance(schema, (dict, bool, list)):
        raise SchemaError("schema must be an object or a boolean")
    if isinstance(schema, list) and schema:
        raise SchemaError("schema must be an object or a boolean")


def _is_object(v: Any) -> bool:
    return isinstance(v, dict)


def _as_object(v: Any) -> dict[str, Any]:
    if isinstance(v, dict):
        return v
    if v == []:
        return {}
    raise SchemaError("expected an object in schema")


def _type_ok(value: Any, t: str) -> bool:
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        # an empty Lua table is both an empty array and an empty object
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict) or value == []
    raise SchemaError(f"unknown type {t!r}")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise SchemaError(f"invalid pattern {pattern!r}: {e}") from None


def _resolve(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        raise SchemaError(f"unsupported $ref {ref!r}")
    node = root
    path = ref[1:]
    if path.startswith("/"):
        for part in path[1:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaError(f"cannot resolve $ref {ref!r}")
    elif path:
        raise SchemaError(f"unsupported $ref {ref!r}")
    return node


def validate_instance(schema: Any, instance: Any) -> list[str]:
    """Return a list of validation problems (empty when the instance is valid)."""
    errors: list[str] = []
    _validate(schema, instance, schema, "", errors, 0)
    return errors


def _where(path: str) -> str:
    return path or "(root)"


def _validate(schema: Any, value: Any, root: Any, path: str, errors: list[str], depth: int) -> None:
    if depth > 64:
        raise SchemaError("schema nesting too deep (recursive $ref?)")
    if schema is True or schema == []:
        return
    if schema is False:
        errors.append(f"{_where(path)}: value is not allowed")
        return
    if not isinstance(schema, dict):
        raise SchemaError("schema must be an object or a boolean")
    sub = depth + 1

    ref = schema.get("$ref")
    if isinstance(ref, str):
        _validate(_resolve(root, ref), value, root, path, errors, sub)

    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_type_ok(value, x) for x in types):
            want = " or ".join(str(x) for x in types)
            errors.append(f"{_where(path)}: invalid type, expected {want}, got {_type_name(value)}")
            return

    if "enum" in schema:
        options = schema["enum"]
        if not any(_equal(value, o) for o in options):
            errors.append(f"{_where(path)}: value must be one of the enum values")
    if "const" in schema and not _equal(value, schema["const"]):
        errors.append(f"{_where(path)}: value must equal the constant")

    if isinstance(value, bool):
        pass
    elif isinstance(value, (int, float)):
        _numeric(schema, value, path, errors)
    elif isinstance(value, str):
        n = len(value)
        if "minLength" in schema and n < schema["minLength"]:
            errors.append(f"{_where(path)}: string length must be >= {schema['minLength']}")
        if "maxLength" in schema and n > schema["maxLength"]:
            errors.append(f"{_where(path)}: string length must be <= {schema['maxLength']}")
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            errors.append(f"{_where(path)}: does not match pattern {schema['pattern']!r}")

    if isinstance(value, dict) or (value == [] and _objectish(schema)):
        _object(schema, value if isinstance(value, dict) else {}, root, path, errors, sub)
    elif isinstance(value, list):
        _array(schema, value, root, path, errors, sub)

    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            branches = schema[key]
            results = []
            for b in branches:
                errs: list[str] = []
                _validate(b, value, root, path, errs, sub)
                results.append(errs)
            passed = sum(1 for r in results if not r)
            if key == "allOf":
                for r in results:
                    errors.extend(r)
            elif key == "anyOf" and passed == 0:
                errors.append(f"{_where(path)}: does not match any schema of anyOf")
            elif key == "oneOf" and passed != 1:
                errors.append(f"{_where(path)}: must match exactly one schema of oneOf, matched {passed}")
    if "not" in schema:
        errs = []
        _validate(schema["not"], value, root, path, errs, sub)
        if not errs:
            errors.append(f"{_where(path)}: must not match the schema of not")
    if "if" in schema:
        errs = []
        _validate(schema["if"], value, root, path, errs, sub)
        branch = schema.get("then") if not errs else schema.get("else")
        if branch is not None:
            _validate(branch, value, root, path, errors, sub)


def _objectish(schema: dict[str, Any]) -> bool:
    t = schema.get("type")
    types = t if isinstance(t, list) else [t]
    return "object" in types and "array" not in types


def _numeric(schema: dict[str, Any], value: float, path: str, errors: list[str]) -> None:
    where = _where(path)
    if "minimum" in schema:
        excl = schema.get("exclusiveMinimum") is True
        m = schema["minimum"]
        if value < m or (excl and value == m):
            errors.append(f"{where}: must be {'>' if excl else '>='} {m}")
    if "maximum" in schema:
        excl = schema.get("exclusiveMaximum") is True
        m = schema["maximum"]
        if value > m or (excl and value == m):
            errors.append(f"{where}: must be {'<' if excl else '<='} {m}")
    em = schema.get("exclusiveMinimum")
    if isinstance(em, (int, float)) and not isinstance(em, bool) and value <= em:
        errors.append(f"{where}: must be > {em}")
    ex = schema.get("exclusiveMaximum")
    if isinstance(ex, (int, float)) and not isinstance(ex, bool) and value >= ex:
        errors.append(f"{where}: must be < {ex}")
    mo = schema.get("multipleOf")
    if isinstance(mo, (int, float)) and mo:
        q = value / mo
        if abs(q - round(q)) > 1e-9:
            errors.append(f"{where}: must be a multiple of {mo}")


def _object(
    schema: dict[str, Any], value: dict[str, Any], root: Any, path: str, errors: list[str], depth: int
) -> None:
    where = _where(path)
    for name in schema.get("required", []) or []:
        if name not in value:
            errors.append(f"{where}: missing required property {name!r}")
    n = len(value)
    if "minProperties" in schema and n < schema["minProperties"]:
        errors.append(f"{where}: must have at least {schema['minProperties']} properties")
    if "maxProperties" in schema and n > schema["maxProperties"]:
        errors.append(f"{where}: must have at most {schema['maxProperties']} properties")
    props = _as_object(schema.get("properties", {}))
    patterns = _as_object(schema.get("patternProperties", {}))
    additional = schema.get("additionalProperties", True)
    for key, item in value.items():
        child = f"{path}/{key}"
        matched = False
        if key in props:
            matched = True
            _validate(props[key], item, root, child, errors, depth)
        for pat, sub in patterns.items():
            if _regex(pat).search(key):
                matched = True
                _validate(sub, item, root, child, errors, depth)
        if not matched and additional is not True:
            if additional is False:
                errors.append(f"{where}: additional property {key!r} is not allowed")
            else:
                _validate(additional, item, root, child, errors, depth)
        if "propertyNames" in schema:
            _validate(schema["propertyNames"], key, root, child, errors, depth)
    deps = schema.get("dependentRequired") or {}
    legacy = schema.get("dependencies") or {}
    for key, need in list(_as_object(deps).items()) + list(_as_object(legacy).items()):
        if key not in value:
            continue
        if isinstance(need, list):
            for other in need:
                if other not in value:
                    errors.append(f"{where}: property {other!r} is required by {key!r}")
        else:
            _validate(need, value, root, path, errors, depth)


def _array(
    schema: dict[str, Any], value: list[Any], root: Any, path: str, errors: list[str], depth: int
) -> None:
    where = _where(path)
    n = len(value)
    if "minItems" in schema and n < schema["minItems"]:
        errors.append(f"{where}: must have at least {schema['minItems']} items")
    if "maxItems" in schema and n > schema["maxItems"]:
        errors.append(f"{where}: must have at most {schema['maxItems']} items")
    if schema.get("uniqueItems") is True:
        for i in range(n):
            if any(_equal(value[i], value[j]) for j in range(i)):
                errors.append(f"{where}: items must be unique")
                break
    prefix = schema.get("prefixItems")
    items = schema.get("items")
    start = 0
    if isinstance(prefix, list):
        for i, sub in enumerate(prefix[:n]):
            _validate(sub, value[i], root, f"{path}/{i}", errors, depth)
        start = len(prefix)
    if isinstance(items, list) and items and isinstance(items[0], (dict, bool)):
        for i, sub in enumerate(items[:n]):
            _validate(sub, value[i], root, f"{path}/{i}", errors, depth)
        rest = schema.get("additionalItems", True)
        if rest is not True:
            for i in range(len(items), n):
                _validate(rest, value[i], root, f"{path}/{i}", errors, depth)
    elif items is not None:
        for i in range(start, n):
            _validate(items, value[i], root, f"{path}/{i}", errors, depth)
    if "contains" in schema:
        hits = 0
        for item in value:
            errs: list[str] = []
            _validate(schema["contains"], item, root, path, errs, depth)
            if not errs:
                hits += 1
        lo = schema.get("minContains", 1)
        if hits < lo:
            errors.append(f"{where}: must contain at least {lo} matching item(s)")
        if "maxContains" in schema and hits > schema["maxContains"]:
            errors.append(f"{where}: must contain at most {schema['maxContains']} matching item(s)")
