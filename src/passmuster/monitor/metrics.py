"""Prometheus metrics read from the store at scrape time, blackbox_exporter-style names.

The collector asks the desk on every scrape, so any process sharing the desk (a `serve`
without its own monitor, a second monitor worker) exports the same numbers. Labels are service
and target names, never URLs: a URL can carry a token, and names stay stable when ports move.

    probe_success{service,target}              1 when the last probe passed
    probe_duration_seconds{service,target}     histogram of probe durations (kept in the store)
    probe_last_duration_seconds{service,target} the last probe's duration (blackbox's gauge)
    passmuster_service_up{service}             1 up or degraded, 0 down
    passmuster_service_degraded{service}       1 when degraded
    passmuster_probes_total{service,target}    probes recorded, and _failures_total
    passmuster_open_incidents{severity}        active incidents by severity
    passmuster_sla_breaches{clock}             issues whose respond/resolve SLA is breached
    passmuster_outbox_depth{channel,status}    notifications by state
    passmuster_channel_disabled{channel}       1 when a channel was disabled by a permanent error

Mount `metrics_app(desk)` at `/metrics` in a Starlette/FastAPI app, or run `passmuster monitor
--metrics 127.0.0.1:9464` to serve it standalone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from passmuster.core.issues import IssueQuery, IssueType, Severity
from passmuster.errors import InvalidValue
from passmuster.storage.channel_store import ChannelStore
from passmuster.storage.monitor_tables import LATENCY_BUCKETS
from passmuster.storage.outbox_store import OutboxStore
from passmuster.storage.target_store import TargetStore

if TYPE_CHECKING:
    from passmuster.monitor.scheduler import Monitor
    from passmuster.usecases.desk import Desk


class DeskCollector(Collector):
    """Reads targets, incidents, SLAs and the outbox from the desk on each scrape."""

    def __init__(self, desk: Desk, monitor: Monitor | None = None) -> None:
        self.desk = desk
        self.targets = TargetStore(desk.engine)
        self.outbox = OutboxStore(desk.engine)
        self.channels = ChannelStore(desk.engine)
        self.monitor = monitor

    def describe(self) -> list[Metric]:
        return []  # collected fresh per scrape; nothing to pre-register

    def collect(self) -> Iterator[Metric]:
        success = GaugeMetricFamily(
            "probe_success", "1 when the last probe passed.", labels=["service", "target"]
        )
        duration = GaugeMetricFamily(
            "probe_last_duration_seconds",
            "How long the last probe took.",
            labels=["service", "target"],
        )
        histogram = HistogramMetricFamily(
            "probe_duration_seconds", "How long probes took.", labels=["service", "target"]
        )
        probes = CounterMetricFamily(
            "passmuster_probes", "Probes recorded.", labels=["service", "target"]
        )
        failures = CounterMetricFamily(
            "passmuster_probe_failures",
            "Failed probes recorded.",
            labels=["service", "target"],
        )
        up = GaugeMetricFamily(
            "passmuster_service_up", "1 up or degraded, 0 down.", labels=["service"]
        )
        degraded = GaugeMetricFamily(
            "passmuster_service_degraded",
            "1 when the service reports degraded.",
            labels=["service"],
        )
        for row in self.targets.target_rows():
            service = row.service or row.name
            if row.last_ok is not None:
                success.add_metric([service, row.name], 1.0 if row.last_ok else 0.0)
            if row.last_latency is not None:
                duration.add_metric([service, row.name], row.last_latency)
            probes.add_metric([service, row.name], float(row.probes))
            if row.buckets:
                running, cumulative = 0, []
                for bound, count in zip(LATENCY_BUCKETS, row.buckets, strict=True):
                    running += count
                    cumulative.append((repr(bound), float(running)))
                cumulative.append(("+Inf", float(row.probes)))
                histogram.add_metric([service, row.name], cumulative, row.latency_sum)
            failures.add_metric([service, row.name], float(row.probe_failures))
            health = row.state.health.value
            if health != "unknown":
                up.add_metric([service], 0.0 if health == "down" else 1.0)
                degraded.add_metric([service], 1.0 if health == "degraded" else 0.0)
        yield from (success, histogram, duration, probes, failures, up, degraded)

        incidents = GaugeMetricFamily(
            "passmuster_open_incidents", "Active incidents by severity.", labels=["severity"]
        )
        # Counted by the database: a scrape every few seconds read every open incident whole.
        for severity in Severity:
            query = IssueQuery(types=[IssueType.INCIDENT], severities=[severity], active_only=True)
            incidents.add_metric([severity.value], float(self.desk.count(query)))
        yield incidents

        breaches = GaugeMetricFamily(
            "passmuster_sla_breaches", "Issues whose SLA clock is breached.", labels=["clock"]
        )
        by_clock: dict[str, int] = {"respond": 0, "resolve": 0}
        for status in self.desk.sla():
            if status.breached:
                by_clock[str(status.clock)] = by_clock.get(str(status.clock), 0) + 1
        for clock, count in by_clock.items():
            breaches.add_metric([clock], float(count))
        yield breaches

        depth = GaugeMetricFamily(
            "passmuster_outbox_depth", "Notifications by state.", labels=["channel", "status"]
        )
        for (channel, state), count in sorted(self.outbox.outbox_depth().items()):
            depth.add_metric([channel, state], float(count))
        yield depth
        disabled = GaugeMetricFamily(
            "passmuster_channel_disabled", "1 when a channel was disabled.", labels=["channel"]
        )
        for channel_row in self.channels.channels():
            disabled.add_metric([channel_row.name], 1.0 if channel_row.disabled_reason else 0.0)
        yield disabled


def create_registry(desk: Desk, monitor: Monitor | None = None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeskCollector(desk, monitor))
    return registry


def metrics_app(desk: Desk, monitor: Monitor | None = None) -> Any:
    """An ASGI app answering Prometheus scrapes; mount it at /metrics."""
    return make_asgi_app(registry=create_registry(desk, monitor))


def parse_listen_address(address: str) -> tuple[str, int]:
    """`HOST:PORT` (or `:PORT`, on 127.0.0.1) for --metrics; InvalidValue otherwise."""
    host, sep, port = address.strip().rpartition(":")
    host = host.strip("[]")  # [::1]:9464
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidValue("--metrics", address, ["HOST:PORT, e.g. 127.0.0.1:9464"])
    return host or "127.0.0.1", int(port)


def serve_metrics(address: str, desk: Desk, monitor: Monitor | None = None) -> Any:
    """Serve /metrics standalone on `HOST:PORT` (a thread); returns the server to shut down."""
    from prometheus_client import start_http_server

    host, port = parse_listen_address(address)
    server, _thread = start_http_server(port, addr=host, registry=create_registry(desk, monitor))
    return server
