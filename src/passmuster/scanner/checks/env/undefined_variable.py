from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.rule import Rule, unique


class UndefinedVariable(Rule):
    """## What it does
    Flags a `${VAR}` (or `$VAR`) in a compose file that has no default (`${VAR:-default}`),
    is not required with a message (`${VAR:?message}`), and is defined in no env file of the
    repository (`.env`, `.env.example`, any `*.env`).

    ## Why is this bad?
    Compose substitutes an empty string and only warns (`The "JWT_SECRET" variable is not
    set. Defaulting to a blank string.`), so the service starts with an empty secret, port
    or URL and fails later in a confusing way.

    ## Example
    ```yaml
    services:
      identity:
        environment:
          JWT_SECRET: ${JWT_SECRET}
    ```
    with no `JWT_SECRET=` line in `.env` or `.env.example`.

    ## How to fix
    Document the variable in `.env.example`, give it a default (`${LOG_LEVEL:-info}`), or make
    it required with a message (`${JWT_SECRET:?set JWT_SECRET in .env}`).
    """

    code = "ENV001"
    name = "undefined-variable"
    severity = Severity.MEDIUM
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterator[Finding]:
        return unique(self._check(platform))

    def _check(self, platform: Platform) -> Iterator[Finding]:
        defined: set[str] = set()
        for env_file in platform.env_files.values():
            defined.update(entry.key for entry in env_file.entries)
        for path, compose in sorted(platform.compose_files.items()):
            reported: set[str] = set()
            for use, line in compose.variables:
                if use.operator is not None or use.is_set or use.name in defined:
                    continue
                if use.name in reported:
                    continue
                reported.add(use.name)
                # The service whose definition starts last before the line holds it.
                owner = None
                for name, start in sorted(compose.service_lines.items(), key=lambda i: i[1]):
                    if start <= line:
                        owner = name
                yield self.finding(
                    f"${{{use.name}}} has no default and no env file defines it; compose "
                    f"substitutes an empty string",
                    path,
                    line,
                    service=owner,
                    key=use.name,
                )
