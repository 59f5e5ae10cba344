from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import Platform, Requirement
from passmuster.scanner.context.requirements import resolve
from passmuster.scanner.facts.requirement_sets import requirements_index
from passmuster.scanner.facts.versions import compatible, describe
from passmuster.scanner.rule import Rule, reported_once


def _spec(req: Requirement) -> SpecifierSet | None:
    try:
        return SpecifierSet(req.specifier)
    except InvalidSpecifier:
        return None


class ConflictingPins(Rule):
    """## What it does
    Flags a package whose requirements within one service cannot all hold at once: two pins to
    different versions, or a pin outside a range, across the service's own file, the files it
    includes with `-r` and its constraints (`-c`). Every other requirements file of the
    repository (`requirements-dev.txt`, `tests/requirements.txt`, a file no image installs
    but people run pip on) is checked the same way with the files it includes.

    ## Why is this bad?
    pip refuses to install the set ("ResolutionImpossible"), so the image does not build; or,
    when the files are installed in separate steps, the later step silently replaces the
    version the earlier one installed.

    ## Example
    ```text
    # requirements.shared.txt
    requests==2.32.3
    # services/instances/requirements.txt
    -r ../../requirements.shared.txt
    requests==2.31.0
    ```

    ## How to fix
    Keep one requirement per package per service: drop the service's own pin and rely on the
    shared one, or change the shared pin for everyone.
    """

    code = "REQ003"
    name = "conflicting-pins"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        reported: set[tuple[str, int]] = set()
        for service in platform.every_service():
            yield from self._conflicts(
                [*service.requirements, *service.constraints],
                set(service.requirement_files),
                service.name,
                reported,
            )
        # Files no image installs are run by people (`pip install -r requirements-dev.txt`):
        # each file nothing includes is checked with what it includes.
        included = {
            include.resolved
            for file in platform.requirements_files.values()
            for include in file.includes
            if include.resolved is not None
        }
        owners = requirements_index(platform).users
        for path in sorted(platform.requirements_files):
            if path in included:
                continue
            requirements, constraints = resolve(
                [path], platform.requirements_files, lambda _path: None
            )
            users = owners.get(path, [])
            yield from self._conflicts(
                [*requirements, *constraints],
                {path},
                users[0].name if len(users) == 1 else None,
                reported,
            )

    def _conflicts(
        self,
        reqs: list[Requirement],
        own: set[str],
        service: str | None,
        reported: set[tuple[str, int]],
    ) -> Iterator[Finding]:
        grouped: dict[str, list[tuple[Requirement, SpecifierSet]]] = defaultdict(list)
        for req in reqs:
            spec = _spec(req)
            if spec is not None and len(spec) and not req.marker and not req.url:
                grouped[req.name].append((req, spec))
        for package, entries in sorted(grouped.items()):
            # Report on the own file's line when it is one of the pair: that is the line its
            # owners control.
            entries.sort(key=lambda entry: (entry[0].path in own, entry[0].path, entry[0].line))
            for index, (req, spec) in enumerate(entries):
                for earlier, earlier_spec in entries[:index]:
                    if (earlier.path, earlier.line) == (req.path, req.line):
                        continue
                    if compatible(earlier_spec, spec) or (req.path, req.line) in reported:
                        continue
                    reported.add((req.path, req.line))
                    yield self.finding(
                        f"{package} {describe(spec)} conflicts with {describe(earlier_spec)} "
                        f"at {earlier.path}:{earlier.line}; no version satisfies both",
                        req.path,
                        req.line,
                        service=service,
                        related=[Location(earlier.path, earlier.line, message="conflicting pin")],
                        key=f"{package} {req.path}",
                    )
                    break
