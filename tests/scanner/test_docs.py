"""Every scanner setting is documented in docs/checks.md."""

from __future__ import annotations

from pathlib import Path

from passmuster.scanner.config import ScanConfig, ServiceOverride

DOC = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def test_every_scan_and_service_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    written = {
        "options": "[scan.options.",
        "services": "[services.",
    }
    missing = [
        f"{model.__name__}.{name}"
        for model in (ScanConfig, ServiceOverride)
        for name in model.model_fields
        if written.get(name, f"\n{name.replace('_', '-')} = ") not in text
    ]
    assert missing == [], f"docs/checks.md does not mention {missing}"
