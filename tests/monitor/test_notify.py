"""Notifications through real webhook receivers on 127.0.0.1: retries, backoff, exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from passmuster.core.targets import ChannelConfig
from passmuster.errors import ConfigError
from passmuster.monitor.notify import Retry, build_channel, channel_config, retry_after
from passmuster.monitor.notify.email import EmailConfig
from passmuster.monitor.notify.outbox import Backoff, Dispatcher
from passmuster.monitor.notify.slack import SlackConfig, message
from passmuster.monitor.notify.webhook import WebhookConfig
from passmuster.storage.monitor_store import MonitorStore
from passmuster.storage.outbox_store import Outgoing
from tests.monitor.servers import Receiver

NOW = 0


def _dispatcher(store: MonitorStore, channels: dict[str, ChannelConfig]) -> Dispatcher:
    built = {name: build_channel(name, c) for name, c in channels.items()}
    store.ensure_channels({name: (c.kind, "d1") for name, c in channels.items()})
    return Dispatcher(
        store,
        built,
        client=httpx.AsyncClient(),
        worker="w1",
        backoff=Backoff(base=0.01, cap=0.05, max_attempts=5),
    )


async def _drain(dispatcher: Dispatcher, rounds: int = 40) -> None:
    for _ in range(rounds):
        await dispatcher.deliver()
        if all(r.status in ("sent", "failed") for r in dispatcher.store.outbox()):
            break
        await asyncio.sleep(0.02)
    await dispatcher.client.aclose()


def _note(key: str = "incident:1:opened:db:1", **extra: object) -> Outgoing:
    payload = {"event": "opened", "incident": 1, "ref": "#001", "title": "db is down"}
    payload.update(extra)
    return Outgoing(key=key, channel="ops", kind="opened", payload=payload, incident=1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver([503, 503]) as running:
        yield running


def test_a_receiver_failing_twice_then_succeeding_gets_exactly_one_delivery(
    store: MonitorStore, receiver: Receiver
) -> None:
    dispatcher = _dispatcher(store, {"ops": WebhookConfig(url=receiver.url())})
    store.enqueue([_note()], 1)
    asyncio.run(_drain(dispatcher))
    assert len(receiver.requests) == 3 and len(receiver.accepted) == 1
    keys = {headers["idempotency-key"] for _, headers, _ in receiver.requests}
    assert keys == {"incident:1:opened:db:1:ops"}  # the same key on every attempt
    (row,) = store.outbox()
    assert (
        row.status == "sent"
        and row.attempts == 3
        and row.last_error == ("webhook ops answered HTTP 503")
    )


def test_a_permanent_error_disables_the_channel_and_keeps_the_notification(
    store: MonitorStore,
) -> None:
    with Receiver([404] * 10) as gone:
        dispatcher = _dispatcher(store, {"ops": WebhookConfig(url=gone.url())})
        store.enqueue([_note(), _note(key="k2")], 1)
        asyncio.run(_drain(dispatcher, rounds=5))
        assert len(gone.requests) == 1  # the second waits behind the first, then the channel is off
    (channel,) = store.channels()
    assert channel.disabled_reason is not None and "HTTP 404" in channel.disabled_reason
    assert [r.status for r in store.outbox()] == ["pending", "pending"]
    assert store.enable_channel("ops")


def test_retry_after_is_honoured() -> None:
    response = httpx.Response(429, headers={"Retry-After": "120"})
    assert retry_after(response) == 120.0
    assert Backoff(base=0.01, cap=3600).delay(1, 120.0) >= 120.0
    assert Backoff(base=1, cap=10).delay(20, None) <= 10


def test_a_429_with_retry_after_waits_that_long(store: MonitorStore) -> None:
    with Receiver([(429, {"Retry-After": "3600"})]) as slow:
        dispatcher = _dispatcher(store, {"ops": WebhookConfig(url=slow.url())})
        store.enqueue([_note()], 1)
        asyncio.run(_drain(dispatcher, rounds=3))
        assert len(slow.requests) == 1
    (row,) = store.outbox()
    assert row.status == "pending" and row.not_before > row.created_at + 3_000_000


def test_giving_up_after_max_attempts_marks_the_notification_failed(store: MonitorStore) -> None:
    with Receiver([500] * 10) as broken:
        dispatcher = _dispatcher(store, {"ops": WebhookConfig(url=broken.url())})
        store.enqueue([_note()], 1)
        asyncio.run(_drain(dispatcher))
        assert len(broken.requests) == 5
    (row,) = store.outbox()
    assert row.status == "failed" and row.last_error is not None
    assert row.last_error.startswith("gave up after 5 attempts")


def test_a_template_shapes_the_webhook_body(store: MonitorStore) -> None:
    template = '{"summary": {{ (ref ~ " " ~ title) | tojson }}, "sev": {{ event | tojson }}}'
    with Receiver() as hook:
        cfg = WebhookConfig(url=hook.url(), template=template)
        dispatcher = _dispatcher(store, {"ops": cfg})
        store.enqueue([_note()], 1)
        asyncio.run(_drain(dispatcher, rounds=2))
        assert hook.accepted == [{"summary": "#001 db is down", "sev": "opened"}]


def test_slack_gets_one_readable_line(store: MonitorStore) -> None:
    with Receiver() as slack:
        dispatcher = _dispatcher(store, {"ops": SlackConfig(url=slack.url())})
        store.enqueue([_note(severity="critical", reason="connection refused")], 1)
        asyncio.run(_drain(dispatcher, rounds=2))
        assert slack.accepted == [
            {"text": ":red_circle: OPENED #001 db is down (severity critical; connection refused)"}
        ]
    assert message({"event": "resolved", "title": "x"}).startswith(":large_green_circle:")


def test_a_bad_channel_configuration_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"\[monitor.notify.ops\] kind 'pager' is none of"):
        build_channel("ops", ChannelConfig(kind="pager"))
    with pytest.raises(ConfigError, match="template does not render to JSON"):
        build_channel("ops", WebhookConfig(url="http://x/", template="{{ title }}"))


def test_each_kind_checks_its_own_settings_and_names_the_field() -> None:
    typed = channel_config("ops", ChannelConfig(kind="slack", url="https://hooks.example.com/s"))
    assert isinstance(typed, SlackConfig)
    with pytest.raises(ConfigError, match=r"\[monitor.notify.ops.template\] Extra inputs"):
        channel_config("ops", ChannelConfig(kind="slack", url="https://h/s", template="{}"))
    with pytest.raises(ConfigError, match=r"\[monitor.notify.ops.url\] .*http:// or https://"):
        channel_config("ops", ChannelConfig(kind="webhook", url="ftp://h/s"))
    with pytest.raises(ConfigError, match=r"\[monitor.notify.mail.sender\] Field required") as e:
        channel_config("mail", ChannelConfig(kind="email", host="smtp.example.com", to=["a@b"]))
    assert e.value.field == "monitor.notify.mail.sender"


def test_a_channel_keeps_its_digest_from_before_kinds_had_models() -> None:
    # Taken when one model held every kind's settings: a new digest would enable a channel the
    # monitor disabled, as if its configuration had been fixed.
    hook = WebhookConfig(url="https://events.example.com/hook")
    assert hook.digest() == "d298af62c8b2ab64acff6d355228f38516bdd8f26bc616a6eb6d3f588fda6b21"
    mail = EmailConfig(host="smtp.example.com", sender="a@example.com", to=["b@example.com"])
    assert mail.digest() == "97a91d62f61d5e2cba887fc6a96b294b5de1451b5d42a4852c7798866ed034fd"
    assert mail.model_copy(update={"port": 587}).digest() != mail.digest()


def test_an_unreachable_receiver_is_retried() -> None:
    channel = build_channel("ops", WebhookConfig(url="http://127.0.0.1:9/h"))

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await channel.send(client, {"event": "opened"}, "k")

    with pytest.raises(Retry, match="unreachable"):
        asyncio.run(go())
