"""What `wippy run` hands to the runtime: the parsed command line, nothing else.

Shared by :mod:`wippy.cli` (which fills it) and :mod:`wippy.runtime` (which reads it),
so that neither imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunOptions:
    exec_id: str | None = None  # -x ns:entry: run one process on the terminal host and exit
    command: str | None = None  # first word after the project: a meta.command.name (spec §0 C2)
    args: list[str] = field(default_factory=list)  # words after the command, passed to main
    host: str | None = None  # --host: the terminal.host for -x / commands
    verbose: bool = False
    silent: bool = False  # no console logs (implied by -x unless -v is given)
    console: bool = False  # colour console logs
    log_level: str | None = None  # effective level name: debug/info/warn/error
    overrides: list[str] = field(default_factory=list)  # -o ns:entry:path=value (already applied)
    sets: list[str] = field(default_factory=list)  # --set section.path=value (already applied)
    config_files: list[str] = field(default_factory=list)  # --config FILE (already applied)
