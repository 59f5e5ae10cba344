"""Rules the scan itself reports: files it could not read and suppressions nothing needed.

The engine produces these findings (no rule can see a file that failed to parse); they are rules
so they can be selected, ignored, suppressed and documented like any other.
"""

from __future__ import annotations

from collections.abc import Iterable

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule


class ParseErrorRule(Rule):
    """## What it does
    Reports a scanned file that could not be read: invalid YAML, a Python syntax error, a
    compose template that does not interpolate, a Dockerfile or TOML file that does not parse.

    ## Why is this bad?
    Docker, compose or Python would fail on the same file, and every other rule is blind to what
    the file says. The scan carries on with the other files.

    Python is read with the syntax of the Python that runs passmuster. A file that does not
    parse there but belongs to a service whose image runs a newer Python (`python:3.13-slim`
    while passmuster runs on 3.11) may use that version's syntax (f-strings that nest their own
    quotes, `type` aliases, `except A, B:`): it is not reported, and `passmuster scan` says on
    stderr which files it could not analyse. Run passmuster on that Python to check them.

    ## Example
    ```yaml
    services:
      api:
        ports: ["8000:8000"
    ```
    reports `PM001 invalid YAML: did not find expected ',' or ']'` at the line it stops.
    """

    code = "PM001"
    name = "parse-error"
    severity = Severity.HIGH
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterable[Finding]:
        return ()


class UnusedSuppression(Rule):
    """## What it does
    Reports a `# passmuster: ignore[CODE]` comment that silenced nothing in this scan, or names a
    code no rule has.

    ## Why is this bad?
    A stale suppression hides the next real problem on that line and tells readers something
    that is no longer true.

    ## Example
    ```text
    requests==2.32.3  # passmuster: ignore[REQ002] pinned for the billing client
    ```
    when REQ002 no longer fires on that line.
    """

    code = "PM002"
    name = "unused-suppression"
    severity = Severity.LOW
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterable[Finding]:
        return ()


class RuleFailed(Rule):
    """## What it does
    Reports a rule that crashed on this platform, with the error, instead of aborting the scan.

    ## Why is this bad?
    It is a bug in passmuster (or a plugin): the rule's checks did not run. Please report it with
    the message.

    ## Example
    `PM003 rule ENV005 failed: KeyError: 'environment'`
    """

    code = "PM003"
    name = "rule-failed"
    severity = Severity.HIGH
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterable[Finding]:
        return ()
