"""When each service last changed: the newest commit touching its folder, read with dulwich
from the repository's object database (no git is run).

One walk down the first-parent history from HEAD answers every service at once: a folder
changed in a commit when its tree id differs from the first parent's. Tree ids are looked up one
path component at a time and remembered, so an unchanged `services/` tree costs nothing per
commit; the walk stops when every folder is placed or after `max_commits`. A merge counts as
the change it brought to the first-parent line (its own time), as `git log --first-parent` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MAX_COMMITS = 20_000


@dataclass(frozen=True, slots=True)
class Change:
    commit: str
    at: datetime  # committer time, UTC


def last_changes(
    root: Path, folders: Mapping[str, str], *, max_commits: int = MAX_COMMITS
) -> dict[str, Change]:
    """For each name, the newest commit that changed its folder (a path relative to `root`).

    Names whose folder is not in HEAD, or did not change within the walked history (a shallow
    clone), are left out; so is everything when `root` is not in a git repository.
    """
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        repo = Repo.discover(str(root))
    except (NotGitRepository, OSError, ValueError):
        return {}
    try:
        return _walk(repo, root, folders, max_commits)
    except (KeyError, OSError, ValueError, AssertionError):
        return {}  # a damaged or partial repository: no versions rather than a failed deploy
    finally:
        repo.close()


def _walk(
    repo: object, root: Path, folders: Mapping[str, str], max_commits: int
) -> dict[str, Change]:
    from dulwich.objects import Commit, Tree
    from dulwich.repo import Repo

    assert isinstance(repo, Repo)
    base = Path(repo.path).resolve()
    try:
        prefix = root.resolve().relative_to(base)
    except ValueError:
        return {}
    paths: dict[str, tuple[bytes, ...]] = {}
    for name, folder in folders.items():
        relative = (prefix / folder).as_posix().strip("/")
        parts = tuple(p.encode() for p in relative.split("/") if p and p != ".")
        paths[name] = parts
    children: dict[tuple[bytes, bytes], bytes | None] = {}

    def entry(tree_id: bytes, parts: tuple[bytes, ...]) -> bytes | None:
        current: bytes | None = tree_id
        for part in parts:
            if current is None:
                return None
            key = (current, part)
            if key not in children:
                obj = repo[current]
                found = None
                if isinstance(obj, Tree):
                    try:
                        _, found = obj[part]
                    except KeyError:
                        found = None
                children[key] = found
            current = children[key]
        return current

    try:
        head = repo.head()
    except KeyError:
        return {}
    commit = repo[head]
    if not isinstance(commit, Commit):
        return {}
    seen = {name: entry(commit.tree, parts) for name, parts in paths.items()}
    pending = {name for name, found in seen.items() if found is not None}
    result: dict[str, Change] = {}
    walked = 0
    while pending and walked < max_commits:
        parent = None
        if commit.parents:
            try:
                candidate = repo[commit.parents[0]]
            except KeyError:  # a shallow clone ends here
                candidate = None
            parent = candidate if isinstance(candidate, Commit) else None
        if parent is None and commit.parents:
            break
        when = datetime.fromtimestamp(commit.commit_time, UTC)
        for name in sorted(pending):
            before = entry(parent.tree, paths[name]) if parent is not None else None
            if before != seen[name]:
                result[name] = Change(commit.id.decode(), when)
                pending.discard(name)
        if parent is None:
            break
        commit = parent
        walked += 1
    return result
