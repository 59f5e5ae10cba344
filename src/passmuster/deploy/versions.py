"""What a deploy ships: the repository's commit (read from `.git` like the scanner reads it)
and, per service, the last commit touching its folder with that commit's time."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from passmuster.core.deploy.attempts import Version


def service_versions(root: Path, folders: Mapping[str, str | None]) -> dict[str, Version]:
    from passmuster.scanner.git import git_commit
    from passmuster.scanner.history import last_changes

    commit = git_commit(root)
    if commit is None:
        return {name: Version() for name in folders}
    changes = last_changes(root, {n: f for n, f in folders.items() if f})
    return {
        name: Version(
            commit,
            changes[name].commit if name in changes else None,
            changes[name].at if name in changes else None,
        )
        for name in folders
    }
