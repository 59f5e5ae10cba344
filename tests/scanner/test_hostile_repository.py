"""A repository is input from anyone who can push to it: each attack here was once made on the
scanner (links out of the tree, FIFOs, devices, huge and deeply nested files, a HEAD pointing
elsewhere). Each must end as a PM001 finding for that file while the rest of the scan goes on."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from passmuster.scanner.config import ScanConfig
from passmuster.scanner.context.reading import ScanTimeout, Unreadable, read_bytes
from passmuster.scanner.engine import ScanResult, scan
from passmuster.scanner.git import git_commit
from tests.scanner.helpers import WriteTree

COMPOSE = """\
services:
  api:
    image: python:3.12
    ports: ["8000:8000"]
  worker:
    image: python:3.12
    ports: ["8000:8001"]
"""


# The api service is built from the repository root: its Python files and pyproject are read.
BUILT = COMPOSE.replace("image: python:3.12\n    ports", "build: .\n    ports", 1)


def _pm001(result: ScanResult) -> dict[str, str]:
    return {f.path: f.message for f in result.findings if f.code == "PM001"}


def _still_scans(result: ScanResult) -> None:
    """The rest of the platform was read and checked: the port clash is still found."""
    assert any(f.code == "PORT001" for f in result.findings)


def _everything(result: ScanResult) -> str:
    return "\n".join(f"{f.path} {f.message}" for f in result.findings) + "\n".join(
        result.platform.texts.values()
    )


def test_a_link_to_a_file_outside_the_repository_is_not_followed(
    write_tree: WriteTree, tmp_path: Path
) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$very-secret-hash:19000:0:99999:7:::\n")
    root = write_tree({"docker-compose.yml": COMPOSE})
    (root / ".env").symlink_to(secret)
    (root / "requirements.txt").symlink_to(secret)
    result = scan(root)
    problems = _pm001(result)
    assert problems[".env"] == "a symbolic link out of the repository; not followed"
    assert "requirements.txt" in problems
    assert "very-secret-hash" not in _everything(result)
    _still_scans(result)


def test_a_folder_link_out_of_the_repository_is_not_followed(
    write_tree: WriteTree, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.env").write_text("API_KEY=very-secret-key\n")
    env_file = '    env_file: conf/secret.env\n    ports: ["8000:8000"]'
    root = write_tree({"docker-compose.yml": COMPOSE.replace('    ports: ["8000:8000"]', env_file)})
    (root / "conf").symlink_to(outside)
    result = scan(root)
    assert "very-secret-key" not in _everything(result)
    assert "conf/secret.env" not in result.platform.texts
    with pytest.raises(Unreadable, match="a symbolic link out of the repository"):
        read_bytes(str(root.resolve()), "conf/secret.env")


def test_a_link_inside_the_repository_is_read(write_tree: WriteTree) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE, "shared/base.env": "LOG_LEVEL=info\n"})
    (root / ".env").symlink_to(root / "shared" / "base.env")
    result = scan(root)
    assert ".env" not in _pm001(result)
    assert result.platform.texts[".env"] == "LOG_LEVEL=info\n"


def test_a_fifo_does_not_hang_the_scan(write_tree: WriteTree) -> None:
    root = write_tree({"docker-compose.yml": BUILT})
    os.mkfifo(root / "requirements.txt")
    os.mkfifo(root / "app.py")
    result = scan(root)  # before: blocked forever opening the FIFO
    problems = _pm001(result)
    assert problems["requirements.txt"] == "not a regular file (a FIFO); not read"
    assert problems["app.py"] == "not a regular file (a FIFO); not read"
    _still_scans(result)


def test_a_device_is_never_opened(write_tree: WriteTree) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE})
    try:  # /dev/zero's numbers: reading it would never end
        os.mknod(root / ".env", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except OSError:
        pytest.skip("cannot create a device node here (not root, or nodev)")
    result = scan(root)
    assert _pm001(result)[".env"] == "not a regular file (a device); not read"
    _still_scans(result)


def test_a_link_to_dev_zero_is_not_followed(write_tree: WriteTree) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE})
    (root / "requirements.txt").symlink_to("/dev/zero")
    result = scan(root)
    assert "not followed" in _pm001(result)["requirements.txt"]
    _still_scans(result)


def test_a_file_over_the_size_limit_is_not_read(write_tree: WriteTree) -> None:
    root = write_tree({"docker-compose.yml": BUILT})
    (root / "big.py").write_text("x = 1\n" * 400_000)  # 2.4 MB
    result = scan(root, ScanConfig(max_file_bytes=1024 * 1024))
    assert _pm001(result)["big.py"] == (
        "larger than 1 MiB; not read (raise [scan] max-file-bytes to read it)"
    )
    assert "big.py" not in result.platform.texts
    _still_scans(result)


def test_the_reader_stops_at_the_limit_even_when_the_size_lies(tmp_path: Path) -> None:
    """A file growing while it is read is cut off at the limit, not read to its end."""
    (tmp_path / "f").write_bytes(b"a" * 5000)
    with pytest.raises(Unreadable, match="larger than 4 KiB"):
        read_bytes(str(tmp_path), "f", max_bytes=4096)
    assert read_bytes(str(tmp_path), "f", max_bytes=5000) == b"a" * 5000


@pytest.mark.parametrize("depth", [1_000, 50_000])
def test_deeply_nested_yaml_is_a_finding(write_tree: WriteTree, depth: int) -> None:
    nested = "x: " + "[" * depth + "]" * depth + "\n"
    root = write_tree({"docker-compose.yml": COMPOSE, "compose.prod.yml": nested})
    result = scan(root)
    assert _pm001(result)["compose.prod.yml"] == "YAML nested deeper than 100 levels"
    _still_scans(result)


def test_deeply_nested_block_yaml_is_a_finding(write_tree: WriteTree) -> None:
    nested = "".join("  " * i + "k:\n" for i in range(1_000)) + "  " * 1_000 + "k: 1\n"
    root = write_tree({"docker-compose.yml": COMPOSE, "compose.dev.yml": nested})
    result = scan(root)
    assert _pm001(result)["compose.dev.yml"] == "YAML nested deeper than 100 levels"
    _still_scans(result)


def test_yaml_aliases_nesting_through_each_other_are_a_finding(write_tree: WriteTree) -> None:
    """Each anchor holds the one before: shallow text, deep values."""
    chain = ["x-a0: &a0 [1]"] + [f"x-a{i}: &a{i} [*a{i - 1}]" for i in range(1, 3_000)]
    root = write_tree({"docker-compose.yml": COMPOSE + "\n".join(chain) + "\n"})
    result = scan(root)
    assert "nested deeper than 100 levels" in _pm001(result)["docker-compose.yml"]


def test_fifty_thousand_levels_of_yaml_do_not_crash_the_process(write_tree: WriteTree) -> None:
    """The attack as made: before, the C composer overflowed the stack (a segfault)."""
    depth = 50_000
    root = write_tree(
        {"docker-compose.yml": COMPOSE, "compose.x.yml": "x: " + "[" * depth + "]" * depth}
    )
    done = subprocess.run(
        [sys.executable, "-m", "passmuster", "scan", str(root), "--no-record", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "compose.x.yml:1: PM001" in done.stdout
    assert "PORT001" in done.stdout
    assert "Traceback" not in done.stderr


def test_deeply_nested_toml_is_a_finding(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": BUILT,
            "pyproject.toml": "x = " + "[" * 5_000 + "]" * 5_000 + "\n",
        }
    )
    result = scan(root)
    assert _pm001(result)["pyproject.toml"] == "invalid TOML: nested too deeply to read"
    _still_scans(result)


@pytest.mark.parametrize(
    "source",
    [
        "x = " + " + ".join(["1"] * 100_000) + "\n",  # a left-deep chain: RecursionError
        "x = " + "not " * 100_000 + "y\n",  # the parser's stack: MemoryError
        "x = y" + ".a" * 900 + "\n",  # parses, but deeper than rules can walk
        "x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n",  # too many parentheses
    ],
    ids=["plus-chain", "not-chain", "attribute-chain", "parentheses"],
)
def test_deeply_nested_python_is_a_finding(write_tree: WriteTree, source: str) -> None:
    root = write_tree({"docker-compose.yml": BUILT, "app.py": "import os\n"})
    (root / "deep.py").write_text(source)
    result = scan(root)
    assert "deep.py" in _pm001(result)
    assert not any(f.code == "PM003" for f in result.findings)  # no rule crashed on it
    _still_scans(result)


def test_a_scan_past_its_time_limit_stops_with_a_clear_error(write_tree: WriteTree) -> None:
    root = write_tree({"docker-compose.yml": COMPOSE})
    with pytest.raises(ScanTimeout, match=r"took longer than 1e-09 s"):
        scan(root, ScanConfig(timeout=1e-9))


def test_the_scan_cli_reports_a_timeout_on_one_line(write_tree: WriteTree) -> None:
    root = write_tree(
        {"docker-compose.yml": COMPOSE, "passmuster.toml": "[scan]\ntimeout = 1e-9\n"}
    )
    done = subprocess.run(
        [sys.executable, "-m", "passmuster", "scan", str(root), "--no-record", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "took longer than" in done.stderr and "Traceback" not in done.stderr


def _git(root: Path, head: str) -> Path:
    (root / ".git" / "refs" / "heads").mkdir(parents=True)
    (root / ".git" / "refs" / "heads" / "main").write_text("a" * 40 + "\n")
    (root / ".git" / "HEAD").write_text(head)
    return root


def test_a_head_pointing_outside_the_git_folder_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("b" * 40 + "\n")  # even a file that looks like a commit id
    repo = _git(tmp_path / "repo", "ref: ../../secret\n")
    assert git_commit(repo) is None
    (repo / ".git" / "HEAD").write_text(f"ref: {secret}\n")
    assert git_commit(repo) is None
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert git_commit(repo) == "a" * 40


def test_a_ref_linking_out_of_the_git_folder_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    repo = _git(tmp_path / "repo", "ref: refs/heads/main\n")
    (repo / ".git" / "refs" / "heads" / "main").unlink()
    (repo / ".git" / "refs" / "heads" / "main").symlink_to(secret)
    assert git_commit(repo) is None


def test_only_a_commit_id_ever_comes_back_from_head(tmp_path: Path) -> None:
    repo = _git(tmp_path / "repo", "root:x:0:0:root:/root:/bin/bash\n")
    assert git_commit(repo) is None
    os.unlink(repo / ".git" / "HEAD")
    os.mkfifo(repo / ".git" / "HEAD")
    assert git_commit(repo) is None  # and does not block on the FIFO
