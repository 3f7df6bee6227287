"""Stopping the node: no worker may still run Lua once the interpreter shuts down."""

from __future__ import annotations

import threading
import time

from wippy.lua.engine.scheduler import Scheduler
from wippy.node import Node


class SlowShard:
    """Stands for a shard in the middle of a batch."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.last_worker = -1

    def run_batch(self, budget: int) -> bool:
        self.started.set()
        time.sleep(0.2)
        return False


def test_stopping_the_node_waits_for_a_batch_in_progress() -> None:
    node = Node()
    sched = Scheduler(node, "t:h", workers=1, shards=1)
    node.hosts["t:h"] = sched
    sched.start()
    shard = SlowShard()
    sched.submit(shard)  # type: ignore[arg-type]
    assert shard.started.wait(5)
    node.stop()
    assert not sched.workers[0].thread.is_alive()
