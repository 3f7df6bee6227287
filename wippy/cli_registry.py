"""`wippy registry list|show`: filtering and printing the loaded project's entries.

No runtime is needed: these verbs work on the entries as loaded from the project (after
the config's ``override`` section, ``-o`` overrides and ``disable`` patterns).

Filters of ``list`` follow the reference CLI: ``-k/--kind``, ``-n/--ns`` and ``--name``
are shell globs (``*``, ``?``, ``[...]``); each ``--meta EXPR`` compares one metadata
field, ``FIELD=VALUE`` exact, ``FIELD~REGEX`` regular expression (search),
``FIELD*TEXT`` contains (a substring of a string, or an element of a list),
``FIELD^TEXT`` prefix and ``FIELD$TEXT`` suffix. FIELD may be dotted
(``command.name``); an optional ``meta.`` prefix is accepted. All filters must match.

Machine output (``--json``/``--yaml``) is stable: entries sorted by ID, keys sorted.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wippy.entry import Entry

MISSING: Any = object()  # what lookup() returns for an absent field
_META_OPS = "=~*^$"


class FilterError(ValueError):
    """A filter expression cannot be understood."""


@dataclass(frozen=True)
class MetaFilter:
    path: tuple[str, ...]
    op: str
    value: str

    def matches(self, meta: dict[str, Any]) -> bool:
        found = lookup(meta, self.path)
        if found is MISSING:
            return False
        if self.op == "*" and isinstance(found, list):
            return any(_text(item) == self.value for item in found)
        text = _text(found)
        if self.op == "=":
            return text == self.value
        if self.op == "~":
            return re.search(self.value, text) is not None
        if self.op == "*":
            return self.value in text
        if self.op == "^":
            return text.startswith(self.value)
        return text.endswith(self.value)


def parse_meta_filter(expr: str) -> MetaFilter:
    """``field=value`` and friends; the first operator character splits the expression."""
    index = next((i for i, ch in enumerate(expr) if ch in _META_OPS), -1)
    if index <= 0:
        raise FilterError(f"--meta {expr!r}: expected FIELD=VALUE (or ~ * ^ $ instead of =)")
    field_path, op, value = expr[:index].strip(), expr[index], expr[index + 1 :]
    if field_path.startswith("meta."):
        field_path = field_path[len("meta.") :]
    if op == "~":
        try:
            re.compile(value)
        except re.error as exc:
            raise FilterError(f"--meta {expr!r}: bad regular expression: {exc}") from None
    return MetaFilter(tuple(field_path.split(".")), op, value)


def select(entries: Iterable[Entry], kinds: Sequence[str] = (), namespaces: Sequence[str] = (),
           names: Sequence[str] = (), metas: Sequence[str] = ()) -> list[Entry]:  # fmt: skip
    """Entries matching every filter (a repeated glob flag matches any of its globs), by ID."""
    meta_filters = [parse_meta_filter(m) for m in metas]

    def glob_ok(value: str, globs: Sequence[str]) -> bool:
        return not globs or any(fnmatch.fnmatchcase(value, g) for g in globs)

    chosen = [
        e
        for e in entries
        if glob_ok(e.kind, kinds)
        and glob_ok(e.namespace, namespaces)
        and glob_ok(e.name, names)
        and all(f.matches(e.meta if isinstance(e.meta, dict) else {}) for f in meta_filters)
    ]
    return sorted(chosen, key=lambda e: e.id)


def lookup(value: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` inside nested mappings/lists, or ``MISSING``."""
    for part in path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def entry_field(entry: Entry, field_path: str) -> Any:
    """``-f`` of ``registry show``: ``id``, ``kind``, ``namespace``, ``name``, ``meta[.x]``,
    ``data[.x]`` or a bare data field (the override path rules, spec §1.5)."""
    parts = field_path.split(".")
    head = parts[0]
    if len(parts) == 1 and head in ("id", "kind", "namespace", "name", "meta", "data"):
        return entry_dict(entry)[head]
    if head == "meta":
        return lookup(entry.meta, parts[1:])
    if head == "data":
        parts = parts[1:]
    return lookup(entry.data, parts)


def entry_dict(entry: Entry, root: Path | None = None, with_data: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"id": entry.id, "namespace": entry.namespace, "name": entry.name, "kind": entry.kind,
                           "meta": entry.meta}  # fmt: skip
    if with_data:
        out["data"] = entry.data
        if entry.origin is not None:
            out["origin"] = _relative(str(entry.origin), root)
    return out


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def to_yaml(value: Any) -> str:
    return yaml.safe_dump(_plain(value), sort_keys=True, allow_unicode=True, default_flow_style=False).rstrip(
        "\n"
    )


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in [header, *rows]]


def list_rows(entries: Sequence[Entry]) -> list[tuple[str, str, str]]:
    return [(e.id, e.kind, _describe(e)) for e in entries]


def show_lines(entry: Entry, root: Path | None) -> list[str]:
    """The readable form of one entry: the header fields, then meta and data as YAML."""
    lines = [f"id:        {entry.id}", f"kind:      {entry.kind}"]
    if entry.origin is not None:
        lines.append(f"defined:   {_relative(str(entry.origin), root)}")
    for title, value in (("meta", entry.meta), ("data", entry.data)):
        if value in ({}, None):
            lines.append(f"{title}:      {{}}")
            continue
        lines.append(f"{title}:")
        lines += ["  " + line for line in to_yaml(value).splitlines()]
    return lines


def scalar_text(value: Any, encode: Callable[[Any], str]) -> str:
    """A field value for ``-f``: scalars as plain text, structures encoded."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return encode(value)


def _describe(entry: Entry) -> str:
    meta = entry.meta if isinstance(entry.meta, dict) else {}
    command = meta.get("command")
    if isinstance(command, dict) and command.get("name"):
        short = command.get("short") or meta.get("comment") or ""
        return f"command {command['name']}" + (f": {short}" if short else "")
    return str(meta.get("comment") or "")


def _relative(text: str, root: Path | None) -> str:
    if root is not None:
        prefix = str(root.resolve()) + "/"
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _text(value: Any) -> str:
    return scalar_text(value, lambda v: json.dumps(v, sort_keys=True, default=str))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


__all__ = ["MISSING", "FilterError", "MetaFilter", "entry_dict", "entry_field", "list_rows", "lookup", "parse_meta_filter",
           "scalar_text", "select", "show_lines", "table", "to_json", "to_yaml"]  # fmt: skip
