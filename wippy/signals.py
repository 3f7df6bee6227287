"""SIGINT/SIGTERM: the first asks for a graceful shutdown, the second exits at once.

The runtime starts :meth:`ShutdownSignals.watch` in its nursery and awaits
``signals.requested`` (a ``trio.Event``); the supervisor then stops services in reverse
order within ``shutdown.timeout``. A second signal means the user has given up waiting:
print ``forced exit`` and leave immediately with the shell's code for the signal
(130 for SIGINT, 143 for SIGTERM), without running any more cleanup.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import trio

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class ShutdownSignals:
    def __init__(self, exit: Callable[[int], Any] = os._exit) -> None:
        self.requested = trio.Event()
        self.signum: int | None = None  # the signal that asked for the shutdown
        self._exit = exit

    @property
    def exit_code(self) -> int | None:
        """The conventional exit code for the signal received (130/143), if any."""
        return EXIT_CODES.get(self.signum) if self.signum is not None else None  # type: ignore[call-overload]

    async def watch(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Receive signals until cancelled; use with ``await nursery.start(signals.watch)``."""
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as receiver:
            task_status.started()
            async for signum in receiver:
                if not self.requested.is_set():
                    self.signum = signum
                    self.requested.set()
                else:
                    self.force_exit(signum)

    def force_exit(self, signum: int) -> NoReturn:
        try:
            sys.stdout.flush()  # what the app printed so far still reaches the user
        except (OSError, ValueError):
            pass
        print("forced exit", file=sys.stderr, flush=True)
        self._exit(EXIT_CODES.get(signal.Signals(signum), 1))
        raise SystemExit(EXIT_CODES.get(signal.Signals(signum), 1))  # only reached with a test exit
