"""The lifecycle block and its restart policy, parsed from YAML-shaped mappings."""

from __future__ import annotations

import random

import pytest

from wippy.backoff import RestartPolicy
from wippy.supervisor import Lifecycle


def test_defaults_are_the_references() -> None:
    lc = Lifecycle.from_config(None)
    assert lc == Lifecycle.from_config({})
    assert lc.auto_start is False
    assert lc.startup == "required"
    assert (lc.start_timeout, lc.stop_timeout, lc.stable_threshold) == (10.0, 10.0, 5.0)
    assert lc.requires == ()
    assert lc.restart == RestartPolicy(1.0, 90.0, 2.0, 0.1, 0)


def test_full_block() -> None:
    lc = Lifecycle.from_config(
        {
            "auto_start": True,
            "start_timeout": "2s",
            "stop_timeout": 3,
            "stable_threshold": "1m30s",
            "requires": ["app:ledger", "db"],
            "depends_on": ["db", "other:x"],
            "restart": {
                "initial_delay": "100ms",
                "max_delay": "1s",
                "backoff_factor": 3,
                "jitter": 0,
                "max_attempts": 6,
            },
            "security": {"actor": {"id": "service:x"}},
        },
        namespace="app",
    )
    assert lc.auto_start is True
    assert (lc.start_timeout, lc.stop_timeout, lc.stable_threshold) == (2.0, 3.0, 90.0)
    assert lc.requires == ("app:ledger", "app:db", "other:x")
    assert lc.restart == RestartPolicy(0.1, 1.0, 3.0, 0.0, 6)
    assert lc.security == {"actor": {"id": "service:x"}}


def test_zero_values_take_defaults_like_go_but_jitter_zero_means_none() -> None:
    r = RestartPolicy.from_config({"initial_delay": 0, "backoff_factor": 0, "jitter": 0})
    assert (r.initial_delay, r.backoff_factor, r.jitter) == (1.0, 2.0, 0.0)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"start_timeout": "10"}, "lifecycle.start_timeout"),
        ({"stop_timeout": "soon"}, "lifecycle.stop_timeout"),
        ({"stable_threshold": -1}, "lifecycle.stable_threshold"),
        ({"auto_start": "yes"}, "lifecycle.auto_start"),
        ({"startup": "maybe"}, "lifecycle.startup"),
        ({"requires": [1]}, "lifecycle.requires"),
        ({"restart": {"initial_delay": "1x"}}, "lifecycle.restart.initial_delay"),
        ({"restart": {"jitter": 2}}, "lifecycle.restart"),
        ({"restart": {"max_attempts": 1.5}}, "lifecycle.restart.max_attempts"),
        ({"restart": {"backoff_factor": "fast"}}, "lifecycle.restart.backoff_factor"),
        ({"restart": []}, "lifecycle.restart"),
    ],
)
def test_errors_name_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValueError) as info:
        Lifecycle.from_config(config)
    assert str(info.value).startswith(field + ":")


def test_backoff_grows_exponentially_up_to_max_delay() -> None:
    r = RestartPolicy(initial_delay=1.0, max_delay=90.0, backoff_factor=2.0, jitter=0.0)
    assert [r.delay(n) for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 64, 90, 90]
    assert r.delay(10_000) == 90.0  # no overflow
    flat = RestartPolicy(initial_delay=0.5, backoff_factor=1.0, jitter=0.0)
    assert {flat.delay(n) for n in range(1, 20)} == {0.5}


def test_jitter_stays_within_its_fraction() -> None:
    r = RestartPolicy(initial_delay=1.0, max_delay=10.0, backoff_factor=2.0, jitter=0.1)
    rng = random.Random(7)
    for n in range(1, 8):
        base = r.base_delay(n)
        samples = [r.delay(n, rng) for _ in range(200)]
        assert all(base * 0.9 <= d <= base * 1.1 for d in samples)
        assert len(set(samples)) > 100  # it really varies


def test_max_attempts_counts_total_starts() -> None:
    assert RestartPolicy(max_attempts=0).may_retry(10_000)
    three = RestartPolicy(max_attempts=3)
    assert [three.may_retry(n) for n in (1, 2, 3)] == [True, True, False]


def test_the_conformance_apps_lifecycle_blocks_parse() -> None:
    import pathlib

    import yaml

    index = pathlib.Path("/work/shared/conformance/apps/declarative-supervision/src/_index.yaml")
    if not index.exists():
        pytest.skip("conformance apps not available")
    entries = {e["name"]: e for e in yaml.safe_load(index.read_text())["entries"]}
    flaky = Lifecycle.from_config(entries["flaky"]["lifecycle"], namespace="app")
    assert flaky.auto_start and flaky.requires == ("app:ledger",)
    assert flaky.restart == RestartPolicy(0.1, 1.0, 2.0, 0.1, 6)
    oneshot = Lifecycle.from_config(entries["oneshot"]["lifecycle"], namespace="app")
    assert oneshot.restart.initial_delay == 0.1 and oneshot.restart.max_attempts == 0
