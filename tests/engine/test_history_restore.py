"""Registry history in SQLite survives a restart (`registry.history_type: sqlite`)."""

from __future__ import annotations

from pathlib import Path

INDEX = """
version: "1.0"
namespace: t
entries:
  - {name: terminal, kind: terminal.host}
  - {name: hist, kind: process.lua, source: file://hist.lua, method: main, modules: [io, registry]}
"""

HIST = """
return {main = function(mode)
  if mode == "write" then
    local v, err = registry.snapshot():changes()
      :create({id = "t:note", kind = "registry.entry", meta = {}, data = {text = "kept"}}):apply()
    io.print("applied", tostring(v), tostring(err))
  else
    local e = registry.get("t:note")
    io.print("after restart:", e and e.data.text or "missing", tostring(registry.current_version()))
  end
  return 0
end}
"""


def test_changes_applied_at_run_time_are_restored_on_the_next_boot(project, tmp_path: Path) -> None:
    app = project({"_index.yaml": INDEX, "hist.lua": HIST})
    (tmp_path / ".wippy.yaml").write_text("registry:\n  history_type: sqlite\n")

    def run(mode: str) -> str:
        r = app.run("t:hist", args=(mode,))
        assert r.rc == 0, r.err
        return r.out

    assert run("write") == "applied\tv1\tnil\n"
    assert (tmp_path / ".wippy" / "registry.db").exists()
    assert run("read") == "after restart:\tkept\tv1\n"
