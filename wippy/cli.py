"""The `wippy` command line.

Exit codes: 0 ok; 1 the process or runtime failed (or ``lint`` found problems);
2 the project or the command line is wrong (every problem is printed, no traceback);
130/143 a second SIGINT/SIGTERM forced the exit.

The runtime itself (``wippy.runtime.run(project, options) -> int``) is imported lazily so
that ``lint``, ``entries`` and ``init`` work without it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from wippy import __version__
from wippy.config import Config, ConfigError, load_config
from wippy.logs import configure, get_logger, level_from
from wippy.project import Problem, Project, ProjectError, find_project, load_project
from wippy.runtime_options import RunOptions

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
CODE_KINDS = ("process.lua", "function.lua", "library.lua", "workflow.lua")


# ----------------------------------------------------------------------------- shared flags


def _merge_flags(ctx: click.Context, **flags: Any) -> dict[str, Any]:
    """Global flags may be given before or after the subcommand; both places count."""
    merged: dict[str, Any] = dict(ctx.find_root().obj or {})
    for key, value in flags.items():
        if isinstance(value, tuple):
            merged[key] = [*merged.get(key, []), *value]
        elif isinstance(value, bool):
            merged[key] = merged.get(key, False) or value
        elif value is not None:
            merged[key] = value
        else:
            merged.setdefault(key, None)
    return merged


def global_flags(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("-v", "--verbose", is_flag=True, help="Debug logs."),
        click.option("-s", "--silent", is_flag=True, help="No console logs."),
        click.option("-c", "--console", is_flag=True, help="Colour console logs."),
        click.option(
            "--log-level",
            type=click.Choice(["debug", "info", "warn", "error"]),
            default=None,
            help="Minimum log level (overrides -v and the config).",
        ),  # fmt: skip
        click.option(
            "--config",
            "config_files",
            multiple=True,
            metavar="FILE",
            help="Config file (repeatable; later files win per key). Default: ./.wippy.yaml.",
        ),  # fmt: skip
        click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="SECTION.PATH=VALUE",
            help="Set one config value (repeatable); true/false and numbers are typed.",
        ),  # fmt: skip
        click.option(
            "-o",
            "--override",
            "overrides",
            multiple=True,
            metavar="NS:ENTRY:PATH=VALUE",
            help="Override one entry field (repeatable); PATH is kind, meta.x or a data field.",
        ),  # fmt: skip
        click.option(
            "-l", "--lock-file", default=None, metavar="FILE", help="Lock file (default wippy.lock)."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _fail(problems: list[Problem] | list[str], code: int = EXIT_USAGE) -> NoReturn:
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(code)


def _project_dir(word: str | None) -> Path | None:
    """A word names a project directory only if it is a directory holding wippy.lock or src/."""
    if word is None:
        return None
    path = Path(word)
    if path.is_dir() and ((path / "wippy.lock").is_file() or (path / "src").is_dir()):
        return path
    return None


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


def _setup_logs(flags: dict[str, Any], config: Config | None, silent: bool) -> str:
    min_level = config.get("logmanager.min_level") if config else None
    level = level_from(flags.get("log_level"), flags.get("verbose", False), min_level)
    encoding = str(config.get("logger.encoding", "console")) if config else "console"
    configure(level, encoding, colour=flags.get("console", False), silent=silent)
    return {10: "debug", 20: "info", 30: "warn", 40: "error"}.get(level, "info")


# ----------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@global_flags
@click.version_option(__version__, prog_name="wippy")
@click.pass_context
def main(ctx: click.Context, **flags: Any) -> None:
    """Run Wippy applications: YAML entries and Lua processes as supervised actors.

    The project is the current directory (one with wippy.lock and src/).

    \b
    Example:
      wippy init hello && cd hello && wippy run -x app:hello
    """
    ctx.obj = _merge_flags(ctx, **flags)


@main.command(context_settings={"ignore_unknown_options": True})
@global_flags
@click.option(
    "-x", "--exec", "exec_id", metavar="NS:ENTRY", help="Run one process entry on the terminal host and exit."
)
@click.option("--host", metavar="NS:HOST", help="The terminal.host for -x (auto-detected when there is one).")
@click.option("--boot-plan", is_flag=True, help="Print the boot component levels and exit.")
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run(ctx: click.Context, exec_id: str | None, host: str | None, boot_plan: bool, words: tuple[str, ...],
        **flags: Any) -> None:  # fmt: skip
    """Boot the runtime and run the project until SIGINT/SIGTERM (a second signal forces exit).

    \b
    WORDS: [DIR] [COMMAND [ARGS...]]
      DIR      the first word names the project directory only if it is an
               existing directory containing wippy.lock or src/; otherwise the
               project is the current directory.
      COMMAND  a process entry registered with meta.command.name; ARGS are
               passed to its main (and io.args()). `wippy run list` lists them.
    With -x the runtime's console logs are silenced (unless -v is given) and the
    exit code is the value returned by the process's main.

    \b
    Examples:
      wippy run                       # run the services of ./ until Ctrl-C
      wippy run -x app:hello          # run one process and exit with its code
      wippy run greet Ada             # run the command `greet` with one argument
      wippy run -x app:hello examples/hello
      wippy run --boot-plan
    """
    merged = _merge_flags(ctx, **flags)
    if boot_plan:
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
        return
    rest = list(words)
    root = Path.cwd()
    if rest and (project_dir := _project_dir(rest[0])) is not None:
        root = project_dir
        rest = rest[1:]
    project, problems = _load(root, merged)
    if project is None:
        _fail(problems)
    silent = merged.get("silent", False) or (exec_id is not None and not merged.get("verbose", False))
    level_name = _setup_logs(merged, project.config, silent)
    log = get_logger("loader")
    for warning in project.warnings:
        log.warn(warning)
    options = RunOptions(
        exec_id=exec_id,
        command=rest[0] if rest else None,
        args=rest[1:],
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
