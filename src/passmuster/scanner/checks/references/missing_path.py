from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from pathlib import PurePosixPath

from passmuster.core.findings import Finding, Fix
from passmuster.core.issues import Severity
from passmuster.scanner.context.copies import copied_from, copies_before, landings
from passmuster.scanner.context.model import Platform, ServiceDef
from passmuster.scanner.facts.requirement_sets import included_files
from passmuster.scanner.rule import Rule, reported_once


class MissingPath(Rule):
    """## What it does
    Flags a path a compose service refers to that does not exist in the repository: an
    `env_file` (unless marked `required: false`), a `build` context, a `dockerfile`, the
    source of a relative bind mount (`./config:/etc/app`), or a `-r`/`-c` include in a
    requirements file the service installs. An env file or bind-mount source that a
    `.gitignore` lists is left alone: it is kept out of the repository on purpose (a local
    `.env`, a `logs/` folder written at run time); so is a missing bind-mounted folder
    (certificates and data folders are provisioned on the host): the mounts reported are of
    files (`./nginx.conf:/etc/nginx/nginx.conf`), where Docker puts an empty folder. With no
    `dockerfile:` given, a lowercase `dockerfile` in the context is the one Docker builds.

    ## Why is this bad?
    `docker compose up` fails on a missing env file or build context, `pip install` on a
    missing include. A missing bind-mount source is worse: Docker creates an empty
    directory in its place, so the service starts with an empty config folder, or with a
    folder where it expected a file.

    ## Example
    ```yaml
    services:
      billing:
        build: ./services/billing-service      # the folder is services/billing
        env_file: .env.billing
        volumes:
          - ./config/billing.yml:/app/config.yml
    ```

    A path that exists with other capitals (`DockerFile`, `services/Billing`) is reported with
    the name it has: it works on a laptop whose file system ignores case and fails on Linux and
    in Docker's build, which do not.

    ## How to fix
    Correct the path, commit the missing file (an `.env.example` copied in CI), or remove the
    reference.
    """

    code = "REF002"
    name = "missing-path"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        reported: set[tuple[str, int | None, str]] = set()

        def once(path: str, line: int | None, what: str) -> bool:
            key = (path, line, what)
            if key in reported:
                return False
            reported.add(key)
            return True

        for service in platform.services:
            for file, where, exists in service.env_files:
                if exists or platform.gitignored(file) or platform.in_absent_submodule(file):
                    continue  # a local file kept out of the repository on purpose
                if once(where.path, where.line, file):
                    yield self.finding(
                        f"env_file {file} does not exist{_case_twin(platform, file)}",
                        where.path,
                        where.line,
                        service=service.name,
                        key=f"env_file:{file}",
                    )
            build = service.build_where
            outside = build is not None and service.build_context is None
            # A submodule this clone does not hold: the code is elsewhere, not missing.
            elsewhere = platform.in_absent_submodule(service.build_context or "")
            if (
                build is not None
                and not service.build_context_exists
                and not outside
                and not elsewhere
            ):
                context = service.build_context or "(outside the repository)"
                if once(build.path, build.line, context):
                    yield self.finding(
                        f"build context {context} does not exist"
                        f"{_case_twin(platform, service.build_context)}",
                        build.path,
                        build.line,
                        service=service.name,
                        key=f"build:{context}",
                    )
            elif (
                service.dockerfile_path is not None
                and service.dockerfile is None
                and service.build_context_exists
                and not platform.abspath(service.dockerfile_path).is_file()
                and not platform.in_absent_submodule(service.dockerfile_path)
            ):
                at = service.dockerfile_where or build
                if at is not None and once(at.path, at.line, service.dockerfile_path):
                    yield self.finding(
                        f"Dockerfile {service.dockerfile_path} does not exist"
                        f"{_case_twin(platform, service.dockerfile_path)}",
                        at.path,
                        at.line,
                        service=service.name,
                        key=f"dockerfile:{service.dockerfile_path}",
                    )
            for path in sorted(included_files(platform, service)):
                listing = platform.requirements_files.get(path)
                for include in listing.includes if listing is not None else ():
                    if (
                        include.exists
                        or include.resolved is None
                        or platform.in_absent_submodule(include.resolved)
                    ):
                        continue  # outside the repository: REQ008 speaks for those
                    if _found_in_image(platform, service, include.path, include.target):
                        continue  # written for where the Dockerfile puts it, and there
                    if once(include.path, include.line, include.resolved):
                        yield self.finding(
                            f"includes {include.target}, which does not exist"
                            f"{_case_twin(platform, include.resolved)}",
                            include.path,
                            include.line,
                            service=service.name,
                            key=f"include:{include.resolved}",
                        )
            for volume in service.volumes:
                if volume.type != "bind" or volume.resolved is None:
                    continue
                if (
                    platform.abspath(volume.resolved).exists()
                    or platform.gitignored(volume.resolved)
                    or platform.in_absent_submodule(volume.resolved)
                ):
                    continue  # present, or generated at run time (logs/, data/) on purpose
                if not _looks_like_file(volume.resolved, volume.target):
                    continue  # a folder provisioned on the host (certificates, data, logs)
                if once(volume.path, volume.line, volume.resolved):
                    yield self.finding(
                        f"bind mount source {volume.source} does not exist"
                        f"{_case_twin(platform, volume.resolved)}; Docker would "
                        f"create an empty directory there",
                        volume.path,
                        volume.line,
                        service=service.name,
                        key=f"bind:{volume.resolved}",
                    )


def _looks_like_file(source: str, target: str) -> bool:
    """A bind mount of a file (`./nginx.conf:/etc/nginx/nginx.conf`): Docker puts an empty
    folder where the program expects a file. A missing folder is often provisioned on the
    host (certificates, logs) and an empty one breaks nothing at start."""
    name = PurePosixPath(source).name
    target_name = PurePosixPath(target.split(":", 1)[0]).name
    return "." in name.lstrip(".") or "." in target_name.lstrip(".")


def _case_twin(platform: Platform, path: str | None) -> str:
    """`; DockerFile exists: …` when the folder holds the missing file or folder under other
    capitals, else nothing."""
    if not path:
        return ""
    wanted = PurePosixPath(path)
    try:
        names = os.listdir(platform.abspath(str(wanted.parent)))
    except OSError:
        return ""
    lower = wanted.name.lower()
    twins = sorted(n for n in names if n.lower() == lower and n != wanted.name)
    if not twins:
        return ""
    twin = (wanted.parent / twins[0]).as_posix()
    return f"; {twin} exists: the names differ in case, which Linux and Docker's build tell apart"


def _found_in_image(platform: Platform, service: ServiceDef, path: str, target: str) -> bool:
    """Whether the include `target` of requirements file `path` names, inside the image where
    the service's Dockerfile copies `path` before a `pip install`, a file a COPY put there
    (`COPY shared/ /app/shared/` beside `/app/requirements.txt` for `-r shared/...`)."""
    dockerfile, context = service.dockerfile, service.build_context
    if dockerfile is None or context is None:
        return False
    relative = path if context in ("", ".") else posixpath.relpath(path, context)
    if relative.startswith(".."):
        return False
    for install in dockerfile.pip_installs:
        stage = dockerfile.stages[install.stage]
        for spot in landings(copies_before(stage, install.line), relative):
            wanted = posixpath.normpath(posixpath.join(posixpath.dirname(spot), target))
            if (
                copied_from(
                    stage, install.line, wanted, context, lambda p: platform.abspath(p).is_file()
                )
                is not None
            ):
                return True
    return False
