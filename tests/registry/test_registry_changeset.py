"""Squash rules, inversion, dependency ordering and build_delta."""

from __future__ import annotations

import pytest
from helpers_registry import E

from wippy.registry import (
    ChangeSet,
    Op,
    OpKind,
    RegistryError,
    build_delta,
    default_dependencies,
    invert,
    order_ops,
    squash,
)

C, U, D = OpKind.CREATE, OpKind.UPDATE, OpKind.DELETE


def kinds(ops: list[Op]) -> list[tuple[str, str]]:
    return [(str(op.kind), op.id) for op in ops]


def test_squash_create_update_is_create_of_new_value() -> None:
    out = squash([Op(C, E("a:x", v=1)), Op(U, E("a:x", v=2))])
    assert kinds(out) == [("entry.create", "a:x")]
    assert out[0].entry.data == {"v": 2}


def test_squash_create_delete_is_nothing() -> None:
    assert squash([Op(C, E("a:x")), Op(D, E("a:x"))]) == []


def test_squash_update_delete_is_delete_of_original() -> None:
    orig = E("a:x", v=0)
    out = squash([Op(U, E("a:x", v=1), orig), Op(D, E("a:x", v=1), E("a:x", v=1))])
    assert kinds(out) == [("entry.delete", "a:x")]
    assert out[0].original is orig


def test_squash_delete_create_is_update() -> None:
    orig = E("a:x", v=0)
    out = squash([Op(D, orig, orig), Op(C, E("a:x", v=5))])
    assert kinds(out) == [("entry.update", "a:x")]
    assert out[0].entry.data == {"v": 5} and out[0].original is orig


def test_squash_update_update_keeps_first_original_and_order() -> None:
    orig = E("a:x", v=0)
    out = squash([Op(U, E("a:x", v=1), orig), Op(C, E("a:y")), Op(U, E("a:x", v=2), E("a:x", v=1))])
    assert kinds(out) == [("entry.update", "a:x"), ("entry.create", "a:y")]
    assert out[0].original is orig and out[0].entry.data == {"v": 2}


def test_squash_create_delete_create_again() -> None:
    out = squash([Op(C, E("a:x", v=1)), Op(D, E("a:x")), Op(C, E("a:x", v=3))])
    assert kinds(out) == [("entry.create", "a:x")] and out[0].entry.data == {"v": 3}


@pytest.mark.parametrize(("a", "b"), [(C, C), (D, D), (D, U), (U, C)])
def test_squash_inconsistent_pairs_raise(a: OpKind, b: OpKind) -> None:
    with pytest.raises(RegistryError) as info:
        squash([Op(a, E("a:x"), E("a:x")), Op(b, E("a:x"), E("a:x"))])
    assert info.value.kind == "Internal" and "a:x" in info.value.message


def test_invert_reverses_and_swaps() -> None:
    old = E("a:u", v=0)
    ops = [Op(C, E("a:c")), Op(U, E("a:u", v=1), old), Op(D, E("a:d"), E("a:d"))]
    inv = invert(ops)
    assert kinds(inv) == [("entry.create", "a:d"), ("entry.update", "a:u"), ("entry.delete", "a:c")]
    assert inv[1].entry is old and inv[1].original.data == {"v": 1}


def test_default_dependencies_finds_qualified_ids_and_bare_refs() -> None:
    e = E(
        "app:svc",
        "process.service",
        meta={"server": "app:gateway", "comment": "see docs: here"},
        host="processes",
        source="file://x.lua",
        imports={"lib": "app:lib"},
        lifecycle={"depends_on": ["db"]},
    )
    assert default_dependencies(e) == {"app:gateway", "app:processes", "app:lib", "app:db"}


def test_order_ops_dependency_order_and_reverse_for_deletes() -> None:
    router = E("a:router", "http.router", meta={"server": "a:server"})
    server = E("a:server", "http.service")
    endpoint = E("a:ep", "http.endpoint", meta={"router": "a:router"})
    other = E("a:other")
    ops = [Op(C, endpoint), Op(C, other), Op(C, router), Op(C, server)]
    assert [op.id for op in order_ops(ops)] == ["a:other", "a:server", "a:router", "a:ep"]
    dels = [Op(D, e, e) for e in (server, other, router, endpoint)]
    assert [op.id for op in order_ops(dels)] == ["a:other", "a:ep", "a:router", "a:server"]


def test_order_ops_cycle_keeps_input_order() -> None:
    a = E("a:a", x="a:b")
    b = E("a:b", x="a:a")
    assert [op.id for op in order_ops([Op(C, a), Op(C, b)])] == ["a:a", "a:b"]


def test_build_delta_deletes_first_then_creates_updates_in_dependency_order() -> None:
    old = [E("a:keep", v=1), E("a:gone_dep"), E("a:gone", ref="a:gone_dep"), E("a:same")]
    new = [E("a:user", ref="a:base"), E("a:keep", v=2), E("a:base"), E("a:same")]
    ops = build_delta(old, new)
    assert kinds(ops) == [
        ("entry.delete", "a:gone"),
        ("entry.delete", "a:gone_dep"),
        ("entry.update", "a:keep"),
        ("entry.create", "a:base"),
        ("entry.create", "a:user"),
    ]
    assert ops[0].original is not None and ops[2].original.data == {"v": 1}


def test_changeset_builder_is_chainable_and_ordered() -> None:
    cs = ChangeSet()
    assert cs.create(E("a:n")).update(E("a:m")).delete("a:g") is cs
    assert kinds(cs.ops()) == [("entry.create", "a:n"), ("entry.update", "a:m"), ("entry.delete", "a:g")]
    assert len(ChangeSet()) == 0
