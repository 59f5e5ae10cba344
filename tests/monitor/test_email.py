"""The email channel against a small SMTP server on 127.0.0.1 (speaking just enough SMTP)."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Iterator

import httpx
import pytest

from passmuster.monitor.notify import Permanent, build_channel
from passmuster.monitor.notify.email import EmailConfig
from tests.monitor.servers import ThreadServer


class SmtpServer(ThreadServer):
    """Accepts every message, or refuses recipients with 550 when `refuse` is set."""

    def __init__(self, refuse: bool = False) -> None:
        super().__init__()
        self.refuse = refuse
        self.messages: list[email.message.Message] = []
        self.handler = self._session

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        try:
            while line := await reader.readline():
                verb = line.split(b" ")[0].strip().upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250 test\r\n")
                elif verb == b"RCPT" and self.refuse:
                    writer.write(b"550 no such user\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    data = await reader.readuntil(b"\r\n.\r\n")
                    self.messages.append(email.message_from_bytes(data[:-5]))
                    writer.write(b"250 queued\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        finally:
            writer.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _config(port: int) -> EmailConfig:
    return EmailConfig(
        host="127.0.0.1", port=port, sender="desk@example.com", to=["ops@example.com"]
    )


NOTE = {"event": "opened", "ref": "#004", "title": "identity is down", "severity": "high"}


def test_an_incident_is_mailed_with_a_readable_subject(smtp: SmtpServer) -> None:
    channel = build_channel("mail", _config(smtp.port))

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            await channel.send(client, NOTE, "incident:4:opened:identity:1:mail")

    asyncio.run(go())
    (message,) = smtp.messages
    assert message["Subject"] == "OPENED #004 identity is down"
    assert message["To"] == "ops@example.com"
    assert "severity: high" in message.get_payload()


def test_refused_recipients_are_a_permanent_error() -> None:
    with SmtpServer(refuse=True) as server:
        channel = build_channel("mail", _config(server.port))

        async def go() -> None:
            async with httpx.AsyncClient() as client:
                await channel.send(client, NOTE, "k")

        with pytest.raises(Permanent, match="recipients refused"):
            asyncio.run(go())
