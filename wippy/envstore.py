"""The environment system (§2.8): env storages, env variables and placeholders.

Storages come from ``env.storage.*`` entries:

* ``env.storage.memory``  volatile values held in this OS process
* ``env.storage.file``    a ``.env`` file (``KEY=VALUE`` lines, ``#`` comments)
* ``env.storage.os``      the OS environment, read-only
* ``env.storage.static``  the entry's ``values:`` map, read-only
* ``env.storage.router``  ``storages: [ids]``; reads try each in order, writes go to the first

``env.variable`` entries make values visible: only a registered variable can be read by
``env.get`` or a ``${env:...}`` placeholder. A variable is addressed by its public name
(``variable:``) or its entry ID; inside its storage it is stored under its public name
(the entry's name when it has none).

``build_env(entries)`` builds an :class:`EnvStore`; ``env_store(runtime)`` builds it on
first use from ``runtime.entries`` and caches it as ``runtime.env_store``.
``resolve_placeholders(data, store)`` expands placeholders in entry data.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wippy.entry import Entry, resolve_ref

STORAGE_KINDS = (
    "env.storage.memory",
    "env.storage.file",
    "env.storage.os",
    "env.storage.static",
    "env.storage.router",
)
VARIABLE_KIND = "env.variable"
ENV_KINDS = (*STORAGE_KINDS, VARIABLE_KIND)


class EnvError(Exception):
    """A failed env operation; ``kind`` is an error kind string (``NotFound``...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --------------------------------------------------------------------------- storages


class Storage:
    """A place where variable values live. Values are strings."""

    readonly = False

    def __init__(self, entry_id: str = "") -> None:
        self.id = entry_id

    def get(self, key: str) -> str | None:
        raise NotImplementedError

    def set(self, key: str, value: str) -> None:
        raise EnvError("PermissionDenied", f"storage {self.id} is read-only")


class MemoryStorage(Storage):
    def __init__(self, entry_id: str = "") -> None:
        super().__init__(entry_id)
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._values[key] = value


class StaticStorage(Storage):
    readonly = True

    def __init__(self, entry_id: str = "", values: dict[str, Any] | None = None) -> None:
        super().__init__(entry_id)
        self._values = {str(k): stringify(v) for k, v in (values or {}).items()}

    def get(self, key: str) -> str | None:
        return self._values.get(key)


class OSStorage(Storage):
    readonly = True

    def get(self, key: str) -> str | None:
        return os.environ.get(key)


def parse_dotenv(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines; ``#`` comments, blank lines, ``export`` prefixes and quotes allowed."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            quote = value[0]
            value = value[1:-1]
            if quote == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if key:
            values[key] = value
    return values


def format_dotenv(values: dict[str, str]) -> str:
    lines = []
    for key, value in values.items():
        if value == "" or re.fullmatch(r"[A-Za-z0-9_./:@+,-]*", value):
            lines.append(f"{key}={value}")
        else:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            lines.append(f'{key}="{escaped}"')
    return "\n".join(lines) + ("\n" if lines else "")


def _mode(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, int):
        return value
    return int(str(value), 8)


class FileStorage(Storage):
    def __init__(
        self,
        entry_id: str,
        path: str | Path,
        *,
        auto_create: bool = False,
        file_mode: Any = None,
        dir_mode: Any = None,
    ) -> None:
        super().__init__(entry_id)
        self.path = Path(path)
        self.auto_create = auto_create
        self.file_mode = _mode(file_mode, 0o644)
        self.dir_mode = _mode(dir_mode, 0o755)
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        try:
            return parse_dotenv(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise EnvError("Internal", f"cannot read {self.path}: {exc.strerror}") from exc

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._read().get(key)

    def set(self, key: str, value: str) -> None:
        with self._lock:
            if not self.path.exists() and not self.auto_create:
                raise EnvError("NotFound", f"env file {self.path} does not exist")
            values = self._read()
            values[key] = value
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=self.dir_mode)
                tmp = self.path.with_name(self.path.name + ".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.file_mode)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(format_dotenv(values))
                os.replace(tmp, self.path)
            except OSError as exc:
                raise EnvError("Internal", f"cannot write {self.path}: {exc.strerror}") from exc


class RouterStorage(Storage):
    def __init__(self, entry_id: str, storages: list[Storage]) -> None:
        super().__init__(entry_id)
        self.storages = storages

    @property
    def readonly(self) -> bool:  # type: ignore[override]
        return not self.storages or self.storages[0].readonly

    def get(self, key: str) -> str | None:
        for storage in self.storages:
            value = storage.get(key)
            if value is not None:
                return value
        return None

    def set(self, key: str, value: str) -> None:
        if not self.storages:
            raise EnvError("PermissionDenied", f"storage {self.id} has no writable storage")
        self.storages[0].set(key, value)


# --------------------------------------------------------------------------- variables


_PUBLIC_NAME = re.compile(r"[A-Za-z0-9_]+")


class Variable:
    def __init__(
        self,
        entry_id: str,
        storage_id: str,
        name: str | None = None,
        default: Any = None,
        readonly: bool = False,
    ) -> None:
        self.id = entry_id
        self.name = name
        self.storage_id = storage_id
        self.default = None if default is None else stringify(default)
        self.readonly = readonly

    @property
    def key(self) -> str:
        """The name the value has inside its storage."""
        return self.name or self.id.partition(":")[2] or self.id

    @property
    def public(self) -> str:
        return self.name or self.id


def stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class EnvStore:
    """The storages and variables of a project, with get/set/get_all as `env` offers them."""

    def __init__(self, base_dir: str | Path | None = None) -> None:
        self.base = Path(base_dir) if base_dir is not None else None
        self.sources: dict[str, Entry] = {}
        self.storages: dict[str, Storage] = {}
        self.variables: dict[str, Variable] = {}
        self.by_name: dict[str, Variable] = {}
        self._lock = threading.Lock()

    def load(self, entries: Iterable[Entry]) -> None:
        """Add the env entries among ``entries`` (others are ignored) and rebuild."""
        with self._lock:
            for entry in entries:
                if entry.kind in ENV_KINDS:
                    self.sources[entry.id] = entry
            self._rebuild()

    def apply(self, entry: Entry) -> None:
        """Add or replace one env entry."""
        self.load([entry])

    def remove(self, entry_id: str) -> None:
        with self._lock:
            if self.sources.pop(entry_id, None) is not None:
                self._rebuild()

    def _rebuild(self) -> None:
        storages_src = {i: e for i, e in self.sources.items() if e.kind in STORAGE_KINDS}
        storages: dict[str, Storage] = {}
        for entry in storages_src.values():
            _build_storage(entry, self.base, storages, storages_src, set())
        for sid, old in self.storages.items():  # memory values outlive a rebuild
            new = storages.get(sid)
            if isinstance(old, MemoryStorage) and isinstance(new, MemoryStorage):
                new._values = old._values
        variables: dict[str, Variable] = {}
        by_name: dict[str, Variable] = {}
        for entry in self.sources.values():
            if entry.kind == VARIABLE_KIND:
                var = _variable(entry)
                variables[var.id] = var
                if var.name:
                    by_name[var.name] = var
        # readers on other threads see either the old or the new maps, never a mix
        self.storages, self.variables, self.by_name = storages, variables, by_name

    def lookup(self, key: str) -> Variable | None:
        """A variable by public name first, then by entry ID."""
        return self.by_name.get(key) or self.variables.get(key)

    def _storage(self, var: Variable) -> Storage:
        storage = self.storages.get(var.storage_id)
        if storage is None:
            raise EnvError("NotFound", f"storage {var.storage_id} not found for variable {var.public}")
        return storage

    def get(self, key: str) -> str:
        if not key:
            raise EnvError("Invalid", "variable name is empty")
        var = self.lookup(key)
        if var is None:
            raise EnvError("NotFound", f"variable not found: {key}")
        value = self._storage(var).get(var.key)
        if value is None:
            value = var.default
        if value is None:
            raise EnvError("NotFound", f"variable has no value: {key}")
        return value

    def set(self, key: str, value: Any) -> None:
        if not key:
            raise EnvError("Invalid", "variable name is empty")
        var = self.lookup(key)
        if var is None:
            raise EnvError("NotFound", f"variable not found: {key}")
        if var.readonly:
            raise EnvError("PermissionDenied", f"variable {var.public} is read-only")
        storage = self._storage(var)
        if storage.readonly:
            raise EnvError("PermissionDenied", f"storage {storage.id} is read-only")
        storage.set(var.key, stringify(value))

    def get_all(self) -> dict[str, str]:
        """Every variable that has a value (stored or default), by public name."""
        out: dict[str, str] = {}
        for var in self.variables.values():
            try:
                out[var.public] = self.get(var.name or var.id)
            except EnvError:
                continue
        return out


def _build_storage(
    entry: Entry, base: Path | None, built: dict[str, Storage], pending: dict[str, Entry], seen: set[str]
) -> Storage | None:
    if entry.id in built:
        return built[entry.id]
    data = entry.data if isinstance(entry.data, dict) else {}
    storage: Storage
    if entry.kind == "env.storage.memory":
        storage = MemoryStorage(entry.id)
    elif entry.kind == "env.storage.os":
        storage = OSStorage(entry.id)
    elif entry.kind == "env.storage.static":
        values = data.get("values")
        storage = StaticStorage(entry.id, values if isinstance(values, dict) else {})
    elif entry.kind == "env.storage.file":
        path = Path(str(data.get("file_path") or ".env"))
        if not path.is_absolute() and base is not None:
            path = base / path
        storage = FileStorage(
            entry.id,
            path,
            auto_create=bool(data.get("auto_create", False)),
            file_mode=data.get("file_mode"),
            dir_mode=data.get("dir_mode"),
        )
    elif entry.kind == "env.storage.router":
        if entry.id in seen:
            return None  # a cycle of routers: the inner reference is dropped
        seen.add(entry.id)
        parts: list[Storage] = []
        for ref in data.get("storages") or []:
            target = pending.get(resolve_ref(str(ref), entry.namespace))
            if target is None:
                continue
            part = _build_storage(target, base, built, pending, seen)
            if part is not None:
                parts.append(part)
        storage = RouterStorage(entry.id, parts)
    else:
        return None
    built[entry.id] = storage
    return storage


def _variable(entry: Entry) -> Variable:
    data = entry.data if isinstance(entry.data, dict) else {}
    name = data.get("variable")
    name = str(name) if name not in (None, "") else None
    if name is not None and not _PUBLIC_NAME.fullmatch(name):
        name = None
    storage_ref = str(data.get("storage") or "")
    return Variable(
        entry.id,
        resolve_ref(storage_ref, entry.namespace) if storage_ref else "",
        name,
        data.get("default"),
        bool(data.get("readonly", False)),
    )


def build_env(entries: Iterable[Entry], base_dir: str | Path | None = None) -> EnvStore:
    """An :class:`EnvStore` from the env entries among ``entries`` (others are ignored).

    ``base_dir`` anchors relative ``file_path`` values of file storages.
    """
    store = EnvStore(base_dir)
    store.load(entries)
    return store


class EnvListener:
    """Registry listener for the env kinds: keeps ``env_store(runtime)`` in step with the registry.

    Register it for every kind in :data:`ENV_KINDS`. Values held by a memory storage
    survive updates of other entries (and of the storage entry itself).
    """

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    async def add(self, entry: Entry) -> None:
        env_store(self.runtime).apply(entry)

    async def update(self, old: Entry, new: Entry) -> None:
        env_store(self.runtime).apply(new)

    async def delete(self, entry: Entry) -> None:
        env_store(self.runtime).remove(entry.id)


_build_lock = threading.Lock()


def env_store(runtime: Any) -> EnvStore:
    """The runtime's store: built from ``runtime.entries`` on first use, cached as ``runtime.env_store``."""
    store = getattr(runtime, "env_store", None)
    if isinstance(store, EnvStore):
        return store
    with _build_lock:
        store = getattr(runtime, "env_store", None)
        if not isinstance(store, EnvStore):
            entries = getattr(runtime, "entries", None) or {}
            values = entries.values() if isinstance(entries, dict) else entries
            store = build_env(values, getattr(runtime, "root", None))
            runtime.env_store = store
    return store


# --------------------------------------------------------------------------- placeholders

# `$${` (escape), `${env:NAME}`, `${env:NAME|default}`, `${NAME|default}`
_TOKEN = re.compile(r"\$\$\{|\$\{(env:)?([^}|]*)(?:\|([^}]*))?\}")
_UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9_]*")


class PlaceholderError(EnvError):
    def __init__(self, message: str) -> None:
        super().__init__("Invalid", message)


def _coerce(value: str, default: str | None) -> Any:
    """The typed value of a whole-field placeholder: the default's literal type decides."""
    if default is None:
        return value
    low = default.strip().lower()
    if low in ("true", "false"):
        v = value.strip().lower()
        if v in ("true", "1", "yes", "on"):
            return True
        if v in ("false", "0", "no", "off", ""):
            return False
        return value
    if re.fullmatch(r"[+-]?\d+", default.strip()):
        try:
            return int(value.strip())
        except ValueError:
            return value
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?", default.strip()):
        try:
            return float(value.strip())
        except ValueError:
            return value
    return value


def _lookup(store: EnvStore | None, name: str) -> str | None:
    if store is None:
        return None
    try:
        return store.get(name)
    except EnvError:
        return None


def _expand(text: str, store: EnvStore | None) -> Any:
    """One string with placeholders: a typed value for a whole-field placeholder, else text."""
    whole = _TOKEN.fullmatch(text)
    if whole is not None and whole.group(0) != "$${":
        resolved = _one(whole, store)
        if resolved is None:
            return text
        value, default = resolved
        return _coerce(value, default)

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$${":
            return "${"
        resolved = _one(m, store)
        return m.group(0) if resolved is None else resolved[0]

    return _TOKEN.sub(sub, text)


def _one(m: re.Match[str], store: EnvStore | None) -> tuple[str, str | None] | None:
    """(value, default) of one placeholder, or None to leave it untouched."""
    is_env, name, default = m.group(1), m.group(2).strip(), m.group(3)
    if not is_env:
        if default is None or not _UPPER_SNAKE.fullmatch(name):
            return None  # a bare ${VAR} (or a non UPPER_SNAKE name) is not a placeholder
    value = _lookup(store, name)
    if value is None:
        if default is None:
            raise PlaceholderError(f"environment variable {name} is not set and has no default")
        value = default
    return value, default


def resolve_placeholders(data: Any, store: EnvStore | None) -> Any:
    """A copy of ``data`` with env placeholders expanded in every string value (keys untouched).

    A string that is exactly one placeholder gets a typed value when the placeholder has a
    typed default (``${env:PORT|8080}`` -> int); embedded placeholders interpolate as text.
    Raises :class:`PlaceholderError` for ``${env:NAME}`` without value and default.
    """
    if isinstance(data, str):
        return _expand(data, store) if "${" in data else data
    if isinstance(data, dict):
        return {k: resolve_placeholders(v, store) for k, v in data.items()}
    if isinstance(data, list):
        return [resolve_placeholders(v, store) for v in data]
    if isinstance(data, tuple):
        return tuple(resolve_placeholders(v, store) for v in data)
    return data


def has_placeholders(data: Any) -> bool:
    """Whether ``data`` holds any ``${`` text (a quick test before resolving)."""
    if isinstance(data, str):
        return "${" in data
    if isinstance(data, dict):
        return any(has_placeholders(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        return any(has_placeholders(v) for v in data)
    return False


def resolved_entry(runtime: Any, entry: Entry) -> Entry:
    """``entry`` with its data resolved against the runtime's env (the entry itself if unchanged)."""
    if not has_placeholders(entry.data):
        return entry
    data = resolve_placeholders(entry.data, env_store(runtime))
    return Entry(entry.id, entry.kind, entry.meta, data, entry.origin)


def entry_data(runtime: Any, entry: Entry) -> dict[str, Any]:
    """The data mapping of ``entry`` with placeholders resolved (``{}`` when not a mapping).

    The one call a kind handler needs: ``data = entry_data(runtime, entry)``. Raises
    :class:`PlaceholderError` (kind Invalid) for ``${env:NAME}`` without value or default.
    """
    if not isinstance(entry.data, dict):
        return {}
    if not has_placeholders(entry.data):
        return entry.data
    return resolve_placeholders(entry.data, env_store(runtime))
