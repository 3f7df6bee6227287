"""Structured runtime logs on stderr: time, level, component, message, key=value fields.

Every part of the runtime logs through :func:`get_logger` (``get_logger("supervisor")``)
and passes fields as keywords: ``log.info("service started", service="app:ledger")``.
:func:`configure` decides once, at startup, the minimum level and the encoding: the
console form (``2026-11-22T20:46:34.123Z INFO  supervisor  service started
service=app:ledger``) or ``logger.encoding: json`` (one JSON object per line).
Under ``-s`` or ``-x`` nothing is printed.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

ROOT = "wippy"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
          "warning": logging.WARNING, "error": logging.ERROR}  # fmt: skip
#: ``logmanager.min_level`` values of the reference (-1 debug ... 2 error).
MIN_LEVELS = {-1: logging.DEBUG, 0: logging.INFO, 1: logging.WARNING, 2: logging.ERROR}
_NAMES = {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN", logging.ERROR: "ERROR",
          logging.CRITICAL: "ERROR"}  # fmt: skip
_COLOURS = {"DEBUG": "\x1b[90m", "INFO": "\x1b[36m", "WARN": "\x1b[33m", "ERROR": "\x1b[31m"}


def _timestamp(record: logging.LogRecord) -> str:
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{base}.{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return getattr(record, "wippy_fields", None) or {}


def _component(record: logging.LogRecord) -> str:
    name = record.name
    return name[len(ROOT) + 1 :] if name.startswith(ROOT + ".") else name


class ConsoleFormatter(logging.Formatter):
    def __init__(self, colour: bool = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        level = _NAMES.get(record.levelno, record.levelname)
        shown = f"{level:<5}"
        if self.colour:
            shown = f"{_COLOURS.get(level, '')}{shown}\x1b[0m"
        parts = [_timestamp(record), shown, _component(record), record.getMessage()]
        parts += [f"{key}={_text(value)}" for key, value in _fields(record).items()]
        line = "  ".join(parts[:4]) + ("  " + " ".join(parts[4:]) if len(parts) > 4 else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": _NAMES.get(record.levelno, record.levelname).lower(),
            "logger": _component(record),
            "msg": record.getMessage(),
        }
        for key, value in _fields(record).items():
            obj.setdefault(key, value)
        if record.exc_info:
            obj["error"] = self.formatException(record.exc_info)
        return json.dumps(obj, default=str, ensure_ascii=False)


def _text(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (" " in text or not text) else text


class Logger:
    """A component's logger: ``log.info("message", key=value, ...)``."""

    def __init__(self, component: str) -> None:
        self._logger = logging.getLogger(f"{ROOT}.{component}")

    def _log(self, level: int, message: str, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            exc_info = fields.pop("exc_info", None)
            self._logger.log(level, message, extra={"wippy_fields": fields}, exc_info=exc_info)

    def debug(self, message: str, **fields: Any) -> None:
        self._log(logging.DEBUG, message, fields)

    def info(self, message: str, **fields: Any) -> None:
        self._log(logging.INFO, message, fields)

    def warn(self, message: str, **fields: Any) -> None:
        self._log(logging.WARNING, message, fields)

    warning = warn

    def error(self, message: str, **fields: Any) -> None:
        self._log(logging.ERROR, message, fields)

    def enabled(self, level: str) -> bool:
        return self._logger.isEnabledFor(LEVELS[level])


def get_logger(component: str) -> Logger:
    return Logger(component)


def level_from(log_level: str | None = None, verbose: bool = False, min_level: int | None = None) -> int:
    """The effective level: ``--log-level``, else ``-v`` (debug), else config, else info.

    The config's ``logmanager.min_level`` counts only when it asks for more than info
    is filtered (0..2); its default (-1, debug) would flood the console, so debug output
    needs ``-v`` or ``--log-level debug``.
    """
    if log_level:
        try:
            return LEVELS[log_level.lower()]
        except KeyError:
            raise ValueError(f"unknown log level {log_level!r} (debug, info, warn, error)") from None
    if verbose:
        return logging.DEBUG
    if isinstance(min_level, int) and min_level >= 0:
        return MIN_LEVELS.get(min_level, logging.ERROR)
    return logging.INFO


def configure(level: int = logging.INFO, encoding: str = "console", colour: bool = False,
              silent: bool = False, stream: TextIO | None = None) -> None:  # fmt: skip
    """Install the one handler of the ``wippy`` logger tree (replacing a previous one)."""
    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.propagate = False
    if silent:
        root.addHandler(logging.NullHandler())
        root.setLevel(logging.CRITICAL + 1)
        return
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if encoding == "json" else ConsoleFormatter(colour))
    root.addHandler(handler)
    root.setLevel(level)
