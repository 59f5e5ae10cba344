"""The two safe fixes: applied, the file re-scanned, the finding gone and the rest intact."""

from __future__ import annotations

import shutil
from pathlib import Path

from passmuster.core.findings import Fix
from passmuster.scanner.fixes import plan_fixes, write_fixes
from tests.scanner.checks.helpers import FIXTURES, ScanTree


def copy(code: str, tmp_path: Path) -> Path:
    tree = tmp_path / code
    shutil.copytree(FIXTURES / code / "bad", tree)
    return tree


def test_httpstatus_import_moves_to_http_keeping_the_other_names(
    scan_tree: ScanTree, tmp_path: Path
) -> None:
    tree = copy("CODE001", tmp_path)
    main = tree / "services/api/app/main.py"
    before = main.read_text().splitlines()
    findings = scan_tree(tree).findings
    fixable = [f for f in findings if f.fix is not None]
    assert [(f.line, f.fix.applicability) for f in fixable if f.fix] == [(1, Fix.SAFE)]

    plan = plan_fixes(tree, findings)
    assert "+from http import HTTPStatus" in plan.diff()
    assert write_fixes(tree, plan) == ["services/api/app/main.py"]

    after = main.read_text().splitlines()
    assert after[:2] == [
        "from fastapi import Depends, FastAPI, Query",
        "from http import HTTPStatus",
    ]
    assert after[2:] == before[1:]
    remaining = [(f.code, f.line) for f in scan_tree(tree).findings]
    assert remaining == [("CODE001", 4)]  # the local `Tenant` import has no fix, and stays


def test_httpstatus_fix_handles_aliases_parentheses_and_indentation(
    scan_tree: ScanTree, tmp_path: Path
) -> None:
    tree = copy("CODE001", tmp_path)
    main = tree / "services/api/app/main.py"
    text = (
        main.read_text()
        .replace(
            "from fastapi import Depends, FastAPI, HTTPStatus, Query\n",
            "try:\n    import orjson\nexcept ImportError:\n    orjson = None\n"
            "if True:\n    from fastapi import (\n        Depends,\n        HTTPStatus as Status,\n"
            "        FastAPI,\n        Query,\n    )\n",
        )
        .replace("HTTPStatus.OK", "Status.OK")
    )
    main.write_text(text)
    write_fixes(tree, plan_fixes(tree, scan_tree(tree).findings))
    fixed = main.read_text()
    assert "    from fastapi import Depends, FastAPI, Query\n" in fixed
    assert "    from http import HTTPStatus as Status\n" in fixed
    assert "from app.models import Tenant, User" in fixed
    assert [f.code for f in scan_tree(tree).findings] == ["CODE001"]


def test_copied_shared_requirements_become_an_include(scan_tree: ScanTree, tmp_path: Path) -> None:
    tree = copy("REQ001", tmp_path)
    findings = scan_tree(tree).findings
    assert [(f.code, f.fix.applicability if f.fix else None) for f in findings] == [
        ("REQ001", Fix.SAFE)
    ]
    write_fixes(tree, plan_fixes(tree, findings))
    assert (tree / "services/api/requirements.txt").read_text() == (
        "# copied from the shared file\n-r ../../requirements.shared.txt\nasyncpg==0.29.0\n"
    )
    assert scan_tree(tree).findings == []


def test_include_fix_is_unsafe_when_the_copy_changes_versions(
    scan_tree: ScanTree, tmp_path: Path
) -> None:
    tree = copy("REQ001", tmp_path)
    own = tree / "services/api/requirements.txt"
    own.write_text(own.read_text().replace("httpx==0.28.1", "httpx==0.27.0"))
    findings = scan_tree(tree).findings
    req001 = [f for f in findings if f.code == "REQ001"]
    assert req001 and req001[0].fix is not None
    assert req001[0].fix.applicability is Fix.UNSAFE
    plan = plan_fixes(tree, findings)
    assert plan.new_texts == {}
    assert write_fixes(tree, plan_fixes(tree, findings, unsafe=True)) == [
        "services/api/requirements.txt"
    ]
    assert "-r ../../requirements.shared.txt" in own.read_text()


def test_include_fix_is_unsafe_when_the_shared_file_is_outside_the_build_context(
    scan_tree: ScanTree, tmp_path: Path
) -> None:
    tree = copy("REQ001", tmp_path)
    compose = tree / "docker-compose.yml"
    compose.write_text(
        'services:\n  api:\n    build: ./services/api\n    ports:\n      - "8000:8000"\n'
    )
    (tree / "services/api/Dockerfile").write_text(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app ./app\nEXPOSE 8000\n"
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]\n'
    )
    [finding] = [f for f in scan_tree(tree).findings if f.code == "REQ001"]
    assert finding.fix is not None and finding.fix.applicability is Fix.UNSAFE
    assert "outside the build context" in finding.fix.message
