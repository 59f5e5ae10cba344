"""Findings: a fingerprint that survives moved lines, and severity thresholds."""

from __future__ import annotations

from passmuster.core.findings import Finding, Suppression, at_least
from passmuster.core.issues import Severity


def test_the_fingerprint_ignores_the_line_but_not_the_problem() -> None:
    here = Finding("ENV005", "worker lacks DOCKER_HOST", "compose.yml", 10, service="worker")
    moved = Finding("ENV005", "worker lacks DOCKER_HOST", "compose.yml", 42, service="worker")
    other = Finding("ENV005", "worker lacks REDIS_URL", "compose.yml", 10, service="worker")
    assert here.fingerprint == moved.fingerprint
    assert here.fingerprint != other.fingerprint


def test_a_key_keeps_the_fingerprint_when_the_message_changes() -> None:
    first = Finding("REQ002", "fastapi 0.110 vs 0.111", "r.txt", 1, key="fastapi")
    later = Finding("REQ002", "fastapi 0.110 vs 0.112", "r.txt", 1, key="fastapi")
    assert first.fingerprint == later.fingerprint


def test_at_least_orders_severities_from_critical_down() -> None:
    assert at_least(Severity.CRITICAL, Severity.HIGH)
    assert at_least(Severity.HIGH, Severity.HIGH)
    assert not at_least(Severity.MEDIUM, Severity.HIGH)


def test_a_suppression_covers_its_lines_and_code_prefixes() -> None:
    suppression = Suppression("a.yml", 3, (3, 4), ("ENV",))
    assert suppression.covers(Finding("ENV003", "m", "a.yml", 4))
    assert not suppression.covers(Finding("ENV003", "m", "a.yml", 5))
    assert not suppression.covers(Finding("REQ001", "m", "a.yml", 3))
    assert not suppression.covers(Finding("ENV003", "m", "b.yml", 3))
