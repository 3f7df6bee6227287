"""Runtime configuration: ``.wippy.yaml`` plus ``--config`` files and ``--set`` overrides.

Layers, lowest first (spec §1.3): built-in defaults, then each config file merged per
leaf (later wins), then ``--set section.path=value``. Without ``--config`` the project's
``.wippy.yaml`` is read if it exists; files named with ``--config`` must exist.

String values may use ``${env:NAME}`` (an OS variable; missing is an error) and
``${name}`` (from the ``vars:`` section). A value that is exactly one placeholder takes
the variable's value with its type; an embedded placeholder is interpolated as text.
Unknown top-level sections produce a warning, not an error, so configs written for a
newer runtime still load.

XX: ``profiles``/``--profile`` and ``workspace`` are accepted but not applied yet.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = ".wippy.yaml"

DEFAULTS: dict[str, Any] = {
    "version": "1.0",
    "vars": {},
    "override": {},
    "disable": {"namespaces": [], "entries": []},
    "logger": {"encoding": "console"},
    "logmanager": {"propagate_downstream": True, "stream_to_events": False, "min_level": -1},
    "security": {"strict_mode": False},
    "registry": {"enable_history": True, "history_type": "memory", "history_path": ".wippy/registry.db"},
    "relay": {"node_name": None},
    "supervisor": {"host": {"buffer_size": 1024, "worker_count": 16}},
    "lua": {
        "proto_cache_size": 60000,
        "main_cache_size": 10000,
        "cache": {
            "enabled": False,
            "dir": ".wippy/cache/lua",
            "mode": "readwrite",
            "compile": {"enabled": True},
            "typecheck": {"enabled": True},
        },
        "type_system": {"enabled": False, "strict": False},
    },
    "shutdown": {"timeout": "30s"},
    "prometheus": {"enabled": False, "address": None},
}

#: Sections of the reference runtime we know about but do not (fully) use yet.
KNOWN_SECTIONS = frozenset(DEFAULTS) | {
    "profiles", "workspace", "profiler", "finder", "otel", "metrics", "cluster", "lsp",
    "network_service", "dispatcher", "modules", "extensions",
}  # fmt: skip

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class ConfigError(Exception):
    """A config file cannot be used; ``file``/``line`` locate it when known."""

    def __init__(self, message: str, file: str | None = None, line: int = 0) -> None:
        self.message, self.file, self.line = message, file, line
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(where + message)


@dataclass
class Config:
    data: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    base_dir: Path = field(default_factory=Path.cwd)

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path (``registry.history_type``), or ``default``."""
        node: Any = self.data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def duration(self, path: str, default: float = 0.0) -> float:
        """A duration setting in seconds (``30s``, ``1m30s``, a number of seconds)."""
        value = self.get(path)
        return default if value is None else parse_duration(value)

    def path(self, path: str) -> Path:
        """A path setting, relative paths anchored at the first config file's directory."""
        return self.base_dir / str(self.get(path))

    @property
    def overrides(self) -> dict[str, Any]:
        value = self.get("override")
        return value if isinstance(value, dict) else {}


def load_config(root: Path, files: Sequence[str | Path] = (), sets: Sequence[str] = ()) -> Config:
    """Build the configuration of the project at ``root`` (see the module docstring)."""
    root = Path(root)
    warnings: list[str] = []
    paths = [Path(f) if Path(f).is_absolute() else root / f for f in files]
    for path in paths:
        if not path.is_file():
            raise ConfigError("config file not found", str(path))
    if not paths and (root / DEFAULT_FILE).is_file():
        paths = [root / DEFAULT_FILE]
    data = copy.deepcopy(DEFAULTS)
    for path in paths:
        layer = _read(path)
        for key in layer:
            if key not in KNOWN_SECTIONS:
                warnings.append(f"{path.name}: unknown config section {key!r} ignored")
        data = merge(data, layer)
    for text in sets:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {text!r}: expected section.path=value")
        set_path(data, key.strip(), coerce(value))
    data = _interpolate(data, data.get("vars") or {})
    base = paths[0].parent if paths else root
    return Config(data, paths, warnings, base.resolve())


def merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Merge ``layer`` onto ``base`` per leaf: nested mappings merge, anything else replaces."""
    out = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``a.b.c``, creating mappings on the way."""
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def coerce(text: str) -> Any:
    """Coerce a command-line value by its shape: true/false -> bool, numeric -> number."""
    value = text.strip()
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return text


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Seconds in a Go-style duration (``1m30s``, ``100ms``) or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    parts = _DURATION_PART.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"invalid duration {value!r}")
    return sign * sum(float(n) * _UNIT[u] for n, u in parts)


def _read(path: Path) -> dict[str, Any]:
    try:
        layer = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"invalid YAML: {getattr(exc, 'problem', exc)}", str(path),
                          mark.line + 1 if mark else 0) from None  # fmt: skip
    if layer is None:
        return {}
    if not isinstance(layer, dict):
        raise ConfigError("a config file must be a mapping", str(path))
    return layer


def _interpolate(data: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    resolved_vars = {k: _resolve(v, {}, f"vars.{k}") for k, v in variables.items()}
    out = {k: _resolve(v, resolved_vars, k) for k, v in data.items() if k != "vars"}
    out["vars"] = resolved_vars
    return out


def _resolve(value: Any, variables: dict[str, Any], where: str) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, variables, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, variables, where) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value

    def lookup(name: str) -> Any:
        if name.startswith("env:"):
            env_name = name[4:]
            if env_name not in os.environ:
                raise ConfigError(f"{where}: environment variable {env_name} is not set")
            return os.environ[env_name]
        if name not in variables:
            raise ConfigError(f"{where}: undefined config variable {name!r}")
        return variables[name]

    whole = _PLACEHOLDER.fullmatch(value)
    if whole:
        return lookup(whole.group(1))
    return _PLACEHOLDER.sub(lambda m: str(lookup(m.group(1))), value)
