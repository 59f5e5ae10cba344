"""Every `[status]` setting and the reminders setting are documented in docs/status.md."""

from __future__ import annotations

from pathlib import Path

from passmuster.core.status_page import StatusConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "status.md"


def test_every_status_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [
        name
        for name in StatusConfig.model_fields
        if f"\n{name} = " not in text and f"[status.{name}]" not in text
    ]
    assert missing == [], f"docs/status.md does not mention {missing}"
    assert "\nremind_every = " in text
