"""The scheduler of one process host: worker threads moving runnable shards.

Design: processes never migrate (a process is a coroutine inside one Lua state), so the
unit of scheduling is the shard. Each worker thread owns a deque of runnable shards
(LIFO for the owner, stolen from the other end), and there is one global FIFO queue
for shards woken from outside (messages, completions, timers). An idle worker looks in
its own deque, then the global queue, then steals half of a random victim's deque,
then parks on a condition variable. A shard runs a bounded batch before it is
re-queued, so one busy shard cannot starve the others. lupa releases the GIL while
Lua runs, so two workers run Lua on two cores at once.

A worker that wakes another shard in the middle of a batch (a message to a process
there) does not wake an idle worker at once: when the batch ends it usually takes that
shard itself, and waking the other thread costs more than the hand-over (a futex wake
of a sleeping core, then the two threads trading the GIL: a crossing of the ring took
about 20 us with the wake, 9 us without). The wake is owed instead, and paid when the
batch turns out to have more to run first (the prelude checks after each task) or when
the worker, at the end of the batch, has more runnable shards than it can take.

For the same reason a worker that has just run a batch looks for work again for up to
LINGER (100 us, yielding the GIL in between) before it parks: when two shards hand work
back and forth (a parent spawning long-lived children that placement puts on the other
shard, each reporting back), the other side usually has the next piece ready within
that time, and parking and being woken again each time cost more than the wait. 20,000
such children on the two-shard host: 22 us -> 17.7 us per spawn, and 0.54 -> 0.44 s of
CPU (three runs each, alternating). A worker woken by its periodic check or by
shutdown parks at once.

XX: completions could be pushed to the inject queue of the worker that last ran the
shard (affinity, as the reference does); with a handful of workers the global queue
has not shown up in profiles yet.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from wippy.lua.engine.shard import HostLimits, Shard

if TYPE_CHECKING:
    from wippy.node import Node

BATCH = 512
LINGER = 0.0001  # seconds a worker that just ran a batch looks for more before parking

_this_thread = threading.local()  # .worker: the Worker running on this thread, if any


class Worker:
    def __init__(self, scheduler: Scheduler, index: int) -> None:
        self.scheduler = scheduler
        self.index = index
        self.local: deque[Shard] = deque()
        self.running: Shard | None = None  # the shard whose batch runs now
        self.owed = False  # a wake held back during that batch (Scheduler.submit)
        self.thread = threading.Thread(target=self.loop, name=f"{scheduler.name}#w{index}", daemon=True)
        self.executed = 0
        self.stolen = 0

    def find(self) -> Shard | None:
        try:
            return self.local.pop()
        except IndexError:
            pass
        sched = self.scheduler
        try:
            return sched.global_q.popleft()
        except IndexError:
            pass
        workers = sched.workers
        if len(workers) > 1:
            start = random.randrange(len(workers))
            for i in range(len(workers)):
                victim = workers[(start + i) % len(workers)]
                if victim is self:
                    continue
                n = len(victim.local) // 2
                got = None
                for _ in range(max(n, 1)):
                    try:
                        shard = victim.local.popleft()
                    except IndexError:
                        break
                    if got is None:
                        got = shard
                    else:
                        self.local.append(shard)
                    self.stolen += 1
                if got is not None:
                    return got
        return None

    def loop(self) -> None:
        _this_thread.worker = self
        sched = self.scheduler
        cond = sched.cond
        lingering = False  # True right after a batch: look again before parking
        while not sched.stopped:
            shard = self.find()
            if shard is None and lingering:
                lingering = False
                deadline = time.perf_counter() + LINGER
                while shard is None and not sched.stopped and time.perf_counter() < deadline:
                    time.sleep(0)  # (lets the thread that holds the GIL hand over work)
                    shard = self.find()
            if shard is None:
                with cond:
                    sched.idle += 1
                    if not sched.global_q and not sched.stopped:
                        cond.wait(0.5)
                    sched.idle -= 1
                continue
            shard.last_worker = self.index
            self.executed += 1
            self.running = shard
            try:
                again = shard.run_batch(BATCH)
            except Exception as exc:  # a bug in the prelude must not kill the worker
                sched.node.log.error("shard batch failed", host=sched.name, error=repr(exc))
                again = False
            self.running = None
            self.owed = False
            lingering = True
            if again:
                self.local.append(shard)
            # this worker takes one of the runnable shards next; an idle one takes another
            if len(self.local) + len(sched.global_q) > 1:
                sched.wake_idle()


class Scheduler:
    """Workers and shards of one process host."""

    def __init__(self, node: Node, name: str, workers: int | None = None, shards: int | None = None,
                 terminal: bool = False, limits: HostLimits | None = None) -> None:
        self.node = node
        self.name = name
        self.limits = limits or HostLimits()
        self.terminal = terminal
        nworkers = max(1, workers or os.cpu_count() or 1)
        nshards = max(1, shards or nworkers)
        self.global_q: deque[Shard] = deque()
        self.cond = threading.Condition()
        self.idle = 0
        self.stopped = False
        self.workers = [Worker(self, i) for i in range(nworkers)]
        self.shards = [Shard(self, i) for i in range(nshards)]
        self._fill = 0

    def start(self) -> None:
        for w in self.workers:
            w.thread.start()

    def stop(self) -> None:
        self.stopped = True
        with self.cond:
            self.cond.notify_all()

    def join(self, deadline: float) -> None:
        """Wait until the stopped workers have left their loop (at most until ``deadline``,
        a time.monotonic() value): a worker still inside Lua while the interpreter shuts
        down and frees the Lua states would crash the process."""
        for worker in self.workers:
            thread = worker.thread
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    def submit(self, shard: Shard) -> None:
        self.global_q.append(shard)
        if self.idle:
            worker = getattr(_this_thread, "worker", None)
            if worker is not None and worker.scheduler is self and worker.running is not None:
                if not worker.owed:  # (see the module docstring)
                    worker.owed = True
                    worker.running.owe_wake()
                return
            self.wake_idle()

    def pay_owed_wake(self) -> None:
        """The batch that held back a wake has more to run first: wake an idle worker."""
        worker = getattr(_this_thread, "worker", None)
        if worker is not None and worker.owed:
            worker.owed = False
            self.wake_idle()

    def wake_idle(self) -> None:
        """Wake one parked worker, if any."""
        if self.idle:
            with self.cond:
                self.cond.notify()

    def place(self, spawner: Shard | None) -> Shard:
        """Choose a shard for a new process (`host.placement`: "local" or "spread").

        local (default): a spawner keeps filling one target shard, at first its own, so
        parent/child and neighbour traffic stays inside one Lua state; when the target
        holds more than its fair share (+25 %, at least 4 more) the least-loaded shard
        becomes the new target and is filled in turn. A burst of spawns therefore lands
        in long runs per shard (a ring built by one coordinator crosses shards only a
        few times) and still spreads over every shard. Spawns from outside the host use
        one shared target the same way, without the slack of 4, so two processes
        spawned from outside land on two shards.

        A spawner that moved on comes back to its own shard as soon as that shard holds
        fewer processes than when it left: its children have been ending, so they were a
        burst of short-lived ones, not a crowd that needs spreading (the prelude does not
        even count most of those: see REG.share).

        spread: every new process goes to the least-loaded shard, so a few CPU-bound
        children of one parent run on different workers.
        """
        shards = self.shards
        if len(shards) == 1:
            return shards[0]
        if self.limits.placement == "spread":
            return min(shards, key=lambda s: s.processes)
        local = spawner is not None and spawner.scheduler is self
        cap = self._cap(local)
        target = self._fill_target(spawner) if local else shards[self._fill]
        if target.processes > cap:
            target = min(shards, key=lambda s: s.processes)
        if local:
            if target is not spawner and spawner.fill_target in (None, spawner):
                spawner.left_with = spawner.processes
            spawner.fill_target = target
        else:
            self._fill = target.index
        return target

    @staticmethod
    def _fill_target(spawner: Shard) -> Shard:
        """Where a spawner on this host fills now: its fill target, or its own shard again
        once that holds fewer processes than when the spawner moved on."""
        target = spawner.fill_target or spawner
        if target is not spawner and spawner.processes < spawner.left_with:
            spawner.fill_target = target = spawner
        return target

    def local_room(self, shard: Shard) -> int:
        """How many more processes a spawner on ``shard`` may place on it before `place`
        has to choose again: the shard spawns that many on its own host without a call
        into Python (it registers them in batches)."""
        shards = self.shards
        if len(shards) == 1:
            return 1 << 40
        if self.limits.placement == "spread" or self._fill_target(shard) is not shard:
            return 0
        cap = self._cap(True)
        if shard.processes > cap:
            return 0
        return int(cap - shard.processes) + 1

    def _cap(self, local: bool) -> float:
        """The most processes a fill target may hold before `place` moves on: its share
        plus 25 %. A local spawner may run 4 further ahead (its children stay with it);
        spawns from outside move on as soon as a shard is above its share."""
        shards = self.shards
        return sum(s.processes for s in shards) / len(shards) * 1.25 + (4 if local else 0)

    def stats(self) -> dict:
        return {
            "id": self.name,
            "workers": len(self.workers),
            "processes": sum(s.processes for s in self.shards),
            "executed": sum(w.executed for w in self.workers),
            "stolen": sum(w.stolen for w in self.workers),
            "queue_depth": len(self.global_q),
        }
