from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from passmuster.core.findings import Edit, Finding, Fix, Fixit, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, Requirement
from passmuster.scanner.facts.paths import is_under, parent, relative
from passmuster.scanner.facts.requirement_sets import included_files, requirements_index
from passmuster.scanner.rule import Rule, reported_once


class CopiedSharedRequirements(Rule):
    """## What it does
    Flags a service requirements file that repeats the packages of a shared requirements file
    (one other files include with `-r`, or one named like `requirements.shared.txt`) instead of
    including it.

    ## Why is this bad?
    The copy stops following the shared file: the next upgrade of the shared pins misses this
    service, and versions drift apart service by service until two services can no longer talk
    to each other or install together.

    ## Example
    ```text
    # services/identity/requirements.txt
    fastapi==0.116.1
    pydantic==2.11.7
    sqlalchemy==2.0.41
    asyncpg==0.29.0
    ```
    while `requirements.shared.txt` holds the first three lines.

    ## How to fix
    Replace the copied lines with an include and keep only the service's own packages:
    ```text
    -r ../requirements.shared.txt
    asyncpg==0.29.0
    ```
    `passmuster scan --fix` does this when every copied line is identical to the shared one and
    the shared file is inside the service's build context; otherwise the fix is offered as
    unsafe (`--unsafe-fixes`), because it changes versions or needs the build context widened.

    ## Configuration
    ```toml
    [scan.options.REQ001]
    min-lines = 3       # copied packages needed before the rule fires
    min-share = 0.5     # ... and at least this share of the shared file's packages
    ```
    """

    code = "REQ001"
    name = "copied-shared-requirements"
    severity = Severity.HIGH
    fix = Fix.SAFE
    default_options: ClassVar[Mapping[str, Any]] = {"min_lines": 3, "min_share": 0.5}

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        index = requirements_index(platform)
        if not index.shared:
            return
        shared_names = [(file, {r.name: r for r in file.requirements}) for file in index.shared]
        reported: set[tuple[str, str]] = set()
        for service in platform.every_service():
            installed = included_files(platform, service)
            for own_path in service.requirement_files:
                own = platform.requirements_files.get(own_path)
                if own is None:
                    continue
                for shared, by_name in shared_names:
                    if shared.path == own_path or shared.path in installed or not by_name:
                        continue
                    if (own_path, shared.path) in reported:
                        continue
                    copied = [r for r in own.requirements if r.name in by_name]
                    # `pydantic` and `pydantic[email]` on two lines are one package.
                    count = len({r.name for r in copied})
                    needed = min(int(self.options["min_lines"]), len(by_name))
                    share = count / len(by_name)
                    if count < needed or share < float(self.options["min_share"]):
                        continue
                    reported.add((own_path, shared.path))
                    first = copied[0]
                    include = relative(parent(own_path), shared.path)
                    yield self.finding(
                        f"{count} of {len(by_name)} packages of {shared.path} are copied "
                        f"here instead of included; use `-r {include}`",
                        own_path,
                        first.line,
                        service=service.name,
                        related=[
                            Location(shared.path, by_name[first.name].line, message="shared file")
                        ],
                        fix=self._fix(
                            platform, own_path, shared.path, copied, by_name, service.build_context
                        ),
                        key=shared.path,
                    )

    def _fix(
        self,
        platform: Platform,
        own_path: str,
        shared_path: str,
        copied: list[Requirement],
        shared: dict[str, Requirement],
        context: str | None,
    ) -> Fixit:
        include = relative(parent(own_path), shared_path)
        edits = [
            Edit(
                own_path,
                req.line,
                req.line,
                f"-r {include}" if index == 0 else "",
                expected=platform.line_text(own_path, req.line),
            )
            for index, req in enumerate(copied)
        ]
        identical = all(
            req.specifier == shared[req.name].specifier
            and req.extras == shared[req.name].extras
            and req.marker == shared[req.name].marker
            for req in copied
        )
        inside = context is None or is_under(shared_path, context)
        safe = identical and inside
        why = (
            ""
            if safe
            else (
                " (changes versions to the shared ones)"
                if not identical
                else " (the shared file is outside the build context)"
            )
        )
        return Fixit(
            f"Include {include} instead of the copied lines{why}",
            tuple(edits),
            Fix.SAFE if safe else Fix.UNSAFE,
        )
