"""Application metrics: counters, gauges and histograms with labels, exposed in the
Prometheus text format (version 0.0.4).

``metrics_for(runtime)`` is the registry of a runtime (created on first use and cached
as ``runtime.metrics``). ``start_prometheus(config, registry)`` serves ``GET /metrics``
on ``prometheus.address`` from a daemon thread when ``prometheus.enabled`` is set; it
returns the server (``server.shutdown()`` stops it) or ``None``.
"""

from __future__ import annotations

import math
import re
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from http.server import ThreadingHTTPServer

DEFAULT_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_NAME_BAD = re.compile(r"[^a-zA-Z0-9_:]")
_LABEL_BAD = re.compile(r"[^a-zA-Z0-9_]")

LabelKey = tuple[tuple[str, str], ...]


class MetricError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def metric_name(name: str) -> str:
    """A valid Prometheus metric name (invalid characters become ``_``)."""
    out = _NAME_BAD.sub("_", name)
    if not out:
        raise MetricError("Invalid", "metric name is empty")
    return "_" + out if out[0].isdigit() else out


def label_name(name: str) -> str:
    out = _LABEL_BAD.sub("_", name) or "_"
    return "_" + out if out[0].isdigit() else out


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _labels(labels: dict[str, Any] | None) -> LabelKey:
    if not labels:
        return ()
    return tuple(sorted((label_name(str(k)), str(v)) for k, v in labels.items()))


def _render_labels(key: LabelKey, extra: tuple[str, str] | None = None) -> str:
    pairs = list(key) + ([extra] if extra else [])
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{escape_label_value(v)}"' for k, v in pairs) + "}"


class _Histogram:
    __slots__ = ("counts", "sum", "count")

    def __init__(self, nbuckets: int) -> None:
        self.counts = [0] * nbuckets
        self.sum = 0.0
        self.count = 0


class MetricsRegistry:
    """Thread-safe store of metric families keyed by name, then by label set."""

    def __init__(self, buckets: tuple[float, ...] = DEFAULT_BUCKETS) -> None:
        self.buckets = tuple(sorted(buckets))
        self._lock = threading.Lock()
        self._types: dict[str, str] = {}
        self._values: dict[str, dict[LabelKey, Any]] = {}

    def _family(self, name: str, kind: str) -> dict[LabelKey, Any]:
        known = self._types.get(name)
        if known is None:
            self._types[name] = kind
            family: dict[LabelKey, Any] = {}
            self._values[name] = family
            return family
        if known != kind:
            raise MetricError("Invalid", f"metric {name} is a {known}, not a {kind}")
        return self._values[name]

    def counter_add(self, name: str, value: float = 1.0, labels: dict[str, Any] | None = None) -> None:
        if value < 0:
            raise MetricError("Invalid", "counter cannot decrease in value")
        name, key = metric_name(name), _labels(labels)
        with self._lock:
            family = self._family(name, "counter")
            family[key] = family.get(key, 0) + value

    def counter_inc(self, name: str, labels: dict[str, Any] | None = None) -> None:
        self.counter_add(name, 1, labels)

    def gauge_set(self, name: str, value: float, labels: dict[str, Any] | None = None) -> None:
        name, key = metric_name(name), _labels(labels)
        with self._lock:
            self._family(name, "gauge")[key] = value

    def gauge_add(self, name: str, delta: float, labels: dict[str, Any] | None = None) -> None:
        name, key = metric_name(name), _labels(labels)
        with self._lock:
            family = self._family(name, "gauge")
            family[key] = family.get(key, 0) + delta

    def histogram(self, name: str, value: float, labels: dict[str, Any] | None = None) -> None:
        name, key = metric_name(name), _labels(labels)
        with self._lock:
            family = self._family(name, "histogram")
            h = family.get(key)
            if h is None:
                h = family[key] = _Histogram(len(self.buckets))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    h.counts[i] += 1
            h.sum += value
            h.count += 1

    def value(self, name: str, labels: dict[str, Any] | None = None) -> Any:
        """The current value of a counter/gauge (a histogram gives ``(count, sum)``), or None."""
        with self._lock:
            v = self._values.get(metric_name(name), {}).get(_labels(labels))
            if isinstance(v, _Histogram):
                return (v.count, v.sum)
            return v

    def exposition(self) -> str:
        """Every metric in the Prometheus text format, families sorted by name."""
        lines: list[str] = []
        with self._lock:
            for name in sorted(self._types):
                kind = self._types[name]
                lines.append(f"# TYPE {name} {kind}")
                family = self._values[name]
                for key in sorted(family):
                    v = family[key]
                    if kind != "histogram":
                        lines.append(f"{name}{_render_labels(key)} {format_value(v)}")
                        continue
                    for bound, n in zip(self.buckets, v.counts, strict=True):
                        le = ("le", format_value(bound))
                        lines.append(f"{name}_bucket{_render_labels(key, le)} {n}")
                    lines.append(f"{name}_bucket{_render_labels(key, ('le', '+Inf'))} {v.count}")
                    lines.append(f"{name}_sum{_render_labels(key)} {format_value(v.sum)}")
                    lines.append(f"{name}_count{_render_labels(key)} {v.count}")
        return "\n".join(lines) + ("\n" if lines else "")


_default = MetricsRegistry()
_runtime_lock = threading.Lock()


def metrics_for(runtime: Any) -> MetricsRegistry:
    """The registry of ``runtime`` (cached as ``runtime.metrics``); a process-wide one without a runtime."""
    if runtime is None:
        return _default
    reg = getattr(runtime, "metrics", None)
    if isinstance(reg, MetricsRegistry):
        return reg
    with _runtime_lock:
        reg = getattr(runtime, "metrics", None)
        if not isinstance(reg, MetricsRegistry):
            reg = MetricsRegistry()
            runtime.metrics = reg
    return reg


def parse_address(address: str) -> tuple[str, int]:
    """``host:port``, ``:port`` or ``[v6]:port`` -> (host, port); an empty host listens everywhere."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"invalid prometheus address {address!r} (want host:port)")
    return host.strip("[]"), int(port)


def start_prometheus(config: Any, registry: MetricsRegistry) -> ThreadingHTTPServer | None:
    """Serve ``/metrics`` when ``prometheus.enabled``; ``config`` has ``get(dotted_path)``."""
    if config is None or not config.get("prometheus.enabled", False):
        return None
    address = config.get("prometheus.address")
    if not address:
        raise ValueError("prometheus.address must be set when prometheus.enabled is true")
    return serve_metrics(str(address), registry)


def serve_metrics(address: str, registry: MetricsRegistry) -> ThreadingHTTPServer:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # only when serving

    host, port = parse_address(address)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            if self.path.split("?", 1)[0] != "/metrics":
                self.send_error(404)
                return
            body = registry.exposition().encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="prometheus", daemon=True)
    thread.start()
    return server
