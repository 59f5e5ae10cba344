"""What others write reaches a coordinator's terminal safely, and the CLI fails cleanly where
the system does: each attack here was once made (escape sequences in issue text, a template
reaching Python's internals, a full disk, a read-only file system, bytes that are not UTF-8)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from passmuster.core.issues import IssueDraft
from passmuster.core.visible import escape_controls
from passmuster.usecases.desk import Desk
from tests.cli.helpers import Run

CLEAR = "\x1b[2J\x1b[H"
TITLE_BAR = "\x1b]0;you have been pwned\x07"
HIDDEN_LINK = "\x1b]8;;https://evil.example/\x1b\\innocent docs\x1b]8;;\x1b\\"
HOSTILE_TITLE = f"Checkout fails{CLEAR}{TITLE_BAR} on retry"
HOSTILE_BODY = f"See {HIDDEN_LINK} and [the runbook](https://evil.example/run)\rOVERWRITTEN\x9b31m"


def _file_hostile(folder: Path) -> None:
    with Desk.open(folder) as desk:
        issue = desk.file(
            IssueDraft(
                title=HOSTILE_TITLE,
                description=HOSTILE_BODY,
                error_details=[f"KeyError: cart{CLEAR}"],
                services=["billing"],
            ),
            actor="mallory",
        )
        desk.comment(issue.number, f"me too{TITLE_BAR}", actor="mallory")


def _no_control_bytes(text: str) -> None:
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    assert "\r" not in text.replace("\r\n", "")


def test_escape_controls_shows_every_control_and_keeps_plain_text() -> None:
    assert escape_controls("plain\ttext\nline") == "plain\ttext\nline"
    assert escape_controls("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape_controls("c1\x9bx del\x7f nul\x00") == "c1\\x9bx del\\x7f nul\\x00"
    assert escape_controls("crlf\r\nlone\rcr") == "crlf\nlone\\x0dcr"
    assert escape_controls("bidi \u202egnp.exe") == "bidi \\u202egnp.exe"


@pytest.mark.parametrize(
    "args",
    [["list"], ["show", "1"], ["search", "Checkout"], ["ready"], ["export"], ["sla"]],
    ids=["list", "show", "search", "ready", "export", "sla"],
)
def test_issue_text_reaches_the_terminal_with_controls_visible(
    desk_folder: Path, run: Run, args: list[str]
) -> None:
    _file_hostile(desk_folder)
    shown = run(*args).stdout
    _no_control_bytes(shown)
    if args[0] in ("list", "show", "search", "ready", "export"):
        assert "\\x1b[2J" in shown  # visible, not swallowed


def test_show_prints_where_a_markdown_link_goes(desk_folder: Path, run: Run) -> None:
    _file_hostile(desk_folder)
    shown = run("show", "1").stdout
    assert "https://evil.example/run" in shown


def test_the_stored_text_stays_exact_and_json_keeps_it(desk_folder: Path, run: Run) -> None:
    import json

    _file_hostile(desk_folder)
    with Desk.open(desk_folder) as desk:
        assert desk.get(1).title == HOSTILE_TITLE
        assert desk.get(1).description == HOSTILE_BODY
    data = json.loads(run("show", "1", "--json").stdout)
    assert data["issue"]["title"] == HOSTILE_TITLE  # JSON escapes it its own way: \u001b


def test_export_to_a_file_writes_controls_visibly(desk_folder: Path, run: Run) -> None:
    _file_hostile(desk_folder)
    run("export", "-o", "ISSUES.md")
    text = (desk_folder / "ISSUES.md").read_text(encoding="utf-8")
    _no_control_bytes(text)
    assert "\\x1b]8;;https://evil.example/\\x1b\\innocent docs" in text
    run("export", "-o", "ISSUES.md", "--check")  # the check compares the same escaped text


def test_scan_reports_show_a_repositorys_control_characters(tmp_path: Path) -> None:
    root = tmp_path / "platform"
    root.mkdir()
    # "\e" in a double-quoted YAML string is ESC.
    (root / "docker-compose.yml").write_text(
        'services:\n  api:\n    image: "python:3.12\\e[2J"\n    ports: ["80:80"]\n'
        '  web:\n    image: nginx\n    ports: ["80:81"]\n'
    )
    for fmt in ("text", "concise", "github"):
        done = subprocess.run(
            [sys.executable, "-m", "passmuster", "scan", str(root), "--no-record", "-f", fmt],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, done.stderr
        _no_control_bytes(done.stdout)


def test_an_export_template_cannot_reach_python(desk_folder: Path, run: Run) -> None:
    template = desk_folder / "evil.md.jinja"
    template.write_text(
        "{{ cycler.__init__.__globals__.os.popen('echo PWNED-$((6*7))').read() }}\n"
        "{{ ''.__class__.__mro__[1].__subclasses__() }}\n"
    )
    result = run("export", "--template", str(template), code=2)
    assert "PWNED-42" not in result.output
    assert "template" in result.stderr


def test_an_argument_that_is_not_utf8_is_refused_on_one_line(desk_folder: Path) -> None:
    bad = os.fsdecode(b"\xfe\xff")
    done = subprocess.run(
        [sys.executable, "-m", "passmuster", "list", "--service", bad],
        cwd=desk_folder,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr
    assert b"argument 3 is not UTF-8 text: \\xfe\\xff" in done.stderr


# --- the file system failing under the desk (a private mount namespace, as root) -----------

_UNSHARE = shutil.which("unshare")


def _in_private_mount(script: str, tmp_path: Path) -> str:
    """Run `script` (sh) with a 1 MiB tmpfs at $MNT in a private mount namespace."""
    if _UNSHARE is None:
        pytest.skip("no unshare here")
    probe = subprocess.run(
        [_UNSHARE, "-m", "sh", "-c", f"mount -t tmpfs tmpfs {tmp_path}"],
        capture_output=True,
        timeout=30,
    )
    if probe.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root or user namespaces)")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = {
        **os.environ,
        "MNT": str(mnt),
        "PM": f"{sys.executable} -m passmuster",
        "PASSMUSTER_ACTOR": "alice",
    }
    env.pop("PASSMUSTER_DATABASE_URL", None)
    done = subprocess.run(
        [
            _UNSHARE,
            "-m",
            "sh",
            "-c",
            f"mount -t tmpfs -o size=1m tmpfs $MNT && cd $MNT && {script}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_import_on_a_full_disk_exits_5_and_keeps_what_was_there(tmp_path: Path) -> None:
    log = tmp_path / "big.md"
    issues = [f"## Issue {i}\n\n**Severity:** high\n\n{'x' * 3000}\n" for i in range(600)]
    log.write_text("# Log\n\n" + "\n".join(issues))
    out = _in_private_mount(
        "$PM init >/dev/null && $PM new 'Kept before the disk filled' >/dev/null && "
        f"$PM import {log}; echo rc=$?; $PM list",
        tmp_path,
    )
    assert "the disk holding the desk is full; nothing was written" in out
    assert "rc=5" in out
    assert "Kept before the disk filled" in out  # the desk after the failed import


def test_export_to_a_full_disk_fails_cleanly_and_leaves_no_temporary(
    desk_folder: Path, run: Run, tmp_path: Path
) -> None:
    run("new", "Something to export", "-S", "high")
    out = _in_private_mount(
        "dd if=/dev/zero of=$MNT/filler bs=64k 2>/dev/null; "
        f"cd {desk_folder} && $PM export -o $MNT/ISSUES.md; echo export-rc=$?; ls -a $MNT",
        tmp_path,
    )
    assert "export-rc=2" in out and "No space left on device" in out
    assert ".ISSUES.md.tmp" not in out


def test_a_desk_on_a_read_only_file_system_reads_and_refuses_writes(tmp_path: Path) -> None:
    out = _in_private_mount(
        "$PM init >/dev/null && $PM new 'Readable on read-only media' -S high >/dev/null && "
        "mount -o remount,ro $MNT && "
        "$PM list; echo list-rc=$?; $PM show 1 >/dev/null; echo show-rc=$?; "
        "$PM export | head -3; $PM new 'More'; echo new-rc=$?",
        tmp_path,
    )
    assert "Readable on read-only media" in out
    assert "list-rc=0" in out and "show-rc=0" in out
    assert "the desk is read-only" in out and "new-rc=5" in out
