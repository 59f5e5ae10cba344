"""Email through SMTP (the standard library's smtplib, run off the event loop).

The password comes from the environment variable named by `password_env`, never from the
configuration file. 5xx SMTP replies to the sender or recipients are permanent; connection
problems and 4xx replies are retried.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any, ClassVar, Literal

import httpx
from pydantic import ConfigDict, Field

from passmuster.core.targets import ChannelConfig
from passmuster.monitor.notify import Permanent, Retry, register
from passmuster.monitor.notify.slack import message


class EmailConfig(ChannelConfig):
    """`kind = "email"`: the SMTP server, who sends, who receives, and how to log in."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["email"] = "email"
    host: str = Field(min_length=1)
    port: int = 25
    sender: str = Field(min_length=1)
    to: list[str] = Field(min_length=1)
    username: str | None = None
    password_env: str | None = None  # the name of an env var; never the password itself
    starttls: bool = False


@register
class Email:
    kind: ClassVar[str] = "email"
    config_model: ClassVar[type[ChannelConfig]] = EmailConfig

    def __init__(self, name: str, config: EmailConfig) -> None:
        self.name = name
        self.config = config

    def build(self, note: Mapping[str, Any], key: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = ", ".join(self.config.to)
        event = str(note.get("event", "")).upper()
        subject = f"{event} {note.get('ref') or ''} {note.get('title')}"
        mail["Subject"] = " ".join(subject.split())
        mail["Message-ID"] = f"<{key.replace(':', '.')}@passmuster>"
        lines = [message(note), ""] + [
            f"{k}: {v}" for k, v in sorted(note.items()) if v is not None
        ]
        mail.set_content("\n".join(lines))
        return mail

    async def send(self, client: httpx.AsyncClient, note: Mapping[str, Any], key: str) -> None:
        mail = self.build(note, key)
        await asyncio.to_thread(self._send, mail)

    def _send(self, mail: EmailMessage) -> None:
        config = self.config
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
                if config.starttls:
                    smtp.starttls()
                if config.username:
                    smtp.login(config.username, os.environ.get(config.password_env or "", ""))
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise Permanent(f"email {self.name}: login refused ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused:
            raise Permanent(f"email {self.name}: recipients refused") from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise Permanent(f"email {self.name}: server said {exc.smtp_code}") from None
            raise Retry(f"email {self.name}: server said {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Retry(f"email {self.name}: {exc or type(exc).__name__}") from None
