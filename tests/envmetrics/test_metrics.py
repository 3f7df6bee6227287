from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from wippy.metrics import (
    MetricError,
    MetricsRegistry,
    metrics_for,
    parse_address,
    serve_metrics,
    start_prometheus,
)


def test_exposition_text() -> None:
    reg = MetricsRegistry(buckets=(0.1, 1.0))
    reg.counter_inc("req_total", {"route": "/a", "method": "GET"})
    reg.counter_add("req_total", 2, {"method": "GET", "route": "/a"})
    reg.counter_inc("plain-total")
    reg.gauge_set("depth", 7, {"q": 'x"y\\z\n'})
    reg.gauge_add("depth", -1.5, {"q": 'x"y\\z\n'})
    reg.histogram("lat", 0.05)
    reg.histogram("lat", 0.5)
    reg.histogram("lat", 3)
    assert reg.exposition() == (
        "# TYPE depth gauge\n"
        'depth{q="x\\"y\\\\z\\n"} 5.5\n'
        "# TYPE lat histogram\n"
        'lat_bucket{le="0.1"} 1\n'
        'lat_bucket{le="1"} 2\n'
        'lat_bucket{le="+Inf"} 3\n'
        "lat_sum 3.55\n"
        "lat_count 3\n"
        "# TYPE plain_total counter\n"
        "plain_total 1\n"
        "# TYPE req_total counter\n"
        'req_total{method="GET",route="/a"} 3\n'
    )
    assert reg.value("req_total", {"route": "/a", "method": "GET"}) == 3
    assert reg.value("lat") == (3, 3.55)


def test_errors() -> None:
    reg = MetricsRegistry()
    with pytest.raises(MetricError):
        reg.counter_add("c", -1)
    reg.counter_inc("c")
    with pytest.raises(MetricError):
        reg.gauge_set("c", 1)
    assert MetricsRegistry().exposition() == ""


def test_runtime_registry_and_address() -> None:
    class Rt:
        pass

    rt = Rt()
    assert metrics_for(rt) is metrics_for(rt)
    assert parse_address(":9100") == ("", 9100)
    assert parse_address("[::1]:9100") == ("::1", 9100)
    with pytest.raises(ValueError):
        parse_address("nohost")


def test_http_endpoint() -> None:
    class Config:
        def __init__(self, data: dict) -> None:
            self.data = data

        def get(self, path: str, default: object = None) -> object:
            return self.data.get(path, default)

    assert start_prometheus(Config({}), MetricsRegistry()) is None
    with pytest.raises(ValueError):
        start_prometheus(Config({"prometheus.enabled": True}), MetricsRegistry())
    reg = MetricsRegistry()
    reg.counter_inc("hits_total")
    server = start_prometheus(Config({"prometheus.enabled": True, "prometheus.address": "127.0.0.1:0"}), reg)
    assert server is not None
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert resp.read().decode() == "# TYPE hits_total counter\nhits_total 1\n"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert serve_metrics  # exported for callers that bypass the config
