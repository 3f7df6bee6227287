"""Where new processes go (Scheduler.place): together for a spawner, spread from outside."""

from __future__ import annotations

from wippy.lua.engine.scheduler import Scheduler
from wippy.lua.engine.shard import HostLimits


class FakeShard:
    def __init__(self, scheduler: Scheduler, index: int) -> None:
        self.scheduler, self.index, self.processes, self.fill_target = scheduler, index, 0, None


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
