"""Shutdown signals and structured log lines."""

from __future__ import annotations

import io
import json
import logging
import os
import signal

import pytest
import trio

from wippy.logs import configure, get_logger, level_from
from wippy.signals import ShutdownSignals


@pytest.fixture(autouse=True)
def restore_wippy_logger():
    """Leave the `wippy` logger as other tests expect it: no handler of ours."""
    yield
    root = logging.getLogger("wippy")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.propagate = True
    root.setLevel(logging.NOTSET)


class Exited(Exception):
    pass


async def test_first_signal_requests_shutdown_second_forces_exit(capsys: pytest.CaptureFixture[str]) -> None:
    codes: list[int] = []

    def fake_exit(code: int) -> None:
        codes.append(code)
        raise Exited

    signals = ShutdownSignals(exit=fake_exit)
    with pytest.raises(Exited):  # the watcher's Exited escapes the nursery (possibly in a group)
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(signals.watch)
                os.kill(os.getpid(), signal.SIGTERM)
                with trio.fail_after(5):
                    await signals.requested.wait()
                assert signals.exit_code == 143
                os.kill(os.getpid(), signal.SIGINT)
                await trio.sleep_forever()
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from None
    assert codes == [130]
    assert capsys.readouterr().err.strip() == "forced exit"


def capture(**kwargs) -> io.StringIO:
    stream = io.StringIO()
    configure(stream=stream, **kwargs)
    return stream


def test_console_line_has_time_level_component_message_fields() -> None:
    stream = capture(level=logging.INFO)
    log = get_logger("supervisor")
    log.debug("hidden")
    log.info("service started", service="app:ledger", attempt=2)
    [line] = stream.getvalue().splitlines()
    stamp, rest = line.split(" ", 1)
    assert stamp.endswith("Z") and "T" in stamp
    assert rest.split() == ["INFO", "supervisor", "service", "started", "service=app:ledger", "attempt=2"]


def test_json_encoding_is_one_object_per_line() -> None:
    stream = capture(level=logging.DEBUG, encoding="json")
    get_logger("registry").debug("applied", version=3)
    get_logger("registry").warn("slow")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["level"], first["logger"], first["msg"], first["version"]) == (
        "debug",
        "registry",
        "applied",
        3,
    )
    assert second["level"] == "warn"


def test_silent_prints_nothing() -> None:
    stream = capture(silent=True)
    get_logger("x").error("nope")
    assert stream.getvalue() == ""


def test_level_from_flags_and_config() -> None:
    assert level_from("warn") == logging.WARNING
    assert level_from(None, verbose=True) == logging.DEBUG
    assert level_from(None, min_level=2) == logging.ERROR
    assert level_from(None, min_level=-1) == logging.INFO
    with pytest.raises(ValueError):
        level_from("loud")
