from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.facts.requirement_sets import requirements_index
from passmuster.scanner.rule import Rule, reported_once


class UnparsableRequirement(Rule):
    """## What it does
    Flags a line in a requirements file that pip cannot parse: not a requirement in the PEP 508
    grammar (read with `packaging`, the library pip uses) and not a pip option such as `-r`,
    `-c`, `-e`, `--index-url`, `--extra-index-url`, `--find-links` or `--hash`.

    ## Why is this bad?
    `pip install -r` stops at the line with `Invalid requirement`, so the image build fails,
    usually after a long wait and only in CI or on deploy.

    ## Example
    ```text
    fastapi = 0.116.1
    uvicorn[standard]>=0.30,
    -r: ../requirements.shared.txt
    ```

    ## How to fix
    Write requirements as pip expects them: `fastapi==0.116.1`,
    `uvicorn[standard]>=0.30`, `-r ../requirements.shared.txt`.
    """

    code = "REQ007"
    name = "unparsable-requirement"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        users = requirements_index(platform).users
        for path, file in sorted(platform.requirements_files.items()):
            owners = users.get(path, [])
            for bad in file.invalid:
                yield self.finding(
                    f"pip cannot parse {bad.text.strip()!r}: {bad.message}",
                    bad.path,
                    bad.line,
                    service=owners[0].name if len(owners) == 1 else None,
                    key=bad.text.strip(),
                )
