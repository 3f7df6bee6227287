"""wippy: a Python runtime for Wippy applications.

A project is a directory of YAML entries and typed-Lua scripts; `wippy run` loads them
into a versioned registry and runs them as supervised actors on Lua shards.
"""

__version__ = "0.1.0"
