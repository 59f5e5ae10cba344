"""Findings as text (grouped by service), concise lines, JSON, SARIF 2.1.0 and GitHub annotations.

A finding's message quotes the repository (names, values, paths), so the text formats show
control characters visibly (`core.visible`); JSON and SARIF escape them as JSON does.

Every reporter is a function `(result, registry, notes) -> str`; `notes` are extra lines the
caller wants shown after the findings (for example issues claimed resolved but still detected).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from itertools import groupby

from passmuster import __version__
from passmuster.core.findings import Finding
from passmuster.core.issues import Severity
from passmuster.core.visible import escape_controls
from passmuster.scanner.engine import ScanResult
from passmuster.scanner.registry import Registry

FORMATS = ("text", "concise", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}

Reporter = Callable[[ScanResult, Registry, Sequence[str]], str]


def where(finding: Finding) -> str:
    if finding.line is None:
        return finding.path
    if finding.column is None:
        return f"{finding.path}:{finding.line}"
    return f"{finding.path}:{finding.line}:{finding.column}"


def _service_count(result: ScanResult) -> int:
    return len({service.name for service in result.platform.every_service()})


def summary_line(result: ScanResult) -> str:
    # Services counted by name: one that several compose projects define (a base file and a
    # production file) is one service to the reader, as `passmuster services` lists it; a
    # Python service no compose file wires counts too, its findings being among these.
    total = _service_count(result)
    if not result.findings:
        extra = _hidden(result)
        if not total:
            # Said outright: "no findings" in a folder with no platform reads as a clean bill.
            return (
                f"No findings, and no services: no compose file here defines one, so nothing "
                f"between services was checked{extra}."
            )
        return f"No findings in {total} service{'s' if total != 1 else ''}{extra}."
    counts = result.counts()
    parts = [f"{counts[s.value]} {s.value}" for s in Severity if counts[s.value]]
    services = {f.service for f in result.findings if f.service}
    fixable = sum(1 for f in result.findings if f.fix is not None)
    text = (
        f"Found {len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} "
        f"({', '.join(parts)}) in {len(services)} of {total} service{'s' if total != 1 else ''}"
    )
    if fixable:
        text += f"; {fixable} fixable with `passmuster scan --fix`"
    return text + _hidden(result) + "."


def _hidden(result: ScanResult) -> str:
    bits = []
    if result.suppressed:
        bits.append(f"{len(result.suppressed)} suppressed")
    if result.baselined:
        bits.append(f"{len(result.baselined)} in the baseline")
    return f" ({', '.join(bits)})" if bits else ""


def text_report(result: ScanResult, registry: Registry, notes: Sequence[str] = ()) -> str:
    """Findings grouped by service, each with file:line, code, severity and message."""
    lines: list[str] = []
    ordered = sorted(result.findings, key=lambda f: (f.service is None, *f.sort_key()))
    for service, group in groupby(ordered, key=lambda f: f.service):
        items = list(group)
        lines.append(f"{service or '(platform)'}  ({len(items)})")
        for finding in items:
            fix = " [*]" if finding.fix is not None else ""
            lines.append(
                f"  {where(finding)}: {finding.code} [{finding.severity.value}] "
                f"{finding.message}{fix}"
            )
            for related in finding.related:
                label = f" ({related.service})" if related.service else ""
                note = f" {related.message}" if related.message else ""
                at = f"{related.path}:{related.line}" if related.line else related.path
                lines.append(f"      see {at}{label}{note}")
        lines.append("")
    lines.extend(notes)
    if notes:
        lines.append("")
    lines.append(summary_line(result))
    return escape_controls("\n".join(lines) + "\n")


def concise_report(result: ScanResult, registry: Registry, notes: Sequence[str] = ()) -> str:
    """One line per finding, `path:line: CODE message`, as editors and grep like."""
    lines = [f"{where(f)}: {f.code} {f.message}" for f in result.findings]
    lines.extend(notes)
    return escape_controls("\n".join(lines) + ("\n" if lines else ""))


def finding_json(finding: Finding) -> dict[str, object]:
    return {
        "code": finding.code,
        "message": finding.message,
        "severity": finding.severity.value,
        "service": finding.service,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "fingerprint": finding.fingerprint,
        "fix": None
        if finding.fix is None
        else {
            "message": finding.fix.message,
            "applicability": finding.fix.applicability.value,
            "edits": [
                {"path": e.path, "start": e.start, "end": e.end, "text": e.text}
                for e in finding.fix.edits
            ],
        },
        "related": [
            {"path": r.path, "line": r.line, "service": r.service, "message": r.message}
            for r in finding.related
        ],
    }


def json_report(result: ScanResult, registry: Registry, notes: Sequence[str] = ()) -> str:
    data = {
        "version": __version__,
        "services": _service_count(result),
        "rules": [r.code for r in result.rules],
        "findings": [finding_json(f) for f in result.findings],
        "suppressed": len(result.suppressed),
        "baselined": len(result.baselined),
        "notes": list(notes),
    }
    return json.dumps(data, indent=2) + "\n"


def sarif_report(result: ScanResult, registry: Registry, notes: Sequence[str] = ()) -> str:
    """SARIF 2.1.0; cross-service findings carry `relatedLocations` in the other service's file."""
    rules = sorted({r.code: r for r in result.rules}.values(), key=lambda r: r.code)
    index = {r.code: i for i, r in enumerate(rules)}
    descriptors = []
    for rule in rules:
        descriptors.append(
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary() or rule.name},
                "fullDescription": {"text": rule.docs() or rule.name},
                "help": {"text": rule.docs() or rule.name, "markdown": rule.docs() or rule.name},
                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                "properties": {"severity": rule.severity.value, "fix": rule.fix.value},
            }
        )
    results = []
    for finding in result.findings:
        entry: dict[str, object] = {
            "ruleId": finding.code,
            "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [_sarif_location(finding.path, finding.line, finding.column)],
            "partialFingerprints": {"passmuster/v1": finding.fingerprint},
            "properties": {"severity": finding.severity.value, "service": finding.service},
        }
        if finding.code in index:
            entry["ruleIndex"] = index[finding.code]
        if finding.related:
            entry["relatedLocations"] = [
                {
                    "id": number,
                    **_sarif_location(r.path, r.line, r.column),
                    "message": {
                        "text": r.message or (f"in service {r.service}" if r.service else r.path)
                    },
                }
                for number, r in enumerate(finding.related, start=1)
            ]
        results.append(entry)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "passmuster",
                        "version": __version__,
                        "informationUri": "https://github.com/passmuster/passmuster",
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {"ROOT": {"uri": result.platform.root.as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _sarif_location(path: str, line: int | None, column: int | None) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": {"uri": path, "uriBaseId": "ROOT"}}
    if line is not None and line > 0:
        region: dict[str, int] = {"startLine": line}
        if column is not None and column > 0:
            region["startColumn"] = column
        physical["region"] = region
    return {"physicalLocation": physical}


def github_report(result: ScanResult, registry: Registry, notes: Sequence[str] = ()) -> str:
    """GitHub Actions workflow commands: one `::error file=…,line=…::` annotation per finding."""
    lines = []
    for finding in result.findings:
        level = _GITHUB_LEVEL[_SARIF_LEVEL[finding.severity]]
        props = [f"file={_escape_property(finding.path)}"]
        if finding.line is not None:
            props.append(f"line={finding.line}")
        if finding.column is not None:
            props.append(f"col={finding.column}")
        props.append(f"title={_escape_property(finding.code)}")
        lines.append(f"::{level} {','.join(props)}::{_escape_data(finding.message)}")
    return escape_controls("\n".join(lines) + ("\n" if lines else ""))


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


REPORTERS: dict[str, Reporter] = {
    "text": text_report,
    "concise": concise_report,
    "json": json_report,
    "sarif": sarif_report,
    "github": github_report,
}
