"""Classes of false findings seen on a seventh held-out set of platforms (2026-12-05), each as
a small tree of our own: the correct layout left alone, the defect beside it still reported."""

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


_PLAIN_CONFIG = """import os


class Config:
    STORE_PASSWORD = os.getenv("STORE_PASSWORD", "admin")
    QUEUE_PASSWORD = os.getenv("QUEUE_PASSWORD", "guest")
    PROFILE_URL = os.getenv("PROFILE_URL", "http://profiles:8003")
"""


def test_an_attribute_of_a_plain_config_class_no_code_reads_configures_nothing(
    write_tree: WriteTree,
) -> None:
    """`class Config: X = os.getenv("X", "admin")` with no `Config.X` anywhere: the fallback
    is never used. The attribute the code reads keeps its finding."""
    tree = {
        "docker-compose.yml": "services:\n  orders:\n    build: ./orders\n",
        "orders/Dockerfile": (
            'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n'
        ),
        "orders/config.py": _PLAIN_CONFIG,
        "orders/main.py": (
            "from config import Config\n\ndef connect():\n    return Config.QUEUE_PASSWORD\n"
        ),
    }
    root = write_tree(tree)
    assert where(run(root, "ENV003")) == [("ENV003", "orders/config.py", 6)]
    assert run(root, "PORT003") == []


def test_a_config_class_given_to_from_object_keeps_the_keys_flask_reads(
    write_tree: WriteTree,
) -> None:
    """Flask reads SECRET_KEY from `app.config.from_object(Config)` without code naming it."""
    tree = {
        "docker-compose.yml": "services:\n  web:\n    build: ./web\n",
        "web/Dockerfile": (
            'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n'
        ),
        "web/config.py": (
            'import os\n\n\nclass Config:\n    SECRET_KEY = os.getenv("SECRET_KEY", "changeme")\n'
        ),
        "web/main.py": (
            "from flask import Flask\nfrom config import Config\n\n"
            "app = Flask(__name__)\napp.config.from_object(Config)\n"
        ),
    }
    assert where(run(write_tree(tree), "ENV003")) == [("ENV003", "web/config.py", 5)]


def test_python_runs_the_copied_script_not_another_modules_main_block(
    write_tree: WriteTree,
) -> None:
    """`COPY ./src/ .` and `python app.py`: src/app.py starts the server on Config.PORT (the
    environment's 8082); src/main.py's `__main__` block with port 8000 never runs."""
    tree = {
        "docker-compose.yml": """services:
  notes:
    build: ./notes
    ports:
      - "8082:8082"
    environment:
      PORT: "8082"
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8082/health"]
""",
        "notes/Dockerfile": (
            'FROM python:3.12-slim\nWORKDIR /app\nCOPY ./src/ .\nCMD ["python", "app.py"]\n'
        ),
        "notes/src/__init__.py": "",
        "notes/src/config.py": 'import os\n\n\nclass Config:\n    PORT = int(os.getenv("PORT"))\n',
        "notes/src/app.py": (
            "import uvicorn\nfrom fastapi import FastAPI\nfrom config import Config\n\n"
            "app = FastAPI()\n\n"
            'if __name__ == "__main__":\n'
            '    uvicorn.run("app:app", host="0.0.0.0", port=Config.PORT)\n'
        ),
        "notes/src/main.py": (
            "import uvicorn\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n"
            'if __name__ == "__main__":\n'
            '    uvicorn.run("main:app", host="0.0.0.0", port=8000)\n'
        ),
    }
    assert run(write_tree(tree), "PORT002", "PORT009") == []


def _user_site_image(target: str) -> str:
    return (
        "FROM python:3.12-slim AS builder\n"
        "COPY requirements.txt .\n"
        "RUN pip install --user -r requirements.txt\n"
        "FROM python:3.12-slim\n"
        "WORKDIR /app\n"
        f"COPY --from=builder /root/.local {target}\n"
        "COPY . .\n"
        "RUN useradd -m app\n"
        "USER app\n"
        'CMD ["python", "main.py"]\n'
    )


def test_user_packages_copied_into_the_interpreters_prefix_are_found(
    write_tree: WriteTree,
) -> None:
    """`COPY --from=builder /root/.local /usr/local` lands in the interpreter's own
    site-packages; copied to /opt/deps they are still out of reach."""
    tree = {
        "docker-compose.yml": "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n",
        "a/Dockerfile": _user_site_image("/usr/local"),
        "a/requirements.txt": "fastapi==0.110.0\n",
        "a/main.py": "import fastapi\n",
        "b/Dockerfile": _user_site_image("/opt/deps"),
        "b/requirements.txt": "fastapi==0.110.0\n",
        "b/main.py": "import fastapi\n",
    }
    assert where(run(write_tree(tree), "IMG006")) == [("IMG006", "b/Dockerfile", 6)]


def test_a_url_printed_or_logged_is_a_message_not_an_address(write_tree: WriteTree) -> None:
    """`print(f"UI: http://localhost:16686")` tells a person where to look; the URL the
    code connects to is still judged."""
    tree = {
        "docker-compose.yml": (
            "services:\n  api:\n    build: ./api\n"
            "  tracer:\n    image: jaegertracing/all-in-one:1.57\n"
            '    ports:\n      - "16686:16686"\n'
        ),
        "api/Dockerfile": (
            'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n'
        ),
        "api/main.py": (
            "import logging\nimport httpx\n\nlogger = logging.getLogger(__name__)\n\n\n"
            "def setup():\n"
            '    print(f"Trace UI: http://localhost:16686")\n'
            '    logger.info("Trace UI at http://localhost:16686/search")\n'
            "    return httpx.get(TRACER_SERVICE_URL)\n\n\n"
            'TRACER_SERVICE_URL = "http://localhost:16686/api/services"\n'
        ),
    }
    assert where(run(write_tree(tree), "CODE005")) == [("CODE005", "api/main.py", 13)]


def test_the_alembic_script_folder_is_not_the_alembic_package(write_tree: WriteTree) -> None:
    """`alembic/__init__.py` beside env.py: the alembic command loads env.py by path with its
    own package imported, so `from alembic import context` is the tool's. A local package
    that lacks the name it is asked for is still reported."""
    tree = {
        "docker-compose.yml": "services:\n  db-api:\n    build: ./db-api\n",
        "db-api/Dockerfile": (
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
            "RUN pip install -r requirements.txt\nCOPY . .\n"
            'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
        ),
        "db-api/requirements.txt": "alembic==1.13.1\nfastapi==0.110.0\n",
        "db-api/alembic.ini": "[alembic]\nscript_location = alembic\n",
        "db-api/alembic/__init__.py": "",
        "db-api/alembic/env.py": "from alembic import context\n\nconfig = context.config\n",
        "db-api/alembic/versions/__init__.py": "",
        "db-api/alembic/versions/0001_start.py": "from alembic import op\n",
        "db-api/app/__init__.py": "",
        "db-api/app/helpers.py": "def slug(text):\n    return text\n",
        "db-api/app/main.py": (
            "from fastapi import FastAPI\nfrom app.helpers import slugify\n\napp = FastAPI()\n"
        ),
    }
    assert where(run(write_tree(tree), "CODE001")) == [("CODE001", "db-api/app/main.py", 2)]
