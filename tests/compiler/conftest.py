import pytest

from .luarun import LuaRunner


@pytest.fixture(scope="session")
def lua() -> LuaRunner:
    return LuaRunner()
