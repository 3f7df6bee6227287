"""Atomic apply through listeners, deferral, versions, history, apply_version, boot restore."""

from __future__ import annotations

import pytest
import trio
from helpers_registry import E, Participant, Recorder

from wippy.registry import ChangeSet, Op, OpKind, Registry, RegistryError, compile_kind_pattern


async def booted(*entries) -> Registry:
    reg = Registry()
    await reg.load_state(list(entries) or [E("t:base", meta={"k": "v"}, v=1)])
    return reg


async def test_boot_without_history_is_v0_and_first_apply_is_v1() -> None:
    reg = await booted()
    assert str(reg.current_version()) == "v0"
    v = await reg.apply(ChangeSet().create(E("t:new")))
    assert (v.id, v.string(), v.parent) == (1, "v1", 0)
    assert reg.current_version() == v
    assert reg.get("t:new") is not None


async def test_empty_changeset_is_invalid() -> None:
    reg = await booted()
    with pytest.raises(RegistryError) as info:
        await reg.apply(ChangeSet())
    assert (info.value.kind, info.value.message) == ("Invalid", "no changes to apply")


async def test_update_replaces_whole_entry_and_delete_removes() -> None:
    reg = await booted(E("t:m", meta={"stage": "initial"}, value="before", legacy="x"), E("t:d"))
    await reg.apply(ChangeSet().update(E("t:m", meta={"stage": "updated"}, value="after")))
    m = reg.get("t:m")
    assert m.data == {"value": "after"} and m.meta == {"stage": "updated"}
    assert reg.find({"meta.stage": "initial"}) == []
    await reg.apply(ChangeSet().delete("t:d"))
    assert reg.get("t:d") is None
    with pytest.raises(RegistryError) as info:
        reg.lookup("t:d")
    assert (info.value.kind, info.value.message) == ("NotFound", "entry not found: t:d")


async def test_failed_apply_rolls_back_completely() -> None:
    reg = await booted(E("t:keep", meta={"state": "original"}, value="original"), E("t:taken", value="yaml"))
    base = reg.current_version()
    cs = ChangeSet()
    cs.create(E("t:fresh")).update(E("t:keep", meta={"state": "changed"}, value="changed"))
    cs.create(E("t:taken", value="dup"))
    with pytest.raises(RegistryError) as info:
        await reg.apply(cs)
    assert info.value.kind == "Internal" and "t:taken" in info.value.message
    assert reg.get("t:fresh") is None
    assert reg.get("t:keep").data == {"value": "original"}
    assert reg.get("t:taken").data == {"value": "yaml"}
    assert reg.current_version() == base
    v = await reg.apply(ChangeSet().create(E("t:after")))
    assert v.id == base.id + 1


async def test_rejecting_listener_rolls_back_with_inverse_ops() -> None:
    reg = await booted(E("t:old", "svc.thing", v=1), E("t:gone", "svc.thing"))
    log: list[tuple[str, ...]] = []
    a = Recorder("a", log)
    b = Recorder("b", log)
    reg.register_listener("svc.*", a)
    reg.register_listener("svc.thing", b)
    b.reject.add("t:bad")
    before = reg.snapshot()
    cs = ChangeSet()
    cs.create(E("t:new", "svc.thing")).update(E("t:old", "svc.thing", v=2)).delete("t:gone")
    cs.create(E("t:bad", "svc.thing"))
    with pytest.raises(RegistryError) as info:
        await reg.apply(cs)
    assert info.value.kind == "Internal"
    assert "t:bad" in info.value.message and "b refuses t:bad" in info.value.message
    # deletes first, then creates/updates in order; 'a' took t:bad then got its inverse; then undo all
    assert log == [
        ("a", "delete", "t:gone"),
        ("b", "delete", "t:gone"),
        ("a", "add", "t:new"),
        ("b", "add", "t:new"),
        ("a", "update", "t:old"),
        ("b", "update", "t:old"),
        ("a", "add", "t:bad"),
        ("a", "delete", "t:bad"),
        ("b", "update", "t:old"),
        ("a", "update", "t:old"),
        ("b", "delete", "t:new"),
        ("a", "delete", "t:new"),
        ("b", "add", "t:gone"),
        ("a", "add", "t:gone"),
    ]
    assert a.live["t:old"].data == {"v": 1} and "t:new" not in a.live and "t:gone" in a.live
    assert reg.current_version() == before.version()
    assert [e.id for e in reg.entries()] == [e.id for e in before.entries()]


async def test_notfound_rejection_is_deferred_and_retried() -> None:
    reg = await booted()
    rec = Recorder()
    reg.register_listener("x.*", rec)
    rec.missing["t:user"] = "t:base2"  # t:user needs t:base2, no extractable dependency
    cs = ChangeSet().create(E("t:user", "x.a")).create(E("t:base2", "x.b"))
    v = await reg.apply(cs)
    assert v.id == 1
    assert rec.log == [("rec", "add", "t:base2"), ("rec", "add", "t:user")]


async def test_unresolved_dependencies_fail_and_roll_back() -> None:
    reg = await booted()
    rec = Recorder()
    reg.register_listener("x.*", rec)
    rec.missing["t:user"] = "t:nowhere"
    with pytest.raises(RegistryError) as info:
        await reg.apply(ChangeSet().create(E("t:ok", "x.a")).create(E("t:user", "x.a")))
    assert info.value.message.startswith("unresolved dependencies: t:user")
    assert rec.log == [("rec", "add", "t:ok"), ("rec", "delete", "t:ok")]
    assert reg.get("t:ok") is None and reg.current_version().id == 0


async def test_participants_begin_commit_discard() -> None:
    reg = await booted()
    p = Participant("p")
    reg.register_listener("x.a", p)
    await reg.apply(ChangeSet().create(E("t:1", "x.a")))
    assert p.log == [("p", "begin"), ("p", "add", "t:1"), ("p", "commit")]
    p.log.clear()
    p.reject.add("t:2")
    with pytest.raises(RegistryError):
        await reg.apply(ChangeSet().create(E("t:2", "x.a")))
    assert p.log == [("p", "begin"), ("p", "discard")]


async def test_internal_kinds_skip_listeners() -> None:
    reg = await booted()
    rec = Recorder()
    reg.register_listener("**", rec)
    await reg.apply(ChangeSet().create(E("t:r")).create(E("t:n", "ns.dependency")).create(E("t:p", "p.q")))
    assert rec.log == [("rec", "add", "t:p")]


async def test_on_commit_observers_see_committed_ops() -> None:
    reg = await booted()
    seen: list[tuple[str, list[str]]] = []
    reg.on_commit.append(lambda v, ops: seen.append((str(v), [f"{o.kind}:{o.id}" for o in ops])))

    async def failing(v, ops):
        raise RuntimeError("observers never reject")

    reg.on_commit.append(failing)
    await reg.apply(ChangeSet().create(E("t:a")))
    assert seen == [("v1", ["entry.create:t:a"])]


async def test_listener_timeout_rejects() -> None:
    reg = await booted()
    reg.event_wait_timeout = 0.05

    class Slow(Recorder):
        async def add(self, entry):
            await trio.sleep(10)

    reg.register_listener("x.a", Slow())
    with pytest.raises(RegistryError) as info:
        await reg.apply(ChangeSet().create(E("t:s", "x.a")))
    assert "timeout" in info.value.message and reg.get("t:s") is None


async def test_versions_history_and_navigation() -> None:
    reg = await booted()
    v0 = reg.current_version()
    v1 = await reg.apply(ChangeSet().create(E("t:one", n=1)))
    v2 = await reg.apply(ChangeSet().create(E("t:two")).update(E("t:one", n=10)).create(E("t:three")))
    assert (v1.id, v2.id) == (v0.id + 1, v0.id + 2)
    assert reg.previous(v2) == v1 and reg.next(v0) == v1 and reg.next(v2) is None
    assert [v.id for v in reg.versions()] == [0, 1, 2]
    h = reg.history()
    assert h.get_version(2) == v2
    for bad, kind, msg in ((-1, "Invalid", "invalid version ID"), (99, "NotFound", "version not found")):
        with pytest.raises(RegistryError) as info:
            h.get_version(bad)
        assert (info.value.kind, info.value.message) == (kind, msg)
    at1 = h.snapshot_at(v1)
    assert at1.version() == v1 and at1.get("t:one").data == {"n": 1} and at1.get("t:two") is None
    assert reg.snapshot_at(2).get("t:one").data == {"n": 10}
    for bad, kind, msg in ((0, "Invalid", "invalid version ID"), (1000, "NotFound", "version not found")):
        with pytest.raises(RegistryError) as info:
            reg.snapshot_at(bad)
        assert (info.value.kind, info.value.message) == (kind, msg)
    ops = reg.changeset_of(2)
    assert [(str(o.kind), o.id) for o in ops] == [
        ("entry.create", "t:two"),
        ("entry.update", "t:one"),
        ("entry.create", "t:three"),
    ]
    assert ops[1].original.data == {"n": 1}


async def test_apply_version_back_and_forward_through_listeners() -> None:
    reg = await booted(E("t:base", "x.a", v=0))
    rec = Recorder()
    reg.register_listener("x.*", rec)
    await reg.apply(ChangeSet().create(E("t:a", "x.a")))
    await reg.apply(ChangeSet().update(E("t:base", "x.a", v=1)).create(E("t:b", "x.a")))
    v3 = await reg.apply(ChangeSet().delete("t:a"))
    rec.log.clear()
    back = await reg.apply_version(1)
    assert reg.current_version() == back and back.id == 1
    assert sorted(e.id for e in reg.entries()) == ["t:a", "t:base"] and reg.get("t:base").data == {"v": 0}
    assert sorted(rec.log) == [("rec", "add", "t:a"), ("rec", "delete", "t:b"), ("rec", "update", "t:base")]
    assert reg.next(back).id == 2
    fwd = await reg.apply_version(3)
    assert fwd == v3 and sorted(e.id for e in reg.entries()) == ["t:b", "t:base"]
    # rolling back to the baseline, then branching: new id, parent = current
    await reg.apply_version(0)
    assert [e.id for e in reg.entries()] == ["t:base"] and reg.get("t:base").data == {"v": 0}
    branch = await reg.apply(ChangeSet().create(E("t:c", "x.a")))
    assert (branch.id, branch.parent) == (4, 0)
    at3 = reg.snapshot_at(3)
    assert sorted(e.id for e in at3.entries()) == ["t:b", "t:base"]


async def test_apply_version_rejected_leaves_state() -> None:
    reg = await booted()
    rec = Recorder()
    reg.register_listener("x.*", rec)
    await reg.apply(ChangeSet().create(E("t:a", "x.a")))
    rec.reject.add("t:a")
    with pytest.raises(RegistryError):
        await reg.apply_version(0)
    assert reg.current_version().id == 1 and reg.get("t:a") is not None


async def test_load_state_is_one_transition_in_dependency_order() -> None:
    reg = Registry()
    rec = Recorder()
    reg.register_listener("**", rec)
    v = await reg.load_state(
        [E("t:ep", "h.e", meta={"router": "t:r"}), E("t:r", "h.r"), E("t:s", "registry.entry")]
    )
    assert v.id == 0 and rec.log == [("rec", "add", "t:r"), ("rec", "add", "t:ep")]
    assert len(reg.entries()) == 3


def test_kind_patterns() -> None:
    m = compile_kind_pattern
    assert m("process.*")("process.lua") and not m("process.*")("process.lua.x")
    assert m("function.lua.**")("function.lua") and m("function.**")("function.lua.x")
    assert not m("function.**")("functions.lua") and m("process.lua")("process.lua")
    assert m("**")("anything.at.all")


async def test_apply_accepts_plain_op_lists() -> None:
    reg = await booted()
    v = await reg.apply([Op(OpKind.CREATE, E("t:z"))])
    assert v.id == 1 and reg.get("t:z") is not None


async def test_observers_see_committed_ops_only() -> None:
    reg = await booted()
    obs = Recorder("obs")
    reg.register_observer("x.*", obs)
    rec = Recorder()
    reg.register_listener("x.*", rec)
    await reg.apply(ChangeSet().create(E("t:a", "x.a")).create(E("t:r")))
    rec.reject.add("t:b")
    with pytest.raises(RegistryError):
        await reg.apply(ChangeSet().create(E("t:b", "x.a")))
    obs.reject.add("t:a")  # an observer error is logged, never rejects
    await reg.apply(ChangeSet().update(E("t:a", "x.a", v=2)))
    assert obs.log == [("obs", "add", "t:a")]
    assert reg.get("t:a").data == {"v": 2}


def test_private_kind_matcher() -> None:
    from wippy.registry.core import _compile_private as m

    assert m("process.*")("process.lua") and not m("process.*")("process.lua.x")
    assert m("function.lua.**")("function.lua") and m("a.**.b")("a.b") and m("a.**.b")("a.x.y.b")
    assert not m("function.**")("functions.lua") and m("**")("x.y") and m("proc*.lua")("process.lua")
