from __future__ import annotations

import re
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule

# Key formats providers issue, each specific enough that a match is a key, not a word.
_PROVIDER_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{40,})\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{20,}\b")),
    ("a Stripe live key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}\b")),
    ("a SendGrid key", re.compile(r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b")),
    ("an OpenAI or Anthropic key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{32,}\b")),
)
# Words that mark a value as a placeholder written to look like a key.
_PLACEHOLDER = re.compile(r"(your|xxxx|example|placeholder|change|replace|here|dummy|fake)", re.I)


class CommittedApiKey(Rule):
    """## What it does
    Flags a provider's API key committed to the repository: a value in an env file (`.env`,
    `.env.example`, an `env_file`) or in a compose `environment:` that has the format a
    provider issues keys in (Google `AIza…`, AWS `AKIA…`, GitHub `ghp_…`, Slack `xox…-`,
    Stripe `sk_live_…`, SendGrid `SG.…`, OpenAI/Anthropic `sk-…`). Values written to look
    like a key (`sk-your-key-here`, `AIzaXXXX…`) are left alone, and so are files the
    repository's `.gitignore` keeps out of version control. One key committed in several
    places is one finding listing them.

    ## Why is this bad?
    Anyone who can read the repository, its forks and its history can spend the account's
    quota or read its data; bots harvest public repositories for these formats within
    minutes. Deleting the line does not help: the key stays in the history.

    ## Example
    ```text
    GEMINI_API_KEY=AIzaSyD4...   # a real key, 39 characters
    ```

    ## How to fix
    Revoke the key with the provider, then load it from the environment or a secret store
    (`GEMINI_API_KEY=${GEMINI_API_KEY:?set it}` in compose, a placeholder in
    `.env.example`).
    """

    code = "ENV008"
    name = "committed-api-key"
    severity = Severity.CRITICAL
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterator[Finding]:
        # key value -> (what, [(path, line, variable)]) in the order found
        places: dict[str, tuple[str, list[tuple[str, int | None, str, str | None]]]] = {}

        def note(
            value: str, path: str, line: int | None, variable: str, service: str | None
        ) -> None:
            for what, pattern in _PROVIDER_KEYS:
                for match in pattern.finditer(value):
                    key = match.group(0)
                    if _PLACEHOLDER.search(key) or len(set(key)) < 12:
                        continue
                    entry = places.setdefault(key, (what, []))
                    if all((p, n) != (path, line) for p, n, _, _ in entry[1]):
                        entry[1].append((path, line, variable, service))

        owners: dict[str, str] = {}
        for service in platform.services:
            for file, _, _ in service.env_files:
                owners.setdefault(file, service.name)
        for path, env_file in sorted(platform.env_files.items()):
            for entry in env_file.entries:
                note(entry.value, path, entry.line, entry.key, owners.get(path))
        for service in platform.services:
            for name, var in service.env.items():
                if var.origin == "environment" and var.value and var.template is None:
                    note(var.value, var.path, var.line, name, service.name)
        for what, found in places.values():
            (path, line, variable, owner), *rest = found
            also = f", and in {len(rest)} more place{'s' if len(rest) > 1 else ''}" if rest else ""
            yield self.finding(
                f"{variable} holds {what} committed to the repository (value masked){also}; "
                f"revoke it and load it from the environment or a secret store",
                path,
                line,
                service=owner,
                related=[Location(p, n, message=v, service=o) for p, n, v, o in rest],
                key=f"{variable}:{path}",
            )
