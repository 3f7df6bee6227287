"""The project loader: from a directory of YAML definition files to validated entries.

``find_project`` locates the source directory (``wippy.lock`` ``directories.src``, or
``./src`` with a warning when there is no lock, spec §0 C1). ``load_project`` reads every
definition file under it, builds the :class:`~wippy.entry.Entry` list in file order,
applies the configuration's entry overrides and ``disable`` patterns (spec §1.5), and
validates the result.

Validation reports *every* problem of the project at once rather than stopping at the
first one: a user fixing a project should see the whole list. Each
:class:`Problem` names the file and line (line numbers come from the YAML node marks, so
they point at the offending field when it exists, else at the entry), the entry and the
field. Checks: YAML syntax, definition-file shape, empty namespace, missing name/kind,
unknown kind, the kind's schema (msgspec, one problem per bad field), duplicate IDs,
``file://`` paths (must exist and stay inside the project root), and references named by
the kind spec (see :mod:`wippy.kinds`).

XX: the reference lets a later duplicate win with a warning; we refuse duplicates
because a silently shadowed entry is a bug that is very hard to find.
XX: vendored modules (``.wippy/vendor``) are not loaded yet, so a reference into a
module the project depends on is reported as dangling.
"""

from __future__ import annotations

import copy
import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml

from wippy.config import Config, ConfigError, coerce, load_config
from wippy.entry import Entry, Origin, resolve_ref
from wippy.kinds import kind_spec

FILE_SCHEME = "file://"
_NOT_DATA = ("name", "kind", "meta")
_SINGLE_FILE_HEADER = ("namespace", "version")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a project. ``file`` is relative to the project root."""

    file: str
    line: int = 0
    entry_id: str | None = None
    field: str | None = None
    message: str = ""

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        if self.entry_id:
            parts.append(f"entry {self.entry_id}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


class ProjectError(Exception):
    """The project cannot be loaded; ``problems`` lists everything found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class ProjectPaths:
    root: Path
    src_dir: Path
    lock: Path | None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Project:
    root: Path
    src_dir: Path
    entries: list[Entry]
    config: Config
    warnings: list[str] = field(default_factory=list)

    def get(self, entry_id: str) -> Entry | None:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        return None


# --------------------------------------------------------------------------- finding


def find_project(start: Path, lock_file: str | None = None) -> ProjectPaths:
    """Locate the project rooted at ``start``: its lock file and its source directory."""
    root = Path(start).resolve()
    warnings: list[str] = []
    lock = (root / lock_file) if lock_file else root / "wippy.lock"
    if not lock.is_file():
        if lock_file:
            raise ProjectError([Problem(_display(lock, root), message="lock file not found")])
        warnings.append("no wippy.lock found, loading ./src")
        return ProjectPaths(root, root / "src", None, warnings)
    try:
        data = yaml.safe_load(lock.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProjectError([_yaml_problem(lock, root, exc)]) from None
    src = "./src"
    if isinstance(data, dict) and isinstance(data.get("directories"), dict):
        src = data["directories"].get("src") or src
    if not isinstance(src, str):
        raise ProjectError(
            [Problem(_display(lock, root), field="directories.src", message="must be a string")]
        )
    return ProjectPaths(root, (lock.parent / src).resolve(), lock, warnings)


# --------------------------------------------------------------------------- loading


@dataclass
class _Loaded:
    """An entry together with the YAML nodes that locate its fields."""

    entry: Entry
    file: str
    node: yaml.MappingNode
    data_prefix: tuple[str, ...]  # ("data",) when the entry wrote an explicit `data:` key


class _Loader:
    def __init__(self, paths: ProjectPaths) -> None:
        self.paths = paths
        self.root = paths.root
        self.problems: list[Problem] = []
        self.loaded: list[_Loaded] = []

    def problem(
        self,
        file: str,
        line: int = 0,
        entry_id: str | None = None,
        field: str | None = None,
        message: str = "",
    ) -> None:
        self.problems.append(Problem(file, line, entry_id, field, message))

    # -- files

    def definition_files(self) -> Iterator[Path]:
        for dirpath, dirnames, filenames in os.walk(self.paths.src_dir):
            dirnames[:] = sorted(d for d in dirnames if d != "node_modules" and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith((".yaml", ".yml")) and not name.startswith("."):
                    yield Path(dirpath) / name

    def read_file(self, path: Path) -> None:
        file = _display(path, self.root)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(file, message=f"cannot read file: {exc}")
            return
        try:
            node, doc = _compose(FastLoader, text)
        except yaml.YAMLError:
            try:  # the pure-Python parser words the problem better: ask it for the message
                node, doc = _compose(yaml.SafeLoader, text)
            except yaml.YAMLError as exc:
                self.problems.append(_yaml_problem(path, self.root, exc))
                return
        if not isinstance(doc, dict) or "namespace" not in doc or not isinstance(node, yaml.MappingNode):
            return  # not a definition file
        is_list = "entries" in doc
        if not is_list and "name" not in doc and "kind" not in doc:
            return
        namespace = doc.get("namespace")
        ns_line = _line(_child(node, "namespace")) or _line(node)
        if not isinstance(namespace, str) or not namespace.strip():
            self.problem(file, ns_line, field="namespace", message="empty namespace")
            return
        if ":" in namespace or namespace != namespace.strip():
            self.problem(file, ns_line, field="namespace", message=f"invalid namespace {namespace!r}")
            return
        file_meta = doc.get("meta") if is_list else None
        if file_meta is not None and not isinstance(file_meta, dict):
            self.problem(file, _line(_child(node, "meta")), field="meta", message="must be a mapping")
            file_meta = None
        if is_list:
            items_node = _child(node, "entries")
            items = doc["entries"]
            if items is None:
                return
            if not isinstance(items, list) or not isinstance(items_node, yaml.SequenceNode):
                self.problem(file, _line(items_node), field="entries", message="must be a list")
                return
            for item, item_node in zip(items, items_node.value, strict=True):
                self.read_entry(path, file, namespace, file_meta or {}, item, item_node, header=())
        else:
            self.read_entry(path, file, namespace, {}, doc, node, header=_SINGLE_FILE_HEADER)

    def read_entry(
        self,
        path: Path,
        file: str,
        namespace: str,
        file_meta: dict[str, Any],
        item: Any,
        node: yaml.Node,
        header: tuple[str, ...],
    ) -> None:
        line = _line(node)
        if not isinstance(item, dict) or not isinstance(node, yaml.MappingNode):
            self.problem(file, line, message="entry must be a mapping")
            return
        name, kind = item.get("name"), item.get("kind")
        bad = False
        if name is None or name == "":
            self.problem(file, line, message="missing name")
            bad = True
        elif not isinstance(name, str) or ":" in name:
            self.problem(
                file,
                _line(_child(node, "name")),
                f"{namespace}:{name}",
                "name",
                "name must be a string without ':'",
            )
            bad = True
        entry_id = f"{namespace}:{name}"
        if kind is None or kind == "":
            self.problem(file, line, entry_id if not bad else None, message="missing kind")
            bad = True
        elif not isinstance(kind, str):
            self.problem(file, _line(_child(node, "kind")), entry_id, "kind", "kind must be a string")
            bad = True
        meta = item.get("meta")
        if meta is None:
            meta = {}
        elif not isinstance(meta, dict):
            self.problem(file, _line(_child(node, "meta")), entry_id, "meta", "must be a mapping")
            bad = True
        if bad:
            return
        if "data" in item:
            data, data_node, prefix = item["data"], _child(node, "data"), ("data",)
        else:
            data = {k: v for k, v in item.items() if k not in _NOT_DATA and k not in header}
            data_node, prefix = node, ()
        data = self.resolve_files(path, file, entry_id, data, data_node, ())
        entry = Entry(entry_id, kind, {**copy.deepcopy(file_meta), **meta}, data, Origin(str(path), line))
        self.loaded.append(_Loaded(entry, file, node, prefix))

    def resolve_files(
        self, path: Path, file: str, entry_id: str, value: Any, node: yaml.Node | None, where: tuple[str, ...]
    ) -> Any:
        """Rewrite every ``file://x`` string to ``file://<absolute path>``, checking it."""
        if isinstance(value, dict):
            return {
                k: self.resolve_files(path, file, entry_id, v, _child(node, k), (*where, str(k)))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [
                self.resolve_files(path, file, entry_id, v, _item(node, i), (*where, str(i)))
                for i, v in enumerate(value)
            ]
        if not (isinstance(value, str) and value.startswith(FILE_SCHEME)):
            return value
        rel = value[len(FILE_SCHEME) :]
        target = (path.parent / rel).resolve()
        field_name = ".".join(where)
        if not target.is_relative_to(self.root):
            self.problem(file, _line(node), entry_id, field_name, f"{value} leaves the project root")
        elif not target.is_file():
            what = "source file" if where == ("source",) else "file"
            self.problem(file, _line(node), entry_id, field_name, f"{what} not found: {rel}")
        return FILE_SCHEME + str(target)

    # -- normalisation

    def apply_overrides(self, overrides: dict[str, Any], origin: str) -> None:
        by_id = {loaded.entry.id: loaded.entry for loaded in self.loaded}
        for key, value in overrides.items():
            parts = str(key).split(":", 2)
            if len(parts) != 3 or not all(parts):
                self.problem(origin, message=f"override {key!r}: expected ns:entry:path")
                continue
            entry_id, path = f"{parts[0]}:{parts[1]}", parts[2]
            entry = by_id.get(entry_id)
            if entry is None:
                self.problem(origin, message=f"override {key!r}: entry {entry_id} not found")
                continue
            if path == "kind":
                if not isinstance(value, str) or not value:
                    self.problem(origin, message=f"override {key!r}: kind must be a non-empty string")
                    continue
                entry.kind = value
                continue
            segments = path.split(".")
            if segments[0] == "meta" and len(segments) > 1:
                target, segments = entry.meta, segments[1:]
            else:
                if segments[0] == "data" and len(segments) > 1:
                    segments = segments[1:]
                if not isinstance(entry.data, dict):
                    self.problem(origin, message=f"override {key!r}: entry data is not a mapping")
                    continue
                target = entry.data
            for segment in segments[:-1]:
                nxt = target.get(segment)
                if not isinstance(nxt, dict):
                    nxt = target[segment] = {}
                target = nxt
            target[segments[-1]] = value

    def apply_disable(self, disable: Any) -> None:
        if not isinstance(disable, dict):
            return
        ns_globs = [str(g) for g in disable.get("namespaces") or []]
        id_globs = [str(g) for g in disable.get("entries") or []]

        def disabled(entry: Entry) -> bool:
            return any(fnmatch.fnmatchcase(entry.namespace, g) for g in ns_globs) or any(
                fnmatch.fnmatchcase(entry.id, g) for g in id_globs
            )

        self.loaded = [loaded for loaded in self.loaded if not disabled(loaded.entry)]

    # -- validation

    def validate(self) -> None:
        first: dict[str, _Loaded] = {}
        for loaded in self.loaded:
            entry = loaded.entry
            previous = first.get(entry.id)
            if previous is not None:
                self.problem(
                    loaded.file,
                    entry.origin.line if entry.origin else 0,
                    entry.id,
                    None,
                    f"duplicate entry ID (first defined at {previous.file}:"
                    f"{previous.entry.origin.line if previous.entry.origin else 0})",
                )
                continue
            first[entry.id] = loaded
            self.validate_schema(loaded)
        ids = set(first)
        for loaded in first.values():
            self.validate_refs(loaded, ids)

    def field_line(self, loaded: _Loaded, field_path: str) -> int:
        """Line of the deepest YAML node along ``field_path`` (the entry line at worst)."""
        node: yaml.Node | None = loaded.node
        best = _line(node)
        for segment in (*loaded.data_prefix, *_split_path(field_path)):
            node = (
                _item(node, int(segment))
                if segment.isdigit() and isinstance(node, yaml.SequenceNode)
                else _child(node, segment)
            )
            if node is None:
                break
            best = _line(node)
        return best

    def validate_schema(self, loaded: _Loaded) -> None:
        entry = loaded.entry
        spec = kind_spec(entry.kind)
        if spec is None:
            self.problem(
                loaded.file,
                _line(_child(loaded.node, "kind")),
                entry.id,
                "kind",
                f"unknown kind {entry.kind!r}",
            )
            return
        if spec.schema is None:
            return
        if not isinstance(entry.data, dict):
            self.problem(loaded.file, _line(loaded.node), entry.id, "data", "must be a mapping")
            return
        for info in msgspec.structs.fields(spec.schema):
            if info.encode_name not in entry.data:
                if info.required:
                    self.problem(
                        loaded.file, _line(loaded.node), entry.id, info.encode_name, "missing required field"
                    )
                continue
            try:
                msgspec.convert(entry.data[info.encode_name], type=info.type)
            except msgspec.ValidationError as exc:
                message, _, at = str(exc).partition(" - at `$")
                field_path = info.encode_name + at.rstrip("`")
                message = message.replace("Object missing", "missing")
                message = message[:1].lower() + message[1:]
                self.problem(loaded.file, self.field_line(loaded, field_path), entry.id, field_path, message)

    def validate_refs(self, loaded: _Loaded, ids: set[str]) -> None:
        entry = loaded.entry
        spec = kind_spec(entry.kind)
        if spec is None or not spec.refs:
            return
        for ref_path in spec.refs:
            for where, value in _walk_refs(entry.data, ref_path.split("."), ()):
                if not isinstance(value, str) or not value or "${" in value:
                    continue
                target = resolve_ref(value, entry.namespace)
                if target not in ids:
                    field_path = ".".join(where).replace(".[", "[")
                    self.problem(
                        loaded.file,
                        self.field_line(loaded, field_path),
                        entry.id,
                        field_path,
                        f"reference to unknown entry {target}",
                    )


def load_project(paths: ProjectPaths, config: Config | None = None, overrides: Sequence[str] = ()) -> Project:
    """Load, normalise and validate the project; raise :class:`ProjectError` on any problem.

    ``config`` defaults to the project's ``.wippy.yaml``; ``overrides`` are ``-o``
    strings (``ns:entry:path=value``) applied after the config's ``override`` section.
    Entries keep their references as written; validation only checks that they resolve.
    """
    loader = _Loader(paths)
    if config is None:
        try:
            config = load_config(paths.root)
        except ConfigError as exc:
            raise ProjectError([Problem(exc.file or ".wippy.yaml", exc.line, message=exc.message)]) from None
    if not paths.src_dir.is_dir():
        message = "source directory not found"
        if paths.lock is None:
            message += " (no wippy.lock either: not a Wippy project; `wippy init DIR` creates one)"
        raise ProjectError([Problem(_display(paths.src_dir, paths.root), message=message)])
    for path in loader.definition_files():
        loader.read_file(path)
    loader.apply_overrides(config.overrides, ".wippy.yaml override")
    cli: dict[str, Any] = {}
    for text in overrides:
        key, sep, value = text.partition("=")
        if not sep:
            loader.problem("--override", message=f"{text!r}: expected ns:entry:path=value")
            continue
        cli[key.strip()] = coerce(value)
    loader.apply_overrides(cli, "--override")
    loader.apply_disable(config.get("disable"))
    loader.validate()
    if loader.problems:
        raise ProjectError(sorted(loader.problems, key=lambda p: (p.file, p.line)))
    return Project(
        paths.root,
        paths.src_dir,
        [loaded.entry for loaded in loader.loaded],
        config,
        [*paths.warnings, *config.warnings],
    )


# --------------------------------------------------------------------------- helpers


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


# libyaml's parser (about 9x faster on a definition file) when PyYAML was built with it
FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(loader_class: type, text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its value."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _yaml_problem(path: Path, root: Path, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {context + ', ' if context else ''}{problem}"
    return Problem(_display(path, root), line, message=message)


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 0


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node
    return None


def _item(node: yaml.Node | None, index: int) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and 0 <= index < len(node.value):
        return node.value[index]
    return None


_PATH_SEGMENT = re.compile(r"\[(\d+)\]|\[\.\.\.\]|\.?([^.\[]+)")


def _split_path(field_path: str) -> list[str]:
    """``lifecycle.requires[0]`` -> ``["lifecycle", "requires", "0"]``."""
    return [m.group(1) or m.group(2) for m in _PATH_SEGMENT.finditer(field_path) if m.group(1) or m.group(2)]


def _walk_refs(
    value: Any, segments: list[str], where: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any]]:
    if not segments:
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield (*where, f"[{i}]"), item
        else:
            yield where, value
        return
    head, rest = segments[0], segments[1:]
    if head == "*":
        if isinstance(value, dict):
            for key, item in value.items():
                yield from _walk_refs(item, rest, (*where, str(key)))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from _walk_refs(item, rest, (*where, f"[{i}]"))
    elif isinstance(value, dict) and head in value:
        yield from _walk_refs(value[head], rest, (*where, head))


__all__ = ["Problem", "Project", "ProjectError", "ProjectPaths", "find_project", "load_project"]
