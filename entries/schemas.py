"""Schemas of the entry kinds the runtime understands, registered with :mod:`wippy.kinds`.

Each schema is a msgspec ``Struct`` that accepts unknown fields (the reference runtime
ignores them too) and is only used to validate the YAML data at load time; the kind
handlers keep working on plain dicts. Durations are written either as strings (``10s``,
``100ms``) or as numbers, so they are typed ``str | int | float`` here and parsed by
whoever uses them.

Kinds the runtime does not implement yet (HTTP, SQL, queues...) are registered leniently
(no schema) so that real projects still load; only a kind nobody registered is an
"unknown kind".
"""

from __future__ import annotations

from typing import Any

import msgspec

from wippy.kinds import KindSpec, register_kind

Duration = str | int | float


class _Data(msgspec.Struct, forbid_unknown_fields=False, omit_defaults=True, kw_only=True):
    """Base of every schema: unknown fields are allowed."""


class Restart(_Data, kw_only=True):
    initial_delay: Duration | None = None
    max_delay: Duration | None = None
    backoff_factor: float | None = None
    jitter: float | None = None
    max_attempts: int | None = None


class Lifecycle(_Data, kw_only=True):
    auto_start: bool = False
    start_timeout: Duration | None = None
    stop_timeout: Duration | None = None
    stable_threshold: Duration | None = None
    requires: list[str] = msgspec.field(default_factory=list)
    depends_on: list[str] = msgspec.field(default_factory=list)
    restart: Restart | None = None
    startup: Any = None
    security: Any = None


LIFECYCLE_REFS = ("lifecycle.requires.*", "lifecycle.depends_on.*")


class _Service(_Data, kw_only=True):
    lifecycle: Lifecycle | None = None


class LuaCode(_Data, kw_only=True):
    """``process.lua``, ``function.lua``, ``workflow.lua``: code run through ``method``."""

    source: str
    method: str
    modules: list[str] = msgspec.field(default_factory=list)
    imports: dict[str, str] = msgspec.field(default_factory=dict)


class Pool(_Data, kw_only=True):
    type: str | None = None
    workers: int | None = None
    size: int | None = None
    buffer: int | None = None
    max_size: int | None = None


class LuaFunction(LuaCode, kw_only=True):
    pool: Pool | None = None


class LuaLibrary(_Data, kw_only=True):
    """``library.lua``: imported by other entries; ``method`` is unused."""

    source: str
    method: str | None = None
    modules: list[str] = msgspec.field(default_factory=list)
    imports: dict[str, str] = msgspec.field(default_factory=dict)


class HostOptions(_Data, kw_only=True):
    workers: int | None = None
    queue_size: int | None = None
    local_queue_size: int | None = None
    max_memory: int | str | None = None


class ProcessHost(_Service, kw_only=True):
    host: HostOptions | None = None


class TerminalHost(_Service, kw_only=True):
    hide_logs: bool = False


class ProcessService(_Service, kw_only=True):
    process: str
    host: str
    input: list[Any] = msgspec.field(default_factory=list)


class EnvStorageMemory(_Data, kw_only=True):
    pass


class EnvStorageFile(_Data, kw_only=True):
    file_path: str
    auto_create: bool = False
    file_mode: str | int | None = None
    dir_mode: str | int | None = None


class EnvStorageOS(_Data, kw_only=True):
    pass


class EnvStorageStatic(_Data, kw_only=True):
    values: dict[str, Any] = msgspec.field(default_factory=dict)


class EnvStorageRouter(_Data, kw_only=True):
    storages: list[str]


class EnvVariable(_Data, kw_only=True):
    storage: str
    variable: str | None = None
    default: Any = None
    readonly: bool = False


_CODE_REFS = ("imports.*",)

for _kind, _schema in (
    ("process.lua", LuaCode),
    ("function.lua", LuaFunction),
    ("workflow.lua", LuaCode),
    ("library.lua", LuaLibrary),
):
    register_kind(KindSpec(_kind, _schema, _CODE_REFS))

register_kind(KindSpec("process.host", ProcessHost, LIFECYCLE_REFS))
register_kind(KindSpec("terminal.host", TerminalHost, LIFECYCLE_REFS))
register_kind(KindSpec("process.service", ProcessService, ("process", "host", *LIFECYCLE_REFS)))
register_kind(KindSpec("registry.entry"))
register_kind(KindSpec("env.storage.memory", EnvStorageMemory))
register_kind(KindSpec("env.storage.file", EnvStorageFile))
register_kind(KindSpec("env.storage.os", EnvStorageOS))
register_kind(KindSpec("env.storage.static", EnvStorageStatic))
register_kind(KindSpec("env.storage.router", EnvStorageRouter, ("storages.*",)))
register_kind(KindSpec("env.variable", EnvVariable, ("storage",)))
for _kind in ("ns.definition", "ns.requirement", "ns.dependency"):
    register_kind(KindSpec(_kind))

# Kinds of the spec that are accepted without a schema until their handlers exist.
_LENIENT = (
    "http.service", "http.router", "http.endpoint", "http.static",
    "db.sql.postgres", "db.sql.mysql", "db.sql.sqlite", "db.cdc.postgres",
    "store.memory", "store.sql", "store.kv.raft", "store.kv.crdt",
    "queue.driver.memory", "queue.driver.amqp", "queue.driver.sqs", "queue.queue", "queue.consumer",
    "fs.directory", "fs.embed", "config.aws", "cloudstorage.s3", "template.set", "template.jet",
    "contract.definition", "contract.binding",
    "security.policy", "security.policy.expr", "security.token_store",
    "exec.native", "exec.docker", "function.wat", "function.wasm", "process.wasm",
    "network", "network.*", "temporal.client", "temporal.worker", "pg.scope", "module.lua",
    "*.lua.bc",
)  # fmt: skip
for _kind in _LENIENT:
    register_kind(KindSpec(_kind, None, LIFECYCLE_REFS))
