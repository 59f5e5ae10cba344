"""/metrics: Prometheus exposition read from the store, labelled by name, never by URL."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from passmuster.monitor.metrics import metrics_app
from passmuster.usecases.desk import Desk
from tests.monitor.helpers import config, monitor
from tests.monitor.servers import Receiver, ThreadServer, free_port


def test_metrics_show_probes_health_incidents_and_the_outbox(sqlite_url: str) -> None:
    desk = Desk.connect(sqlite_url)
    with ThreadServer() as server, Receiver([503] * 50) as hook:
        cfg = config(
            targets=[
                {"name": "api", "url": server.url("/health"), "service": "api"},
                {"name": "db", "url": f"tcp://127.0.0.1:{free_port()}", "service": "db"},
            ],
            failure_threshold=1,
            notify={"ops": {"kind": "webhook", "url": hook.url()}},
        )

        async def scenario() -> str:
            async with monitor(desk, cfg) as m:
                await m.probe_all()
                await m.probe_all()
                await m.deliver()
            transport = httpx.ASGITransport(app=metrics_app(desk))
            async with httpx.AsyncClient(transport=transport, base_url="http://desk") as client:
                response = await client.get("/metrics")
                assert response.status_code == 200
                return response.text

        text = asyncio.run(scenario())
    desk.close()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    api = (("service", "api"), ("target", "api"))
    db = (("service", "db"), ("target", "db"))
    assert samples[("probe_success", api)] == 1.0
    assert samples[("probe_success", db)] == 0.0
    assert samples[("probe_duration_seconds_count", api)] == 2.0
    inf = (("le", "+Inf"), *api)
    assert samples[("probe_duration_seconds_bucket", inf)] == 2.0
    assert samples[("passmuster_probes_total", db)] == 2.0
    assert samples[("passmuster_probe_failures_total", db)] == 2.0
    assert samples[("passmuster_service_up", (("service", "api"),))] == 1.0
    assert samples[("passmuster_service_up", (("service", "db"),))] == 0.0
    assert samples[("passmuster_open_incidents", (("severity", "high"),))] == 1.0
    assert samples[("passmuster_open_incidents", (("severity", "low"),))] == 0.0
    assert samples[("passmuster_outbox_depth", (("channel", "ops"), ("status", "pending")))] == 1.0
    assert ("passmuster_sla_breaches", (("clock", "resolve"),)) in samples
    assert "127.0.0.1" not in text  # labels are names, never URLs
