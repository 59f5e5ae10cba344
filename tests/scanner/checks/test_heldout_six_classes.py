"""Classes of false findings seen on a sixth held-out set of platforms (2026-12-05), each as a
small tree of our own: the correct layout left alone, the defect beside it still reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from passmuster.core.findings import Finding
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import scan

WriteTree = Callable[[dict[str, str]], Path]


def run(root: Path, *codes: str) -> list[Finding]:
    return scan(root, ScanConfig(select=list(codes))).findings


def where(findings: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.code, f.path, f.line) for f in findings]


def _shared_requirements_image(service: str, rewrite: bool) -> str:
    sed = "RUN sed -i 's#\\.\\./\\.\\./##g' /srv/requirements.txt\n" if rewrite else ""
    return (
        "FROM python:3.12-slim\n"
        "WORKDIR /srv\n"
        "COPY common/ /srv/common/\n"
        f"COPY services/{service}/requirements.txt /srv/requirements.txt\n"
        f"{sed}"
        "RUN pip install -r /srv/requirements.txt\n"
        f"COPY services/{service}/ /srv/\n"
        'CMD ["python", "main.py"]\n'
    )


def test_a_requirements_file_rewritten_in_the_image_is_not_judged(write_tree: WriteTree) -> None:
    """`RUN sed -i` strips `../../` from the copied file before pip reads it: the include then
    points at /srv/common/requirements.txt, which is there. Without the rewrite it is not."""
    tree = {
        "docker-compose.yml": """services:
  billing:
    build:
      context: .
      dockerfile: services/billing/Dockerfile
  ledger:
    build:
      context: .
      dockerfile: services/ledger/Dockerfile
""",
        "common/requirements.txt": "fastapi==0.110.0\n",
        "services/billing/Dockerfile": _shared_requirements_image("billing", rewrite=True),
        "services/billing/requirements.txt": "-r ../../common/requirements.txt\n",
        "services/billing/main.py": "import fastapi\n",
        "services/ledger/Dockerfile": _shared_requirements_image("ledger", rewrite=False),
        "services/ledger/requirements.txt": "-r ../../common/requirements.txt\n",
        "services/ledger/main.py": "import fastapi\n",
    }
    found = run(write_tree(tree), "REQ009")
    assert [(f.code, f.path, f.service) for f in found] == [
        ("REQ009", "services/ledger/requirements.txt", "ledger")
    ]


def test_a_package_on_two_lines_counts_once_among_copied_ones(write_tree: WriteTree) -> None:
    """`pydantic==2.5.0` and `pydantic[email]==2.5.0` are one package of the shared file: a
    copy of all of it is "5 of 5", never more packages copied than the file has."""
    shared = (
        "fastapi==0.110.0\npydantic==2.5.0\npydantic[email]==2.5.0\nhttpx==0.27.0\n"
        "redis==5.0.1\nuvicorn==0.29.0\n"
    )
    image = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r services/{name}/requirements.txt\n"
        'CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]\n'
    )
    tree = {
        "docker-compose.yml": "services:\n"
        + "".join(
            f"  {n}:\n    build:\n      context: .\n      dockerfile: services/{n}/Dockerfile\n"
            for n in ("issues", "comments", "auth")
        ),
        "shared/requirements.txt": shared,
        "services/auth/requirements.txt": shared + "bcrypt==4.1.2\n",
    }
    for name in ("issues", "comments"):
        tree[f"services/{name}/requirements.txt"] = "-r ../../shared/requirements.txt\n"
    for name in ("issues", "comments", "auth"):
        tree[f"services/{name}/Dockerfile"] = image.format(name=name)
        tree[f"services/{name}/main.py"] = "from fastapi import FastAPI\n\napp = FastAPI()\n"
    found = run(write_tree(tree), "REQ001")
    assert [f.message.split(" packages")[0] for f in found] == ["5 of 5"]


def test_an_include_written_for_the_image_layout_is_no_missing_file(
    write_tree: WriteTree,
) -> None:
    """`-r common/requirements.txt` in services/gateway/requirements.txt names nothing beside
    it in the repository, but the Dockerfile copies both to /srv, where it resolves. An
    include that resolves nowhere is still reported."""
    image = (
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY common/ /srv/common/\n"
        "COPY services/{name}/requirements.txt /srv/requirements.txt\n"
        "RUN pip install -r /srv/requirements.txt\nCOPY services/{name}/ /srv/\n"
        'CMD ["python", "main.py"]\n'
    )
    tree = {
        "docker-compose.yml": """services:
  gateway:
    build:
      context: .
      dockerfile: services/gateway/Dockerfile
  search:
    build:
      context: .
      dockerfile: services/search/Dockerfile
""",
        "common/requirements.txt": "httpx==0.27.0\n",
        "services/gateway/Dockerfile": image.format(name="gateway"),
        "services/gateway/requirements.txt": "-r common/requirements.txt\n",
        "services/gateway/main.py": "import httpx\n",
        "services/search/Dockerfile": image.format(name="search"),
        "services/search/requirements.txt": "-r base/requirements.txt\n",
        "services/search/main.py": "import httpx\n",
    }
    found = run(write_tree(tree), "REF002")
    assert [(f.path, f.line) for f in found] == [("services/search/requirements.txt", 1)]
