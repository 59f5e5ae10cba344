"""Classes of false findings seen on a fifth held-out set of platforms (2026-12-05), each as a
small tree of our own: the correct layout left alone, the defect beside it still reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from passmuster.core.findings import Finding
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import scan

WriteTree = Callable[[dict[str, str]], Path]

_IMAGE = """
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["python", "main.py"]
"""


def run(root: Path, *codes: str) -> list[Finding]:
    return scan(root, ScanConfig(select=list(codes))).findings


def where(findings: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.code, f.path, f.line) for f in findings]


def _two_services(admin_code: str, **extra: str) -> dict[str, str]:
    tree = {
        "docker-compose.yml": """services:
  admin:
    build: ./admin
    ports:
      - "8004:8004"
  apps:
    build: ./apps
    ports:
      - "8003:8003"
""",
        "admin/Dockerfile": _IMAGE,
        "admin/requirements.txt": "httpx==0.27.0\n",
        "admin/main.py": admin_code,
        "apps/Dockerfile": _IMAGE,
        "apps/requirements.txt": "flask==3.0.0\n",
        "apps/main.py": (
            "from flask import Flask\n\napp = Flask(__name__)\napp.run(host='0.0.0.0', port=8003)\n"
        ),
    }
    tree.update(extra)
    return tree


def test_a_host_an_f_string_finishes_is_no_sibling(write_tree: WriteTree) -> None:
    """`f"https://shop-apps-{env}.up.example.app"` names a public host whose middle is
    interpolated: the text before the slot (`shop-apps-`) is no service name."""
    code = """import os

import httpx

env = os.getenv("ENVIRONMENT", "staging")
health = {
    "apps": f"https://shop-apps-{env}.up.example.app/health",
    "ledger": f"http://shop_ledger_{env}/health",
}
wrong = f"http://apps-svc:8003/items/{env}"
right = f"http://apps:8003/items/{env}"
"""
    root = write_tree(_two_services(code))
    found = where(run(root, "PORT003"))
    # The whole host before the slot is still judged.
    assert found == [("PORT003", "admin/main.py", 10)]


def test_a_fallback_given_when_the_variable_is_unset_is_the_variables(
    write_tree: WriteTree,
) -> None:
    """`url = os.getenv("X")` then `if url: ... else: url = "http://localhost:..."` (or
    `if not url:`) is X's fallback as much as `os.getenv("X", "...")`: a service whose compose
    environment sets X never uses it; one that does not is still told."""
    code = """import os

sms_url = os.getenv("MESSAGING_URL")
if sms_url:
    pass
else:
    sms_url = "http://localhost:8003/send"

pay_url = os.environ.get("PAYMENT_URL")
if not pay_url:
    pay_url = "http://localhost:8003/pay"

audit_url = os.getenv("AUDIT_URL")
if audit_url is None:
    audit_url = "http://localhost:8003/audit"
"""
    tree = _two_services(code)
    root = write_tree(tree)
    unset = sorted(where(run(root, "CODE005")))
    assert [line for _, _, line in unset] == [7, 11, 15]
    tree["docker-compose.yml"] = tree["docker-compose.yml"].replace(
        "  admin:\n    build: ./admin\n",
        "  admin:\n    build: ./admin\n    environment:\n"
        "      MESSAGING_URL: https://sms.example.com/send\n"
        "      PAYMENT_URL: https://pay.example.com/pay\n",
    )
    root = write_tree(tree)
    assert where(run(root, "CODE005")) == [("CODE005", "admin/main.py", 15)]


def test_a_port_mapping_made_of_unset_variables_is_no_parse_error(write_tree: WriteTree) -> None:
    """`'${API_PORT}:${API_PORT}'` with the variables in a kept-out `.env` comes out `:`: the
    scan says once that the variables are unset (ENV001), not once per mapping that it
    cannot read it; a mapping written wrong is still a parse problem."""
    tree = _two_services("print('admin')\n")
    tree["docker-compose.yml"] = """services:
  admin:
    build: ./admin
    ports:
      - '${ADMIN_EXTERNAL_PORT}:${ADMIN_INTERNAL_PORT}'
  apps:
    build: ./apps
    ports:
      - '${APPS_PORT}:'
      - 'eighty:80x'
"""
    root = write_tree(tree)
    found = where(run(root, "PM001", "ENV001"))
    assert ("PM001", "docker-compose.yml", 10) in found
    assert [f for f in found if f[0] == "PM001"] == [("PM001", "docker-compose.yml", 10)]
    assert [f[0] for f in found].count("ENV001") == 1


_POETRY_IMAGE = """
FROM python:3.11-slim
WORKDIR /app
RUN pip install poetry==1.8.3
COPY poetry.lock pyproject.toml /app/
RUN poetry config virtualenvs.create false && poetry install --no-interaction
COPY . /app/
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""

_POETRY_PROJECT = """[tool.poetry]
name = "auth"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.11"
fastapi = "^0.87.0"
"""


def _lock(pydantic: str) -> str:
    return f"""[[package]]
name = "fastapi"
version = "0.87.0"

[[package]]
name = "Pydantic"
version = "{pydantic}"
"""


def test_a_lock_file_pins_the_version_a_removed_name_depends_on(write_tree: WriteTree) -> None:
    """`from pydantic import BaseSettings` is pydantic 1's: a poetry service whose lock file
    pins pydantic 1.10 (fastapi 0.87 caps it) imports it fine; locked at 2.x it fails."""
    for pydantic, expected in (("1.10.2", []), ("2.5.3", [("CODE001", "auth/app/config.py", 1)])):
        root = write_tree(
            {
                "docker-compose.yml": "services:\n  auth:\n    build: ./auth\n",
                "auth/Dockerfile": _POETRY_IMAGE,
                "auth/pyproject.toml": _POETRY_PROJECT,
                "auth/poetry.lock": _lock(pydantic),
                "auth/app/__init__.py": "",
                "auth/app/config.py": (
                    "from pydantic import BaseSettings\n\n\n"
                    "class Settings(BaseSettings):\n    debug: bool = False\n"
                ),
                "auth/app/main.py": (
                    "from fastapi import FastAPI\n\nfrom app.config import Settings\n\n"
                    "settings = Settings()\napp = FastAPI()\n"
                ),
            }
        )
        assert where(run(root, "CODE001")) == expected, pydantic


def _settings_tree(passed: str) -> dict[str, str]:
    return {
        "docker-compose.yml": f"""services:
  search:
    build: ./search
    environment:
      {passed}
""",
        "search/Dockerfile": _IMAGE,
        "search/requirements.txt": "pydantic-settings==2.4.0\n",
        "search/main.py": """from typing import Optional

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    providers_service_port: int = 8002
    review_model: Optional[str] = None
    audit_strict: str = "false"


settings = Settings()
print(settings.providers_service_port, settings.review_model, settings.audit_strict)
""",
    }


def test_a_flag_nothing_reads_is_not_taken_for_a_number_or_a_name(write_tree: WriteTree) -> None:
    """`REVIEW_PROVIDERS_ONLY=false`, a flag left in compose after its feature went, shares a
    word with an `int` port and an optional model name: neither is the setting it was meant
    for (pydantic could not even read `false` as a port). A name that fits its field's kind is
    still reported."""
    stale = "REVIEW_PROVIDERS_ONLY: ${REVIEW_PROVIDERS_ONLY:-false}"
    assert run(write_tree(_settings_tree(stale)), "ENV009") == []
    for passed, read in (
        ("PROVIDERS_PORT: '9002'", "PROVIDERS_SERVICE_PORT"),
        ("REVIEW_MODEL_NAME: gpt-4o-mini", "REVIEW_MODEL"),
        ("STRICT_AUDIT: 'true'", "AUDIT_STRICT"),
    ):
        (finding,) = run(write_tree(_settings_tree(passed)), "ENV009")
        assert read in finding.message, passed


_ALL_SERVICES_IMAGE = """
FROM python:3.11-slim
WORKDIR /app
COPY services/admin/requirements.txt ./admin-requirements.txt
RUN pip install -r admin-requirements.txt
COPY services ./services
CMD bash -c "cd /app/services/${SERVICE_NAME:-admin} && python main.py"
"""


def test_a_module_its_own_service_never_runs_is_retired_in_a_bigger_image(
    write_tree: WriteTree,
) -> None:
    """A backup module beside a service's code (`routes_old.py`, importing what the package
    no longer has) is left out when the service's entry module never reaches it, and stays
    left out when a catch-all image at the root copies every service and picks one at run
    time. A broken import the service runs is still reported."""
    tree = {
        "docker-compose.yml": "services:\n  admin:\n    build: ./services/admin\n",
        "Dockerfile": _ALL_SERVICES_IMAGE,
        "services/admin/Dockerfile": _IMAGE,
        "services/admin/requirements.txt": "fastapi==0.115.0\nuvicorn==0.30.0\n",
        "services/admin/main.py": (
            "import uvicorn\nfrom fastapi import FastAPI\n\n"
            "from routes import users_router\nfrom routes.stats import stats_router\n\n"
            "app = FastAPI()\napp.include_router(users_router)\napp.include_router(stats_router)\n"
            "uvicorn.run(app, host='0.0.0.0', port=8003)\n"
        ),
        "services/admin/routes/__init__.py": "from .users import users_router\n",
        "services/admin/routes/users.py": (
            "from fastapi import APIRouter\n\nusers_router = APIRouter()\n"
        ),
        "services/admin/routes/stats.py": (
            "from fastapi import APIRouter\n\nstats_router = APIRouter()\n"
        ),
        "services/admin/routes_old.py": "from .routes import questions_router\n",
        "services/ledger/main.py": "print('ledger')\n",
    }
    root = write_tree(tree)
    assert run(root, "CODE001") == []
    tree["services/admin/routes/stats.py"] = (
        "from fastapi import APIRouter\n\nfrom routes import questions_router\n\n"
        "stats_router = APIRouter()\n"
    )
    root = write_tree(tree)
    assert where(run(root, "CODE001")) == [("CODE001", "services/admin/routes/stats.py", 3)]


def test_a_password_in_a_connection_url_to_a_managed_database_is_committed(
    write_tree: WriteTree,
) -> None:
    """`postgresql://app:<random>@db-42.cloud-db.example-provider.io:26257/app` in code gives
    anyone who reads the repository the database; a sibling container's URL (`@db:5432`),
    a template, a placeholder host or password, and test code are left alone."""
    secret = "Qm7vTz2LpW9sRk4NcY8hBd"
    code = f"""import os

from sqlalchemy import create_engine

engine = create_engine("postgresql://app:{secret}@flirt-42.managed-pg.cloud:26257/app")
local = "postgresql://app:{secret}@db:5432/app"
template = "postgresql://app:${{DB_PASSWORD}}@flirt-42.managed-pg.cloud:26257/app"
sample = "postgresql://user:password@db.example.com:5432/app"
"""
    tree = _two_services(code)
    tree["admin/tests/test_db.py"] = f'URL = "mysql://app:{secret}@ci-db.managed-pg.cloud/app"\n'
    root = write_tree(tree)
    (finding,) = run(root, "ENV008")
    assert (finding.path, finding.line) == ("admin/main.py", 5)
    assert "database password" in finding.message and secret not in finding.message
    assert finding.related == ()
