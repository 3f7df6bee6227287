"""The `wippy` command line.

Exit codes: 0 ok; 1 the process or runtime failed (or ``lint`` found problems, or an
unknown command/entry was named); 2 the project or the command line is wrong (every
problem is printed, no traceback); 130/143 a second SIGINT/SIGTERM forced the exit.

Which project: the current directory (its ``wippy.lock`` names the source directory,
``-l/--lock-file`` picks another lock; without a lock ``./src`` is loaded and one log line
says so). Extension: the first positional word names the project directory when it is an
existing directory holding ``wippy.lock`` or ``src/`` (see :func:`split_project`).

Nothing a user can get wrong prints a Python traceback: unexpected exceptions become one
``error: ...`` line and exit code 1; ``--very-verbose`` or ``WIPPY_DEBUG=1`` shows the
traceback as well.

The runtime itself (``wippy.runtime.run(project, options) -> int``) is imported lazily so
that ``lint``, ``entries``, ``registry``, ``init`` and ``completion`` work without it.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import sys
import traceback
from collections.abc import Callable, Container
from pathlib import Path
from typing import Any, NoReturn

import click
from click.shell_completion import CompletionItem, get_completion_class

from wippy import __version__
from wippy import cli_registry as reg
from wippy.config import Config, ConfigError, load_config
from wippy.entry import Entry
from wippy.logs import configure, get_logger, level_from
from wippy.project import Problem, Project, ProjectError, find_project, load_project
from wippy.runtime_options import RunOptions

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
CODE_KINDS = ("process.lua", "function.lua", "library.lua", "workflow.lua")
PROCESS_KINDS = ("process.lua", "process.wasm")
LIST_WORD = "list"  # `wippy run list`: reserved, lists the commands
DEBUG_ENV = "WIPPY_DEBUG"
COMPLETE_VAR = "_WIPPY_COMPLETE"


# ----------------------------------------------------------------------------- shared flags


def _merge_flags(ctx: click.Context, **flags: Any) -> dict[str, Any]:
    """Global flags may be given before or after a (sub)command; every place counts.

    ``ctx.obj`` is inherited from the parent context, so it holds what the enclosing
    groups already merged.
    """
    merged: dict[str, Any] = dict(ctx.obj or {})
    for key, value in flags.items():
        if isinstance(value, tuple):
            merged[key] = [*merged.get(key, []), *value]
        elif isinstance(value, bool):
            merged[key] = merged.get(key, False) or value
        elif value is not None:
            merged[key] = value
        else:
            merged.setdefault(key, None)
    if merged.get("very_verbose"):
        merged["verbose"] = True
        ctx.find_root().meta["wippy.debug"] = True
    return merged


def global_flags(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("-v", "--verbose", is_flag=True, help="Debug logs."),
        click.option("--very-verbose", is_flag=True,
                     help=f"Debug logs and Python tracebacks of internal errors (also {DEBUG_ENV}=1)."),
        click.option("-s", "--silent", is_flag=True, help="No console logs."),
        click.option("-c", "--console", is_flag=True, help="Colour console logs."),
        click.option(
            "--log-level",
            type=click.Choice(["debug", "info", "warn", "error"]),
            default=None,
            help="Minimum log level (overrides -v and the config).",
        ),
        click.option(
            "--config",
            "config_files",
            multiple=True,
            metavar="FILE",
            help="Config file (repeatable; later files win per key). Default: ./.wippy.yaml.",
        ),
        click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="SECTION.PATH=VALUE",
            help="Set one config value (repeatable); true/false and numbers are typed.",
        ),
        click.option(
            "-o",
            "--override",
            "overrides",
            multiple=True,
            metavar="NS:ENTRY:PATH=VALUE",
            help="Override one entry field (repeatable); PATH is kind, meta.x, data.x or a bare data field.",
        ),
        click.option(
            "-l", "--lock-file", default=None, metavar="FILE",
            help="Lock file naming the source directory (default wippy.lock of the project).",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _fail(problems: list[Problem] | list[str], code: int = EXIT_USAGE) -> NoReturn:
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(code)


def _is_project_dir(path: Path) -> bool:
    return path.is_dir() and ((path / "wippy.lock").is_file() or (path / "src").is_dir())


def _project_dir(word: str | None) -> Path | None:
    """A word names a project directory only if it is a directory holding wippy.lock or src/."""
    if word is None or word.startswith("-"):
        return None
    path = Path(word)
    return path if _is_project_dir(path) else None


def _looks_like_path(word: str) -> bool:
    return word in (".", "..") or "/" in word or os.sep in word


def split_project(words: list[str], flags: dict[str, Any]) -> tuple[Path, list[str]]:
    """The project root and the remaining words of ``wippy run [DIR] [COMMAND [ARGS...]]``.

    The first word names the project directory when it is an existing directory holding
    ``wippy.lock`` or ``src/``. When that word is a bare name (no ``/``) and the project
    in the current directory has a command of that name, the command wins (the reference
    CLI always reads that word as a command). Write ``./NAME`` to mean the directory, or
    ``wippy run . NAME`` to mean the command explicitly.
    """
    cwd = Path.cwd()
    if not words:
        return cwd, []
    first = words[0]
    directory = _project_dir(first)
    if directory is None:
        return cwd, words
    if not _looks_like_path(first) and _is_project_dir(cwd):
        project, _ = _load(cwd, flags)
        if project is not None and first in commands(project):
            return cwd, words
    return directory, words[1:]


def _load(root: Path, flags: dict[str, Any]) -> tuple[Project | None, list[Problem]]:
    """Load config and project; on failure return the problems instead of raising."""
    try:
        paths = find_project(root, flags.get("lock_file"))
        config = load_config(paths.root, flags.get("config_files") or [], flags.get("sets") or [])
        return load_project(paths, config, flags.get("overrides") or []), []
    except ProjectError as exc:
        return None, exc.problems
    except ConfigError as exc:
        return None, [Problem(exc.file or "config", exc.line, message=exc.message)]


def _load_or_fail(root: Path, flags: dict[str, Any]) -> Project:
    project, problems = _load(root, flags)
    if project is None:
        _fail(problems)
    return project


def _setup_logs(flags: dict[str, Any], config: Config | None, silent: bool) -> str:
    min_level = config.get("logmanager.min_level") if config else None
    level = level_from(flags.get("log_level"), flags.get("verbose", False), min_level)
    encoding = str(config.get("logger.encoding", "console")) if config else "console"
    configure(level, encoding, colour=flags.get("console", False), silent=silent)
    return {10: "debug", 20: "info", 30: "warn", 40: "error"}.get(level, "info")


def _log_warnings(project: Project) -> None:
    log = get_logger("loader")
    for warning in project.warnings:
        log.warn(warning)
    log.debug(
        "project loaded", root=str(project.root), src=str(project.src_dir), entries=len(project.entries)
    )


def commands(project: Project) -> dict[str, Entry]:
    """The project's named commands: process entries with ``meta.command.name``."""
    found: dict[str, Entry] = {}
    for entry in project.entries:
        command = entry.meta.get("command") if isinstance(entry.meta, dict) else None
        if entry.kind in PROCESS_KINDS and isinstance(command, dict) and command.get("name"):
            found.setdefault(str(command["name"]), entry)
    return found


def _quiet_project() -> Project | None:
    """The current directory's project for shell completion (None when it does not load)."""
    if not _is_project_dir(Path.cwd()):
        return None
    try:
        project, _ = _load(Path.cwd(), {})
    except Exception:
        return None
    return project


def _complete_run_words(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    if ctx.params.get("words"):
        return []
    project = _quiet_project()
    names = sorted([*commands(project), LIST_WORD]) if project is not None else [LIST_WORD]
    items = [CompletionItem(n, help="command") for n in names if n.startswith(incomplete)]
    return [*items, CompletionItem(incomplete, type="dir")]


def _entry_ids(incomplete: str, kinds: Container[str]) -> list[CompletionItem]:
    """Completions: the project's entry IDs of the given kinds that start with `incomplete`."""
    project = _quiet_project()
    if project is None:
        return []
    return [CompletionItem(e.id) for e in project.entries if e.kind in kinds and e.id.startswith(incomplete)]


def _complete_process_ids(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return _entry_ids(incomplete, PROCESS_KINDS)


def _complete_terminal_ids(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return _entry_ids(incomplete, ("terminal.host",))


def _complete_entry_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    project = _quiet_project()
    if project is None:
        return []
    return [
        CompletionItem(e.id)
        for e in sorted(project.entries, key=lambda e: e.id)
        if e.id.startswith(incomplete)
    ]


# ----------------------------------------------------------------------------- the group


class WippyGroup(click.Group):
    """Turns unexpected exceptions into one ``error: ...`` line (traceback on request)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.meta.get("wippy.debug") or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
                traceback.print_exc()
            text = str(exc).strip().splitlines()
            detail = text[0] if text else type(exc).__name__
            click.echo(f"error: {detail}", err=True)
            sys.exit(EXIT_FAILURE)


@click.group(cls=WippyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@global_flags
@click.version_option(__version__, prog_name="wippy")
@click.pass_context
def main(ctx: click.Context, **flags: Any) -> None:
    """Run Wippy applications: YAML entries and Lua processes as supervised actors.

    The project is the current directory: its wippy.lock names the source directory
    (-l/--lock-file picks another lock file; without a lock ./src is loaded). `run`,
    `lint`, `entries` and `registry list|show` also take a project directory as their first
    word (see `wippy run --help` for the rule).

    Global flags may be given before or after the command.

    \b
    Examples:
      wippy init hello && cd hello && wippy run -x app:hello
      wippy run greet Ada                  # a command of ./ with one argument
      wippy registry list -k 'process.*'
      eval "$(wippy completion bash)"      # shell completion
    """
    # a crash inside the native layers (Lua, lupa) prints every thread's Python stack
    # (not when stderr has no file descriptor, as under click's test runner)
    with contextlib.suppress(ValueError, OSError, AttributeError):
        faulthandler.enable()
    ctx.obj = _merge_flags(ctx, **flags)


# ----------------------------------------------------------------------------- run


@main.command(context_settings={"ignore_unknown_options": True})
@global_flags
@click.option(
    "-x",
    "--exec",
    "exec_id",
    metavar="NS:ENTRY",
    shell_complete=_complete_process_ids,
    help="Run one process entry on the terminal host and exit with its code.",
)
@click.option(
    "--arg",
    "exec_args",
    multiple=True,
    metavar="WORD",
    help="Pass WORD to the process's main and io.args() (repeatable; our extension, for -x).",
)
@click.option(
    "--host",
    metavar="NS:HOST",
    shell_complete=_complete_terminal_ids,
    help="The terminal.host for -x and commands (default: the first one).",
)
@click.option("--boot-plan", is_flag=True, help="Print the boot component levels and exit.")
@click.argument("words", nargs=-1, type=click.UNPROCESSED, shell_complete=_complete_run_words)
@click.pass_context
def run(ctx: click.Context, exec_id: str | None, exec_args: tuple[str, ...], host: str | None, boot_plan: bool,
        words: tuple[str, ...], **flags: Any) -> None:  # fmt: skip
    """Boot the runtime and run the project until SIGINT/SIGTERM (a second signal forces exit).

    \b
    WORDS: [DIR] [COMMAND [ARGS...]]
      DIR      the first word names the project directory when it is an existing
               directory containing wippy.lock or src/. Exception: a bare name
               (no '/') that is also a command of the project in the current
               directory runs that command. `./NAME` always means the directory,
               `wippy run . NAME` always the command.
      COMMAND  a process entry with meta.command.name; ARGS are passed as strings
               to its main and are visible through io.args(). `wippy run list`
               lists the commands; an unknown name prints: command "X" not found.
    As in the reference, the first word after the options is always a command, even
    with -x: `wippy run -x app:hello Ada` fails with command "Ada" not found. To pass
    arguments to a -x entry use --arg (repeatable), our extension. Use `--` before
    ARGS that start with '-' and clash with wippy's own flags.

    \b
    With -x the console logs are silenced (unless -v) and the exit code follows the
    process: an integer returned by main is the code, true/nil give 0, false gives 1,
    an error is printed on stderr and gives 1.

    \b
    Examples:
      wippy run                          # run the services of ./ until Ctrl-C
      wippy run -x app:hello             # run one process and exit with its code
      wippy run -x app:greet --arg Ada   # ... passing it one argument
      wippy run greet Ada                # run the command `greet` with one argument
      wippy run list                     # list the commands
      wippy run examples/hello -x app:hello
      wippy run -o app:hello:method=main2 --set logger.encoding=json
      wippy run --boot-plan
    """
    merged = _merge_flags(ctx, **flags)
    if boot_plan:
        _print_boot_plan()
        return
    root, rest = split_project(list(words), merged)
    project = _load_or_fail(root, merged)
    if rest and rest[0] == LIST_WORD and exec_id is None:
        _setup_logs(merged, project.config, merged.get("silent", False))
        _log_warnings(project)
        _print_commands(project)
        return
    if exec_id is not None:
        target = project.get(exec_id)
        if target is None:
            _fail([f'entry "{exec_id}" not found'], EXIT_FAILURE)
        if target.kind not in PROCESS_KINDS:
            _fail(
                [f"entry {exec_id} is a {target.kind}, not a process ({', '.join(PROCESS_KINDS)})"],
                EXIT_FAILURE,
            )
    silent = merged.get("silent", False) or (exec_id is not None and not merged.get("verbose", False))
    level_name = _setup_logs(merged, project.config, silent)
    _log_warnings(project)
    options = RunOptions(
        exec_id=exec_id,
        command=rest[0] if rest else None,
        args=[*rest[1:], *exec_args],
        host=host,
        verbose=merged.get("verbose", False),
        silent=silent,
        console=merged.get("console", False),
        log_level=level_name,
        overrides=list(merged.get("overrides") or []),
        sets=list(merged.get("sets") or []),
        config_files=list(merged.get("config_files") or []),
    )
    try:
        from wippy import runtime
    except ImportError as exc:
        if exc.name not in ("wippy.runtime", "wippy"):
            raise
        click.echo("engine not available", err=True)
        sys.exit(EXIT_FAILURE)
    code = runtime.run(project, options)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _print_boot_plan() -> None:
    from wippy.boot import BootError, BootLoader, standard_components

    loader = BootLoader()
    try:
        for component in standard_components():
            loader.register(component)
        levels = loader.levels()
    except BootError as exc:
        _fail([str(exc)], EXIT_FAILURE)
    for index, level in enumerate(levels):
        click.echo(f"level {index}: {', '.join(level)}")


def _print_commands(project: Project) -> None:
    found = commands(project)
    if not found:
        click.echo("no commands (process entries with meta.command.name)", err=True)
        return
    rows = []
    for name, entry in sorted(found.items()):
        command = entry.meta["command"]
        short = str(command.get("short") or entry.meta.get("comment") or "")
        rows.append((name, short))
    width = max(len(name) for name, _ in rows)
    for name, short in rows:
        click.echo(f"{name.ljust(width)}  {short}".rstrip())


# ----------------------------------------------------------------------------- registry


@main.group(cls=WippyGroup)
@global_flags
@click.pass_context
def registry(ctx: click.Context, **flags: Any) -> None:
    """Inspect the project's entries as loaded (after overrides and disable), no runtime.

    \b
    Examples:
      wippy registry list --kind 'process.*' --meta command.name=greet
      wippy registry show app:greet -f meta.command.short
    """
    ctx.obj = _merge_flags(ctx, **flags)


def _output_format(as_json: bool, as_yaml: bool) -> str:
    if as_json and as_yaml:
        raise click.UsageError("--json and --yaml exclude each other")
    return "json" if as_json else "yaml" if as_yaml else "text"


def _registry_project(ctx: click.Context, directory: Path | None, flags: dict[str, Any]) -> Project:
    merged = _merge_flags(ctx, **flags)
    project = _load_or_fail(directory or Path.cwd(), merged)
    _setup_logs(merged, project.config, merged.get("silent", False))
    _log_warnings(project)
    return project


@registry.command("list")
@global_flags
@click.option(
    "-k", "--kind", "kinds", multiple=True, metavar="GLOB", help="Kind glob (repeatable: any matches)."
)
@click.option("-n", "--ns", "namespaces", multiple=True, metavar="GLOB", help="Namespace glob (repeatable).")
@click.option("--name", "names", multiple=True, metavar="GLOB", help="Entry name glob (repeatable).")
@click.option(
    "--meta",
    "metas",
    multiple=True,
    metavar="EXPR",
    help="Meta filter (repeatable, all must match): f=v exact, f~re regex, f*s contains, "
    "f^p prefix, f$s suffix; f may be dotted (command.name).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="JSON array of {id, namespace, name, kind, meta}, by ID."
)
@click.option("--yaml", "as_yaml", is_flag=True, help="The same as YAML.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def registry_list(ctx: click.Context, kinds: tuple[str, ...], namespaces: tuple[str, ...], names: tuple[str, ...],
                  metas: tuple[str, ...], as_json: bool, as_yaml: bool, directory: Path | None,
                  **flags: Any) -> None:  # fmt: skip
    """List entries (ID, kind, description), filtered; a table, or --json/--yaml.

    \b
    Examples:
      wippy registry list
      wippy registry list -k 'process.*' -n app
      wippy registry list --name 'get_*' --meta 'comment~^Greets'
      wippy registry list --meta command.name=greet --json
      wippy registry list examples/hello --yaml
    """
    fmt = _output_format(as_json, as_yaml)
    project = _registry_project(ctx, directory, flags)
    try:
        chosen = reg.select(project.entries, kinds, namespaces, names, metas)
    except reg.FilterError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt == "json":
        click.echo(reg.to_json([reg.entry_dict(e, project.root, with_data=False) for e in chosen]))
    elif fmt == "yaml":
        click.echo(reg.to_yaml([reg.entry_dict(e, project.root, with_data=False) for e in chosen]))
    else:
        for line in reg.table(reg.list_rows(chosen), ("ID", "KIND", "DESCRIPTION")):
            click.echo(line)
        click.echo(f"{len(chosen)} entr{'y' if len(chosen) == 1 else 'ies'}", err=True)


@registry.command("show")
@global_flags
@click.option(
    "-f",
    "--field",
    "field_path",
    metavar="PATH",
    help="Print one field: id, kind, meta[.x], data[.x] or a bare data field.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="JSON object {id, namespace, name, kind, meta, data, origin}."
)
@click.option("--yaml", "as_yaml", is_flag=True, help="The same as YAML.")
@click.argument("words", nargs=-1, required=True, metavar="[DIR] ID", shell_complete=_complete_entry_ids)
@click.pass_context
def registry_show(ctx: click.Context, field_path: str | None, as_json: bool, as_yaml: bool, words: tuple[str, ...],
                  **flags: Any) -> None:  # fmt: skip
    """Show one entry: kind, origin, meta and data (or one field with -f).

    \b
    Examples:
      wippy registry show app:greet
      wippy registry show app:greet -f source
      wippy registry show app:greet -f meta.command --json
      wippy registry show examples/hello app:hello --yaml
    """
    fmt = _output_format(as_json, as_yaml)
    if len(words) > 2:
        raise click.UsageError("expected [DIR] ID")
    directory = Path(words[0]) if len(words) == 2 else None
    if directory is not None and not _is_project_dir(directory):
        _fail([f"{directory}: not a project directory (no wippy.lock or src/)"])
    entry_id = words[-1]
    project = _registry_project(ctx, directory, flags)
    entry = project.get(entry_id)
    if entry is None:
        _fail([f'entry "{entry_id}" not found'], EXIT_FAILURE)
    encode = reg.to_json if fmt == "json" else reg.to_yaml
    if field_path is not None:
        value = reg.entry_field(entry, field_path)
        if value is reg.MISSING:
            _fail([f'entry {entry_id} has no field "{field_path}"'], EXIT_FAILURE)
        click.echo(encode(value) if fmt != "text" else reg.scalar_text(value, reg.to_yaml))
        return
    if fmt == "text":
        for line in reg.show_lines(entry, project.root):
            click.echo(line)
    else:
        click.echo(encode(reg.entry_dict(entry, project.root)))


# ----------------------------------------------------------------------------- completion


@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script (commands, flags, command names, entry IDs).

    \b
    Examples:
      eval "$(wippy completion bash)"     # in ~/.bashrc
      eval "$(wippy completion zsh)"      # in ~/.zshrc
      wippy completion fish > ~/.config/fish/completions/wippy.fish
    Equivalent: eval "$(_WIPPY_COMPLETE=bash_source wippy)".
    """
    cls = get_completion_class(shell)
    assert cls is not None
    click.echo(cls(main, {}, "wippy", COMPLETE_VAR).source())


# ----------------------------------------------------------------------------- other verbs


@main.command()
@global_flags
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def lint(ctx: click.Context, directory: Path | None, **flags: Any) -> None:
    """Check the project: entry files, then the syntax of every Lua source.

    Prints one line per problem (file:line: ... for entries, file:line:col: message
    for Lua) and exits 1 if there is any.

    \b
    Example:
      wippy lint            # the project in the current directory
      wippy lint examples/hello
    """
    merged = _merge_flags(ctx, **flags)
    root = directory or Path.cwd()
    project, problems = _load(root, merged)
    lines = [str(p) for p in problems]
    if project is not None:
        sources = _code_sources(project)
    else:
        try:
            src_dir = find_project(root, merged.get("lock_file")).src_dir
        except ProjectError:
            src_dir = root / "src"
        sources = sorted(src_dir.rglob("*.lua")) if src_dir.is_dir() else []
    lines += _lint_lua(sources)
    for line in lines:
        click.echo(line, err=False)
    if lines:
        click.echo(f"{len(lines)} problem{'s' if len(lines) != 1 else ''}", err=True)
        sys.exit(EXIT_FAILURE)
    click.echo(f"ok: {len(project.entries) if project else 0} entries, {len(sources)} Lua files", err=True)


def _code_sources(project: Project) -> list[Path]:
    seen: dict[Path, None] = {}
    for entry in project.entries:
        source = entry.data.get("source") if isinstance(entry.data, dict) else None
        if entry.kind in CODE_KINDS and isinstance(source, str) and source.startswith("file://"):
            seen.setdefault(Path(source[len("file://") :]), None)
    return list(seen)


def _lint_lua(paths: list[Path]) -> list[str]:
    """Compile each Lua file with the typed-Lua compiler, when it is available."""
    if not paths:
        return []
    try:
        from wippy.lua.compiler import lint_files  # type: ignore[attr-defined]
    except ImportError:
        click.echo("note: Lua compiler not available, Lua sources not checked", err=True)
        return []
    out = []
    for item in lint_files(paths) or []:
        if isinstance(item, str):
            out.append(item)
        else:
            file = getattr(item, "file", "?")
            out.append(
                f"{file}:{getattr(item, 'line', 0)}:{getattr(item, 'col', 0)}: {getattr(item, 'message', item)}"
            )
    return out


@main.command()
@global_flags
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def entries(ctx: click.Context, directory: Path | None, **flags: Any) -> None:
    """List the project's entries by namespace and kind.

    \b
    Example:
      wippy entries
      wippy entries examples/hello
    """
    merged = _merge_flags(ctx, **flags)
    project, problems = _load(directory or Path.cwd(), merged)
    if project is None:
        _fail(problems)
    rows = sorted((e.namespace, e.kind, e.name) for e in project.entries)
    header = ("NAMESPACE", "KIND", "NAME")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    click.echo(f"{len(rows)} entries")


_LOCK = """directories:
  modules: .wippy
  src: ./src
"""

_INDEX = """version: "1.0"
namespace: app

entries:
  # Runs the one process started with `wippy run -x` and gives it the terminal.
  - name: terminal
    kind: terminal.host
    lifecycle:
      auto_start: true

  # Runs the application's processes and services.
  - name: processes
    kind: process.host
    lifecycle:
      auto_start: true

  - name: hello
    kind: process.lua
    meta:
      comment: Prints a greeting
    source: file://hello.lua
    method: main
    modules: [io]
"""

_HELLO = """-- hello: run it with `wippy run -x app:hello`.

local io = require("io")

local function main()
    io.print("Hello from Wippy!")
    return 0
end

return { main = main }
"""


@main.command()
@global_flags
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path, **flags: Any) -> None:
    """Create a hello-world project in DIRECTORY (created if needed).

    \b
    Example:
      wippy init hello && cd hello && wippy run -x app:hello
    """
    if (directory / "wippy.lock").exists() or (directory / "src").exists():
        _fail([f"{directory}: already contains a project (wippy.lock or src/)"])
    (directory / "src").mkdir(parents=True, exist_ok=True)
    (directory / "wippy.lock").write_text(_LOCK, encoding="utf-8")
    (directory / "src" / "_index.yaml").write_text(_INDEX, encoding="utf-8")
    (directory / "src" / "hello.lua").write_text(_HELLO, encoding="utf-8")
    click.echo(f"created {directory}; run it with: cd {directory} && wippy run -x app:hello")


@main.command()
@global_flags
def version(**flags: Any) -> None:
    """Print the runtime version.

    \b
    Example:
      wippy version
    """
    click.echo(f"wippy {__version__}")


__all__ = ["main"]
