from __future__ import annotations

import posixpath
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.copies import (
    Copy,
    copies_before,
    edited_before,
    landings,
    workdir_at,
)
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.facts.paths import is_under
from passmuster.scanner.rule import Rule, reported_once


def _in_context(path: str, context: str) -> str:
    return path if context in ("", ".") else posixpath.relpath(path, context)


class IncludeNotCopied(Rule):
    """## What it does
    Flags a `-r`/`-c` include, in a requirements file a Dockerfile installs with
    `pip install -r`, whose target the Dockerfile does not copy to the place the include
    points at inside the image. pip resolves an include relative to the including file, so
    `-r ../../requirements.shared.txt` in `/app/services/api/requirements.txt` needs
    `/app/requirements.shared.txt`.

    Paths are followed through the stage's `WORKDIR` and `COPY`/`ADD` lines before the
    `pip install`. A requirements file a `RUN sed -i` (or `perl -pi`) rewrites in the image
    before the install is left alone: its includes are no longer the committed ones.
    Includes outside the build context are REQ008's.

    ## Why is this bad?
    The build stops at `pip install` with `Could not open requirements file:
    [Errno 2] No such file or directory: '/app/requirements.shared.txt'`, although the shared
    file is in the build context and even copied, just somewhere else.

    ## Example
    ```dockerfile
    WORKDIR /app
    COPY requirements.shared.txt /requirements.shared.txt
    COPY services/api/requirements.txt ./services/api/requirements.txt
    RUN pip install -r services/api/requirements.txt   # includes ../../requirements.shared.txt
    ```

    ## How to fix
    Copy the included file to where the include points, keeping the two files' relative
    layout: `COPY requirements.shared.txt ./requirements.shared.txt`.
    """

    code = "REQ009"
    name = "include-not-copied"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for service in platform.every_service():
            dockerfile = service.dockerfile
            context = service.build_context
            if dockerfile is None or context is None:
                continue
            for install in dockerfile.pip_installs:
                if not install.requirement_files:
                    continue
                stage = dockerfile.stages[install.stage]
                workdir = workdir_at(stage, install.line)
                copies = copies_before(stage, install.line)
                for written in install.requirement_files:
                    target = posixpath.normpath(posixpath.join(workdir, written))
                    root = next(
                        (
                            path
                            for path in service.requirement_files
                            if is_under(path, context)
                            and target in landings(copies, _in_context(path, context))
                        ),
                        None,
                    )
                    if root is None or edited_before(stage, install.line, target):
                        continue
                    yield from self._follow(
                        platform, service, context, copies, root, target, install.line, set()
                    )

    def _follow(
        self,
        platform: Platform,
        service: ServiceDef,
        context: str,
        copies: list[Copy],
        path: str,
        in_image: str,
        install_line: int,
        seen: set[str],
    ) -> Iterator[Finding]:
        if path in seen:
            return
        seen.add(path)
        file = platform.requirements_files.get(path)
        dockerfile = service.dockerfile
        if file is None or dockerfile is None:
            return
        for include in file.includes:
            host = include.resolved
            if host is None or not include.exists or not is_under(host, context):
                continue
            wanted = posixpath.normpath(posixpath.join(posixpath.dirname(in_image), include.target))
            spots = landings(copies, _in_context(host, context))
            if wanted in spots:
                yield from self._follow(
                    platform, service, context, copies, host, wanted, install_line, seen
                )
                continue
            flag = "-r" if include.kind == "requirement" else "-c"
            where = (
                f"copies {host} to {', '.join(sorted(spots))}"
                if spots
                else f"never copies {host} before installing"
            )
            yield self.finding(
                f"`{flag} {include.target}` needs {wanted} in the image, but the Dockerfile "
                f"{where}",
                include.path,
                include.line,
                service=service.name,
                related=[
                    Location(
                        dockerfile.path,
                        install_line,
                        message="pip install runs here",
                        service=service.name,
                    )
                ],
                key=f"{include.target}->{wanted}",
            )
