"""Classes of false and missed findings seen on repositories outside the labelled corpus
(held-out platforms read once, 2026-12-05), each as small trees of our own: the defect still
reported, the correct layout left alone."""

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


_API_IMAGE = """
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]
"""


def test_compose_files_named_with_a_dash_are_read(tmp_path: Path) -> None:
    """`docker-compose-local.yml` is a compose file like `docker-compose.local.yml`: a
    platform whose only compose file is named so was scanned as having no service."""
    compose = """services:
  shipper:
    image: acme/log-tailer:2
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
"""
    for name in ("docker-compose-local.yml", "compose-staging.yaml", "my-compose-notes.yml"):
        root = tmp_path / name.replace(".", "_")
        root.mkdir()
        (root / name).write_text(compose, encoding="utf-8")
        expected = [] if name.startswith("my-") else [("ENV007", name, 5, "shipper")]
        # A file that only mentions compose in its name is not one.
        assert where(run(root, "ENV007")) == expected


def _overlay_platform(overlay_folder: str) -> dict[str, str]:
    return {
        "docker-compose.yml": """
services:
  api:
    build:
      context: ./api
    environment:
      DEBUG: "false"
""",
        "api/Dockerfile": _API_IMAGE,
        "api/requirements.txt": "fastapi==0.115.0\nuvicorn==0.30.0\n",
        "api/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        f"{overlay_folder}/docker-compose.ci.yml": """
# docker compose -f docker-compose.yml -f ci/docker-compose.ci.yml up
services:
  api:
    build:
      cache_from:
        - registry.example.com/api:latest
    restart: "no"
  smoke:
    build:
      context: ./smoke
    depends_on:
      - api
""",
        "smoke/Dockerfile": 'FROM python:3.12-slim\nCMD ["python", "-c", "print(1)"]\n',
    }


def test_an_overlay_in_a_subfolder_runs_with_the_base_above_it(write_tree: WriteTree) -> None:
    """Paths of an overlay kept in `ci/` resolve against the base's folder (the project
    folder); alone it would name a Dockerfile in `ci/` and a `ci/smoke` context."""
    root = write_tree(_overlay_platform("ci"))
    assert run(root, "REF002") == []


def test_a_project_of_its_own_in_a_subfolder_still_has_its_paths_checked(
    write_tree: WriteTree,
) -> None:
    files = _overlay_platform("ci")
    files["ci/docker-compose.ci.yml"] = """
services:
  api:
    build:
      context: ./api
  worker:
    build:
      context: ./worker
"""
    root = write_tree(files)
    assert [(c, p) for c, p, _, _ in where(run(root, "REF002"))] == [
        ("REF002", "ci/docker-compose.ci.yml"),
        ("REF002", "ci/docker-compose.ci.yml"),
    ]


def test_a_web_server_image_sharing_a_build_context_owns_none_of_its_python(
    write_tree: WriteTree,
) -> None:
    """`context: ./services` for every image, each Dockerfile copying its own folder: the
    nginx gateway runs none of the Python beside it, and the API runs only what it copies."""
    root = write_tree(
        {
            "docker-compose.yml": """
services:
  gateway:
    build:
      context: ./services
      dockerfile: gateway/Dockerfile
    ports:
      - "80:80"
  api:
    build:
      context: ./services
      dockerfile: api/Dockerfile
  cache:
    image: redis:7
""",
            "services/gateway/Dockerfile": "FROM nginx:1.27-alpine\nCOPY gateway/nginx.conf "
            "/etc/nginx/nginx.conf\n",
            "services/gateway/nginx.conf": "events {}\n",
            "services/api/Dockerfile": """
FROM python:3.12-slim
WORKDIR /app
COPY api/requirements.txt .
RUN pip install -r requirements.txt
COPY api/app ./app
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
""",
            "services/api/requirements.txt": "fastapi==0.115.0\nredis==5.0.0\n",
            "services/api/app/__init__.py": "",
            "services/api/app/main.py": """
import redis
from fastapi import FastAPI

app = FastAPI()
cache = redis.Redis.from_url("redis://localhost:6379/0")
""",
            # A script nobody copies into an image.
            "services/tools/seed.py": 'URL = "redis://localhost:6379/1"\n',
        }
    )
    assert where(run(root, "CODE005")) == [
        ("CODE005", "services/api/app/main.py", 5, "api"),
    ]


def test_a_url_template_names_no_host_until_it_is_filled(write_tree: WriteTree) -> None:
    files = {
        "docker-compose.yml": """
services:
  payments:
    build: ./payments
  users:
    build: ./users
""",
        "payments/Dockerfile": _API_IMAGE,
        "payments/requirements.txt": "fastapi==0.115.0\nhttpx==0.27.0\n",
        "users/Dockerfile": _API_IMAGE,
        "users/requirements.txt": "fastapi==0.115.0\n",
        "users/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    files["payments/main.py"] = """
import os

import httpx
from fastapi import FastAPI

USERS = os.getenv("USERS_HOST", "users")
app = FastAPI()


@app.get("/pay/{uid}")
def pay(uid: str) -> int:
    first = httpx.get("http://{host}:8000/check/{uid}".format(host=USERS, uid=uid))
    second = httpx.get("http://%s:8000/check" % USERS)
    third = httpx.get(f"http://{USERS}:8000/check")
    return first.status_code + second.status_code + third.status_code
"""
    assert run(write_tree(files), "PORT003") == []
    files["payments/main.py"] += '\nLEDGER = "http://ledger:8000/entries"\n'
    assert [f.message for f in run(write_tree(files), "PORT003")] == [
        "a URL in code names host 'ledger', which is no service of the platform"
    ]


def _localhost_platform(code: str, environment: str = "") -> dict[str, str]:
    return {
        "docker-compose.yml": f"""
services:
  api:
    build: ./api
    {environment}
  queue:
    image: rabbitmq:3.13
""",
        "api/Dockerfile": _API_IMAGE,
        "api/requirements.txt": "fastapi==0.115.0\naio-pika==9.4.0\n",
        "api/main.py": "from fastapi import FastAPI\n\nimport broker\n\napp = FastAPI()\n",
        "api/broker.py": code,
    }


def test_urls_in_docstrings_are_documentation(write_tree: WriteTree) -> None:
    documented = '''
"""Publishing with retries.

Usage:
    publisher = Publisher("amqp://localhost:5672/")
"""


class Publisher:
    """Publishes events.

    Example: Publisher("amqp://guest:guest@localhost:5672/")
    """

    def __init__(self, url: str) -> None:
        self.url = url
'''
    assert run(write_tree(_localhost_platform(documented)), "CODE005") == []
    used = documented + '\nDEFAULT = Publisher("amqp://localhost:5672/")\n'
    assert where(run(write_tree(_localhost_platform(used)), "CODE005")) == [
        ("CODE005", "api/broker.py", 17, "api")
    ]


def test_environ_setdefault_is_a_fallback_the_environment_replaces(
    write_tree: WriteTree,
) -> None:
    code = 'import os\n\nos.environ.setdefault("BROKER_URL", "amqp://localhost:5672/")\n'
    set_by_compose = "environment:\n      BROKER_URL: amqp://queue:5672/"
    assert run(write_tree(_localhost_platform(code, set_by_compose)), "CODE005") == []
    assert where(run(write_tree(_localhost_platform(code)), "CODE005")) == [
        ("CODE005", "api/broker.py", 3, "api")
    ]


def _two_services(api_pins: str, worker_pins: str) -> dict[str, str]:
    return {
        "docker-compose.yml": """
services:
  api:
    build: ./api
  worker:
    build: ./worker
""",
        "api/Dockerfile": _API_IMAGE,
        "api/requirements.txt": api_pins,
        "api/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        "worker/Dockerfile": _API_IMAGE,
        "worker/requirements.txt": worker_pins,
        "worker/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    }


def test_test_runners_and_linters_may_drift_between_services(write_tree: WriteTree) -> None:
    tools = _two_services(
        "fastapi==0.115.0\npytest==8.2.0\npytest-asyncio==0.24.0\nblack==24.4.0\n",
        "fastapi==0.115.0\npytest==7.4.4\npytest-asyncio==0.21.1\nblack==23.12.1\n",
    )
    assert run(write_tree(tools), "REQ002") == []
    models = _two_services("pydantic==2.7.0\npytest==8.2.0\n", "pydantic==1.10.13\npytest==7.4.4\n")
    assert [f.message for f in run(write_tree(models), "REQ002")] == [
        "pydantic is pinned to 1.10.13 here (worker) but to 2.7.0 in api"
    ]


def test_log_shippers_are_made_for_the_docker_socket(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": """
services:
  logs:
    image: fluent/fluent-bit:3.0
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
  api:
    image: acme/api:1
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
"""
        }
    )
    assert where(run(root, "ENV007")) == [("ENV007", "docker-compose.yml", 9, "api")]


def test_a_ci_compose_files_pinned_test_secrets_are_not_placeholders_in_use(
    write_tree: WriteTree,
) -> None:
    """A CI overlay sets deterministic secrets for the test run, like a development file;
    the same value in the base file reaches every deployment."""
    files = _overlay_platform("ci")
    files["ci/docker-compose.ci.yml"] = """
services:
  api:
    build:
      cache_from:
        - registry.example.com/api:latest
    environment:
      SECRET_KEY: change-me
"""
    assert run(write_tree(files), "ENV003") == []
    files["docker-compose.yml"] = files["docker-compose.yml"].replace(
        'DEBUG: "false"', 'DEBUG: "false"\n      SECRET_KEY: change-me'
    )
    assert [(f.code, f.path) for f in run(write_tree(files), "ENV003")] == [
        ("ENV003", "docker-compose.yml")
    ]


def test_two_requirements_files_drifting_apart_is_one_finding(write_tree: WriteTree) -> None:
    files = _two_services("fastapi==0.115.0\n", "fastapi==0.115.0\n")
    files["api/requirements.txt"] = "fastapi==0.115.0\npytest==8.2.0\npytest-asyncio==0.24.0\n"
    files["api/requirements-dev.txt"] = "pytest==7.4.4\npytest-asyncio==0.23.3\n"
    [finding] = run(write_tree(files), "REQ010")
    assert (finding.path, finding.line) == ("api/requirements.txt", 2)
    assert "pytest 8.2.0 (there 7.4.4), pytest-asyncio 0.24.0 (there 0.23.3)" in finding.message
    assert [(r.path, r.line) for r in finding.related] == [
        ("api/requirements-dev.txt", 1),
        ("api/requirements-dev.txt", 2),
        ("api/requirements.txt", 3),
    ]


def _secret_fallback_platform(env_file: str) -> dict[str, str]:
    return {
        "docker-compose.yml": f"""
services:
  api:
    build: ./api
    env_file: {env_file}
""",
        ".gitignore": ".env\napi.env\n",
        "api/Dockerfile": _API_IMAGE,
        "api/requirements.txt": "fastapi==0.115.0\n",
        "api/main.py": """
import os

from fastapi import FastAPI

JWT_SECRET = os.getenv("JWT_SECRET", "change-me")
app = FastAPI()
""",
    }


def test_what_an_env_file_kept_out_of_the_repository_sets_is_not_known(
    write_tree: WriteTree,
) -> None:
    """Each service's own gitignored env file with no committed example: whether it sets
    JWT_SECRET cannot be told, so "the environment does not set it" is not said."""
    assert run(write_tree(_secret_fallback_platform("api.env")), "ENV003") == []
    files = _secret_fallback_platform("api.env")
    files["api.env.example"] = "DEBUG=0\n"  # documents what the kept-out file sets
    assert [(f.code, f.path) for f in run(write_tree(files), "ENV003")] == [
        ("ENV003", "api/main.py")
    ]


def test_a_test_runs_compose_file_keeps_its_own_database(write_tree: WriteTree) -> None:
    db = "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_DB: {name}\n"
    files = {
        "docker-compose.yml": db.format(name="shop"),
        "tests/e2e/docker-compose.yml": db.format(name="shop_test"),
        "docker-compose.test.yml": db.format(name="shop_test"),
    }
    assert run(write_tree(files), "REF004") == []
    files["deploy/docker-compose.yml"] = db.format(name="shop_prod")
    assert [(f.code, f.path) for f in run(write_tree(files), "REF004")] == [
        ("REF004", "docker-compose.yml")
    ]


def test_an_api_descriptions_server_list_is_for_a_person(write_tree: WriteTree) -> None:
    """drf-spectacular's or an OpenAPI document's `servers`: where a person's browser tries
    the API from the docs page, not an address the service calls."""
    described = (
        'SPECTACULAR_SETTINGS = {\n    "SERVERS": [\n'
        '        {"url": "http://localhost:8001", "description": "Local"},\n'
        '        {"url": "https://api.example.com", "description": "Production"},\n'
        "    ],\n}\n"
    )
    files = _two_services("fastapi==0.115.0\n", "fastapi==0.115.0\n")
    files["worker/Dockerfile"] = _API_IMAGE.replace('"8000"', '"8001"')
    files["api/settings.py"] = described
    files["api/main.py"] = "from fastapi import FastAPI\n\nimport settings\n\napp = FastAPI()\n"
    assert run(write_tree(files), "CODE005") == []
    files["api/settings.py"] = described + 'WORKER_URL = "http://localhost:8001"\n'
    assert where(run(write_tree(files), "CODE005")) == [("CODE005", "api/settings.py", 7, "api")]


def test_a_root_password_carried_along_in_a_shared_env_file_is_no_login(
    write_tree: WriteTree,
) -> None:
    """One `.env` for every service holds MYSQL_ROOT_PASSWORD for the database; a service
    whose code never reads it connects as its own user."""
    main = """
import os

from fastapi import FastAPI

DATABASE_URL = os.environ["DATABASE_URL"]
app = FastAPI()
"""
    files = {
        "docker-compose.yml": """
services:
  mysql:
    image: mysql:8.4
    env_file: .env
  api:
    build: ./api
    env_file: .env
    environment:
      DATABASE_URL: mysql://shop:shop-pass@mysql:3306/shop
""",
        ".env": "MYSQL_ROOT_PASSWORD=s3cr3t-root\nMYSQL_USER=shop\nMYSQL_PASSWORD=shop-pass\n",
        "api/Dockerfile": _API_IMAGE,
        "api/requirements.txt": "fastapi==0.115.0\n",
        "api/main.py": main,
    }
    assert run(write_tree(files), "ENV006") == []
    files["api/main.py"] = main + 'ROOT = os.environ["MYSQL_ROOT_PASSWORD"]\n'
    assert [(f.code, f.service) for f in run(write_tree(files), "ENV006")] == [("ENV006", "api")]


def test_code_mounted_into_a_development_image_is_the_services_code(
    write_tree: WriteTree,
) -> None:
    """A development Dockerfile copies only the requirements; compose mounts the source."""
    root = write_tree(
        {
            "docker-compose.yml": """
services:
  api:
    build:
      context: ./api
      dockerfile: Dockerfile.dev
    volumes:
      - ./api/app:/srv/app
  cache:
    image: redis:7
""",
            "api/Dockerfile.dev": (
                "FROM python:3.12-slim\nWORKDIR /srv\nCOPY requirements.txt .\n"
                "RUN pip install -r requirements.txt\n"
                'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
            ),
            "api/requirements.txt": "fastapi==0.115.0\nredis==5.0.0\n",
            "api/app/__init__.py": "",
            "api/app/main.py": (
                "import redis\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
                'cache = redis.Redis.from_url("redis://localhost:6379/0")\n'
            ),
            "api/scripts/seed.py": 'URL = "redis://localhost:6379/1"\n',
        }
    )
    assert where(run(root, "CODE005")) == [("CODE005", "api/app/main.py", 5, "api")]


def _shared_settings_platform(main: str) -> dict[str, str]:
    return {
        "docker-compose.yml": """
services:
  maps:
    build:
      context: ./services
      dockerfile: maps/Dockerfile
  db:
    image: postgres:16
""",
        "services/maps/Dockerfile": """
FROM python:3.12-slim
WORKDIR /srv
COPY maps/requirements.txt .
RUN pip install -r requirements.txt
COPY shared/common /srv/common
COPY maps/app /srv/app
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8009"]
""",
        "services/maps/requirements.txt": "fastapi==0.115.0\npydantic-settings==2.4.0\n"
        "sqlalchemy==2.0.30\npsycopg2-binary==2.9.9\n",
        "services/maps/app/__init__.py": "",
        "services/maps/app/main.py": main,
        "services/shared/common/__init__.py": "",
        "services/shared/common/config.py": """
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    app_name: str = "maps"
    database_url: str = "postgresql://app:app@localhost:5432/app"
    test_database_url: str = "postgresql://app:app@localhost:5432/app_test"


settings = Settings()
""",
        "services/shared/common/database.py": """
from sqlalchemy import create_engine

from common.config import settings

engine = create_engine(settings.database_url)
test_engine = create_engine(settings.test_database_url)
""",
    }


def test_a_shared_settings_default_counts_only_for_the_code_an_image_runs(
    write_tree: WriteTree,
) -> None:
    """The Dockerfile renames folders on COPY (`maps/app` -> `/srv/app`); the service runs
    `app.main`, which reads the app name only: the database defaults configure nothing here.
    A `TEST_DATABASE_URL` is the test suite's."""
    main = "from fastapi import FastAPI\n\nfrom common.config import settings\n\n"
    main += "app = FastAPI(title=settings.app_name)\n"
    assert run(write_tree(_shared_settings_platform(main)), "CODE005") == []
    uses_db = main + "\nfrom common.database import engine\n"
    assert where(run(write_tree(_shared_settings_platform(uses_db)), "CODE005")) == [
        ("CODE005", "services/shared/common/config.py", 6, "maps")
    ]


def test_an_image_copying_nothing_from_its_context_runs_none_of_its_code(
    write_tree: WriteTree,
) -> None:
    """A mock whose app is a `COPY <<EOF` heredoc, built with `context: .` beside the
    platform's code: the repository's scripts are not its code."""
    files = _localhost_platform(
        'import os\n\nURL = os.getenv("BROKER_URL", "amqp://localhost:5672/")\n'
    )
    files["docker-compose.yml"] += """
  mock:
    build:
      context: .
      dockerfile: Dockerfile.mock
"""
    files["Dockerfile.mock"] = (
        "FROM python:3.12-slim\nRUN pip install fastapi uvicorn\n"
        "COPY <<EOF /srv/mock.py\nfrom fastapi import FastAPI\napp = FastAPI()\nEOF\n"
        'CMD ["uvicorn", "mock:app", "--app-dir", "/srv", "--host", "0.0.0.0"]\n'
    )
    files["scripts/seed.py"] = 'BROKER = "amqp://localhost:5672/"\n'  # run by a person
    assert [f.service for f in run(write_tree(files), "CODE005")] == ["api"]


def _models_platform(python: str) -> dict[str, str]:
    """A service whose models name a class defined further down, and a route whose
    dependency is defined after it."""
    return {
        "docker-compose.yml": "services:\n  api:\n    build: ./api\n",
        "api/Dockerfile": f"FROM python:{python}-slim\nCOPY . /app\n",
        "api/models.py": (
            "from pydantic import BaseModel\n"
            "\n"
            "class Owner(BaseModel):\n"
            "    pets: list[Pet]\n"
            "\n"
            "def describe(pet: Pet) -> str:\n"
            "    return pet.name\n"
            "\n"
            "class Pet(BaseModel):\n"
            "    name: str\n"
        ),
        "api/main.py": (
            "from fastapi import FastAPI\n"
            "\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/me')\n"
            "def me(user: User) -> dict:\n"
            "    return {}\n"
            "\n"
            "class User:\n"
            "    pass\n"
        ),
    }


def test_annotations_read_lazily_from_python_3_14_are_no_use_before_definition(
    write_tree: WriteTree,
) -> None:
    """PEP 649: from Python 3.14 on a class attribute's or a plain function's annotation is
    evaluated only when read, so naming a later class there is no NameError; before 3.14 it
    is. A route's annotations are read when FastAPI registers it, in every version."""
    before = where(run(write_tree(_models_platform("3.13")), "CODE002"))
    assert before == [
        ("CODE002", "api/main.py", 6, "api"),
        ("CODE002", "api/models.py", 4, "api"),
        ("CODE002", "api/models.py", 6, "api"),
    ]
    after = where(run(write_tree(_models_platform("3.14")), "CODE002"))
    assert after == [("CODE002", "api/main.py", 6, "api")]


def test_a_missing_path_that_exists_with_other_capitals_is_named(write_tree: WriteTree) -> None:
    """`DockerFile` builds on a laptop whose file system ignores case and fails on Linux: the
    finding says which file is there, not only that the path is missing."""
    root = write_tree(
        {
            "docker-compose.yml": (
                "services:\n"
                "  api:\n"
                "    build: ./api\n"
                "    env_file: .env.api\n"
                "  worker:\n"
                "    build: ./Worker\n"
            ),
            "api/DockerFile": "FROM python:3.12-slim\n",
            ".ENV.api": "DEBUG=1\n",
            "worker/Dockerfile": "FROM python:3.12-slim\n",
        }
    )
    messages = sorted(f.message for f in run(root, "REF002"))
    assert messages == [
        "Dockerfile api/Dockerfile does not exist; api/DockerFile exists: the names differ in "
        "case, which Linux and Docker's build tell apart",
        "build context Worker does not exist; worker exists: the names differ in case, which "
        "Linux and Docker's build tell apart",
        "env_file .env.api does not exist; .ENV.api exists: the names differ in case, which "
        "Linux and Docker's build tell apart",
    ]
