"""The module index (read without importing) names the same modules the imports define."""

from wippy.lua.modules import discover, index


def test_index_matches_the_modules_defined_by_imports() -> None:
    specs = discover()
    idx = index()
    assert set(idx) == set(specs)
    assert {name for name, (_, g) in idx.items() if g} == {name for name, s in specs.items() if s.is_global}
