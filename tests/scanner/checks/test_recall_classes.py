"""Classes of defects missed, and of false findings, on multi-service repositories read for
recall (2026-12-05), each as a small tree of our own: the defect reported, the correct
layout left alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from passmuster.core.findings import Finding
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import scan

WriteTree = Callable[[dict[str, str]], Path]


def run(root: Path, *codes: str) -> list[Finding]:
    return scan(root, ScanConfig(select=list(codes))).findings


def where(findings: list[Finding]) -> list[tuple[str, str, int | None, str | None]]:
    return [(f.code, f.path, f.line, f.service) for f in findings]


def _image(port: int) -> str:
    return f"""FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY app ./app
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "{port}"]
"""


def test_nested_projects_with_a_service_of_the_same_name_import_from_their_own_code(
    write_tree: WriteTree,
) -> None:
    """A repository holding an old platform at its root and its rewrite in a folder, both
    with a service `gateway`: the rewrite's imports were checked against the old gateway's
    code, and every name only the rewrite defines was reported missing."""
    main = (
        "from fastapi import FastAPI\n\n"
        "from app.schemas import {names}\n\n"
        "app = FastAPI()\n"
    )
    root = write_tree(
        {
            "docker-compose.yml": "services:\n  gateway:\n    build: ./gateway\n",
            "gateway/Dockerfile": _image(8000),
            "gateway/requirements.txt": "fastapi==0.115.0\nuvicorn==0.30.0\n",
            "gateway/app/__init__.py": "",
            "gateway/app/schemas.py": "class Login:\n    pass\n",
            "gateway/app/main.py": main.format(names="Login"),
            "v2/docker-compose.yml": "services:\n  gateway:\n    build: ./gateway\n",
            "v2/gateway/Dockerfile": _image(8000),
            "v2/gateway/requirements.txt": "fastapi==0.115.0\nuvicorn==0.30.0\n",
            "v2/gateway/app/__init__.py": "",
            "v2/gateway/app/schemas.py": "class Login:\n    pass\n\n\nclass Booking:\n    pass\n",
            "v2/gateway/app/main.py": main.format(names="Booking, Login, Refund"),
        }
    )
    # Refund is defined nowhere: still reported, in the rewrite only; Booking is the
    # rewrite's own and is left alone.
    found = where(run(root, "CODE001"))
    assert found == [("CODE001", "v2/gateway/app/main.py", 3, "gateway")]
    assert "'Refund'" in run(root, "CODE001")[0].message
