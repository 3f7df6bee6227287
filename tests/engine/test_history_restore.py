"""Registry history in SQLite survives a restart (`registry.history_type: sqlite`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

WIPPY = str(Path(sys.executable).parent / "wippy") if (Path(sys.executable).parent / "wippy").exists() \
    else shutil.which("wippy") or "wippy"

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


def test_changes_applied_at_run_time_are_restored_on_the_next_boot(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "wippy.lock").write_text("directories:\n  src: ./src\n")
    (tmp_path / ".wippy.yaml").write_text("registry:\n  history_type: sqlite\n")
    (tmp_path / "src" / "_index.yaml").write_text(textwrap.dedent(INDEX))
    (tmp_path / "src" / "hist.lua").write_text(textwrap.dedent(HIST))

    def run(mode: str) -> str:
        r = subprocess.run([WIPPY, "run", "-x", "t:hist", "--arg", mode], cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    assert run("write") == "applied\tv1\tnil\n"
    assert (tmp_path / ".wippy" / "registry.db").exists()
    assert run("read") == "after restart:\tkept\tv1\n"
