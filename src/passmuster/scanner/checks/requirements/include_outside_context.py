from __future__ import annotations

from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform
from passmuster.scanner.facts.paths import is_under
from passmuster.scanner.rule import Rule, reported_once


class IncludeOutsideBuildContext(Rule):
    """## What it does
    Flags a `-r`/`-c` include, in a requirements file a service builds from, whose target lies
    outside that service's Docker build context.

    ## Why is this bad?
    Docker only sends the build context to the builder. The service's requirements file is
    copied into the image, but the file it includes cannot be (`COPY ../x` is not allowed), so
    `pip install -r requirements.txt` fails inside the build with
    `Could not open requirements file`, while it works on a developer's machine.

    ## Example
    ```yaml
    services:
      identity:
        build: ./services/identity     # context: services/identity
    ```
    ```text
    # services/identity/requirements.txt
    -r ../../requirements.shared.txt
    ```

    ## How to fix
    Widen the build context to a folder holding both files and name the Dockerfile:
    ```yaml
        build:
          context: .
          dockerfile: services/identity/Dockerfile
    ```
    and copy the shared file into the image before installing.
    """

    code = "REQ008"
    name = "include-outside-build-context"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        seen: set[tuple[str, str, int]] = set()
        for service in platform.services:
            context = service.build_context
            if context is None or service.dockerfile is None:
                continue
            pending = [p for p in service.requirement_files if is_under(p, context)]
            visited: set[str] = set()
            while pending:
                path = pending.pop()
                if path in visited:
                    continue
                visited.add(path)
                file = platform.requirements_files.get(path)
                if file is None:
                    continue
                for include in file.includes:
                    target = include.resolved
                    if target is not None and is_under(target, context):
                        pending.append(target)
                        continue
                    key = (service.name, include.path, include.line)
                    if key in seen:
                        continue
                    seen.add(key)
                    shown = target or include.target
                    yield self.finding(
                        f"includes {shown}, outside the build context {context} of "
                        f"{service.name}; the image build cannot copy it",
                        include.path,
                        include.line,
                        service=service.name,
                        related=[
                            Location(
                                service.build_where.path if service.build_where else service.path,
                                service.build_where.line if service.build_where else service.line,
                                message=f"build context {context}",
                                service=service.name,
                            )
                        ],
                        key=include.target,
                    )
