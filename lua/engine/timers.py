"""One thread that wakes shards when their next Lua timer is due.

Timers themselves live inside each shard (a heap in the prelude); Python only learns
"wake shard S at time T" after each batch. A stale wake-up is harmless: the shard runs
a batch that finds nothing due and goes back to sleep.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Any


class TimerThread:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Any]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="wippy-timers", daemon=True)
        self._thread.start()

    def wake_at(self, deadline: float, shard: Any) -> None:
        with self._cond:
            first = not self._heap or deadline < self._heap[0][0]
            heapq.heappush(self._heap, (deadline, next(self._seq), shard))
            if first:
                self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _loop(self) -> None:
        cond = self._cond
        heap = self._heap
        while True:
            due = []
            with cond:
                if self._stopped:
                    return
                now = time.monotonic()
                while heap and heap[0][0] <= now:
                    due.append(heapq.heappop(heap)[2])
                if not due:
                    cond.wait(heap[0][0] - now if heap else None)
                    continue
            for shard in due:
                if shard.next_deadline is not None and shard.next_deadline <= time.monotonic() + 0.0005:
                    shard.next_deadline = None
                shard.wake()
