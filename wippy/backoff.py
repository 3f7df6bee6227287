"""Restart backoff: how long a supervisor waits before starting a failed service again.

This is the ``lifecycle.restart`` block of a service entry (spec §2.2)::

    restart: {initial_delay: 1s, max_delay: 90s, backoff_factor: 2.0, jitter: 0.1, max_attempts: 0}

The delay before retry ``n`` (``n`` = failed starts so far, counting from 1) is::

    min(initial_delay * backoff_factor ** (n - 1), max_delay) * (1 + uniform(-jitter, +jitter))

so the defaults give 1 s, 2 s, 4 s, ... up to 90 s, each within +-10 %.

A deliberate difference from the reference (spec C13): the Go supervisor builds a fresh
backoff calculator for every retry and only ever takes its first interval, so its delay is
always ``initial_delay +- jitter`` and ``backoff_factor``/``max_delay`` have no effect. We
implement the documented exponential policy instead; no conformance case pins the delays.
The reference also turns ``jitter: 0`` into 0.1; here ``jitter: 0`` means no jitter, which
is what a user who writes it expects (and what makes delays testable). We keep its other
zero-value rule: ``backoff_factor: 0`` (or absent) means the default 2.0, because Go
config structs cannot tell "absent" from zero and users copy such files around.

``max_attempts`` counts *total starts*, not retries: with ``max_attempts: 3`` a service
that always fails is started three times and then left failed. 0 means unlimited.

This module is pure arithmetic (no trio), so the policy can be tested and reused by other
retry loops (e.g. the function retry interceptor) without a supervisor.
"""

from __future__ import annotations

import random as _random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wippy.durations import DurationError, to_seconds

__all__ = ["RestartPolicy"]


@dataclass(frozen=True)
class RestartPolicy:
    """The ``lifecycle.restart`` block; durations are float seconds."""

    initial_delay: float = 1.0
    max_delay: float = 90.0
    backoff_factor: float = 2.0
    jitter: float = 0.1
    max_attempts: int = 0

    def __post_init__(self) -> None:
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("restart delays must not be negative")
        if self.backoff_factor < 0:
            raise ValueError("restart.backoff_factor must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("restart.jitter must be between 0 and 1")
        if self.max_attempts < 0:
            raise ValueError("restart.max_attempts must not be negative")

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any] | None, *, where: str = "lifecycle.restart"
    ) -> RestartPolicy:
        """Build from the YAML mapping; absent or zero fields take the defaults (Go zero values).

        Numbers for the delays are seconds. Errors name the field: ``lifecycle.restart.jitter: ...``.
        """
        if config is None:
            return cls()
        if not isinstance(config, Mapping):
            raise ValueError(f"{where}: expected a mapping, got {type(config).__name__}")
        defaults = cls()

        def seconds(key: str, default: float) -> float:
            raw = config.get(key)
            try:
                value = to_seconds(raw, default=default)
            except DurationError as e:
                raise ValueError(f"{where}.{key}: {e}") from None
            return value or default

        def number(key: str, default: float) -> float:
            raw = config.get(key)
            if raw is None:
                return default
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError(f"{where}.{key}: expected a number, got {raw!r}")
            return float(raw)

        max_attempts = config.get("max_attempts", 0)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
            raise ValueError(f"{where}.max_attempts: expected an integer, got {max_attempts!r}")
        try:
            return cls(
                initial_delay=seconds("initial_delay", defaults.initial_delay),
                max_delay=seconds("max_delay", defaults.max_delay),
                backoff_factor=number("backoff_factor", defaults.backoff_factor) or defaults.backoff_factor,
                jitter=number("jitter", defaults.jitter),
                max_attempts=max_attempts,
            )
        except ValueError as e:
            if str(e).startswith(where):
                raise
            raise ValueError(f"{where}: {e}") from None

    def may_retry(self, failures: int) -> bool:
        """After ``failures`` failed starts in a row, is another start allowed?"""
        return self.max_attempts == 0 or failures < self.max_attempts

    def base_delay(self, failures: int) -> float:
        """The delay before the next start after ``failures`` (>= 1) failures, without jitter."""
        n = max(failures, 1)
        try:
            delay = self.initial_delay * self.backoff_factor ** (n - 1)
        except OverflowError:
            delay = self.max_delay
        return min(delay, self.max_delay)

    def delay(self, failures: int, rng: _random.Random | None = None) -> float:
        """The jittered delay before the next start after ``failures`` (>= 1) failures."""
        base = self.base_delay(failures)
        if not self.jitter:
            return base
        r = (rng or _random).uniform(-self.jitter, self.jitter)
        return max(0.0, base * (1.0 + r))
