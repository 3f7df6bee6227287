"""Where new processes go (Scheduler.place): together for a spawner, spread from outside."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from wippy.lua.engine.scheduler import Scheduler
from wippy.lua.engine.shard import HostLimits
from wippy.node import Node

from .inprocess import host_node


class FakeShard:
    def __init__(self, scheduler: Scheduler, index: int) -> None:
        self.scheduler, self.index, self.processes, self.fill_target = scheduler, index, 0, None
        self.left_with = 0


def scheduler(shards: int, placement: str = "local") -> Scheduler:
    sched = Scheduler.__new__(Scheduler)  # placement only: no threads, no Lua states
    sched.limits = HostLimits(placement=placement)
    sched._fill = 0
    sched.shards = [FakeShard(sched, i) for i in range(shards)]
    return sched


def spawn(sched: Scheduler, spawner: FakeShard | None) -> int:
    target = sched.place(spawner)
    target.processes += 1
    return target.index


def test_a_coordinators_ring_stays_mostly_inside_shards() -> None:
    sched = scheduler(2)
    coordinator = sched.shards[0]
    coordinator.processes = 1
    placed = [spawn(sched, coordinator) for _ in range(1000)]
    crossings = sum(1 for a, b in zip(placed, placed[1:] + placed[:1], strict=True) if a != b)
    assert crossings <= 10
    counts = [s.processes for s in sched.shards]
    assert min(counts) >= 300  # and still spread over both shards


def test_a_child_stays_with_its_parent() -> None:
    sched = scheduler(2)
    parent = sched.shards[1]
    parent.processes = 1
    assert spawn(sched, parent) == 1


def test_two_spawns_from_outside_the_host_land_on_two_shards() -> None:
    sched = scheduler(2)
    assert {spawn(sched, None), spawn(sched, None)} == {0, 1}


def test_spread_puts_each_child_on_the_least_loaded_shard() -> None:
    sched = scheduler(2, "spread")
    parent = sched.shards[0]
    parent.processes = 1
    assert [spawn(sched, parent), spawn(sched, parent)] == [1, 0]


def test_local_room_is_a_count_place_keeps_on_the_spawner() -> None:
    # a shard spawns `local_room` processes on itself without asking place(): place
    # would have kept every one of them there
    for start in (1, 3, 10, 37, 200):
        sched = scheduler(2)
        me, other = sched.shards
        me.processes, other.processes = start, start
        room = sched.local_room(me)
        assert room > 0
        assert [spawn(sched, me) for _ in range(room)] == [0] * room


def test_no_local_room_when_placement_fills_another_shard() -> None:
    sched = scheduler(2)
    me, other = sched.shards
    me.processes = 50
    assert sched.local_room(me) == 0  # above its share: place would move on
    assert spawn(sched, me) == 1
    assert sched.local_room(me) == 0  # its fill target is the other shard now
    assert scheduler(2, "spread").local_room(scheduler(2).shards[0]) == 0


def test_a_single_shard_host_has_room_for_any_number() -> None:
    sched = scheduler(1)
    assert sched.local_room(sched.shards[0]) >= 1 << 30


# ---------------------------------------------------------------- on a running host

COORDINATOR = """
local function main(mode, windows, size)
    local inbox = process.inbox()
    local me = process.pid()
    for _ = 1, windows do
        for _ = 1, size do process.spawn("t:child", "t:pool", mode, me) end
        for _ = 1, size do inbox:receive() end
    end
    return 0
end
return { main = main }
"""

CHILD = """
local function main(mode, parent)
    process.send(parent, "up", 1)
    if mode == "stay" then process.inbox():receive() end
    return 0
end
return { main = main }
"""


@pytest.fixture
def pool_host() -> Iterator[tuple[Node, Scheduler, list]]:
    """A node with a real two-shard host; `placed` records each (spawner, target) that
    went through Scheduler.place (spawns a shard kept without asking never show)."""
    node, sched = host_node("t:pool", {"t:coordinator": COORDINATOR, "t:child": CHILD}, workers=2, shards=2)
    placed: list = []
    place = sched.place

    def recording(spawner):
        target = place(spawner)
        placed.append((spawner, target))
        return target

    sched.place = recording  # type: ignore[method-assign]
    sched.start()
    yield node, sched, placed
    node.stop()


def run_coordinator(node: Node, *args: object) -> None:
    done = threading.Event()
    node.spawn("t:coordinator", "t:pool", list(args), watcher=lambda result: done.set())
    assert done.wait(30)


def test_bursts_of_short_lived_children_stay_with_their_spawner(pool_host) -> None:
    # ten windows of 200 children that reply and end: the first burst may spread (nothing
    # is known about the children yet), the later ones stay on the coordinator's shard
    node, sched, placed = pool_host
    run_coordinator(node, "exit", 10, 200)
    elsewhere = [target for spawner, target in placed if spawner is not None and target is not spawner]
    assert len(elsewhere) <= 200


def test_long_lived_children_of_a_burst_still_spread(pool_host) -> None:
    node, sched, placed = pool_host
    run_coordinator(node, "stay", 4, 100)
    deadline = time.monotonic() + 10
    while True:  # children are registered with the node when their shard goes idle
        with node.lock:
            children = [info.shard for info in node.procs.values() if info.entry == "t:child"]
        if len(children) == 400 or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert len(children) == 400
    assert min(children.count(shard) for shard in sched.shards) >= 100
