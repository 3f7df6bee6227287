"""SQLite history: schema, persistence across Registry instances, boot restore."""

from __future__ import annotations

import sqlite3

from helpers_registry import E, Recorder

from wippy.registry import ChangeSet, Registry, SqliteHistory, open_history


async def test_sqlite_round_trip(tmp_path) -> None:
    path = tmp_path / ".wippy" / "registry.db"
    baseline = [E("t:base", "x.a", meta={"m": 1}, v=0), E("t:yaml_only", "x.a")]

    reg = Registry(SqliteHistory(path))
    assert (await reg.load_state(baseline)).id == 0
    await reg.apply(
        ChangeSet().create(E("t:rt", "x.a", meta={"tags": ["a"]}, nested={"k": [1, 2.5, None, True]}))
    )
    await reg.apply(ChangeSet().update(E("t:base", "x.a", meta={"m": 2}, v=1)).delete("t:yaml_only"))
    await reg.apply(ChangeSet().create(E("t:later", "x.a")))
    await reg.apply_version(2)
    reg._history.close()

    con = sqlite3.connect(path)
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    meta = dict(con.execute("select key, value from metadata"))
    assert meta == {"schema_version": "1", "head": "2"}
    assert con.execute("select id, parent_id from versions order by id").fetchall() == [
        (0, None),
        (1, 0),
        (2, 1),
        (3, 2),
    ]
    assert con.execute("select count(*) from changesets").fetchone()[0] == 4
    con.close()

    # second process: a new baseline (the YAML gained an entry) + replay of root..head
    reg2 = Registry(SqliteHistory(path))
    rec = Recorder()
    reg2.register_listener("x.*", rec)
    v = await reg2.load_state([*baseline, E("t:new_in_yaml", "x.a")])
    assert v.id == 2 and reg2.current_version().id == 2
    assert sorted(e.id for e in reg2.entries()) == ["t:base", "t:new_in_yaml", "t:rt"]
    assert reg2.get("t:base").data == {"v": 1} and reg2.get("t:base").meta == {"m": 2}
    assert reg2.get("t:rt").data == {"nested": {"k": [1, 2.5, None, True]}}
    assert len(rec.log) == 3 and {x[1] for x in rec.log} == {"add"}
    assert [x.id for x in reg2.versions()] == [0, 1, 2, 3]
    assert reg2.snapshot_at(1).get("t:yaml_only") is not None
    assert reg2.snapshot_at(3).get("t:later") is not None
    nxt = await reg2.apply(ChangeSet().create(E("t:after_restart", "x.a")))
    assert (nxt.id, nxt.parent) == (4, 2)
    ops = reg2.changeset_of(2)
    assert [(str(o.kind), o.id) for o in ops] == [("entry.delete", "t:yaml_only"), ("entry.update", "t:base")]
    assert ops[0].original is not None and ops[1].original.data == {"v": 0}
    reg2._history.close()


def test_open_history_from_config(tmp_path) -> None:
    h = open_history({"history_type": "sqlite"}, base_dir=tmp_path)
    assert isinstance(h, SqliteHistory) and (tmp_path / ".wippy" / "registry.db").exists()
    h.close()
    assert type(open_history(None)).__name__ == "MemoryHistory"
