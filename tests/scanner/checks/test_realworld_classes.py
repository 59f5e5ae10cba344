"""Classes of false findings seen on real repositories, each as a pair of small trees: the
defect still reported, the correct layout left alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from passmuster.core.findings import Finding
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import scan

WriteTree = Callable[[dict[str, str]], Path]


def run(root: Path, *codes: str) -> list[Finding]:
    return scan(root, ScanConfig(select=list(codes))).findings


def _flask_image(final_stage: str) -> str:
    return f"""
FROM python:3.11-slim AS builder
WORKDIR /code
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
ENV FLASK_APP=hello.py
ENV FLASK_RUN_HOST=0.0.0.0
ENV FLASK_RUN_PORT=8000
CMD ["flask", "run"]
{final_stage}
"""


def _flask_platform(target: str) -> dict[str, str]:
    return {
        "compose.yaml": f"""
services:
  backend:
    build:
      context: backend
      {target}
    ports:
      - "8000:8000"
""",
        "backend/Dockerfile": _flask_image(
            'FROM python:3.11-slim AS other\nWORKDIR /code\nCMD ["flask", "run"]'
        ),
        "backend/requirements.txt": "flask==3.0.3\n",
        "backend/hello.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    }


def test_compose_build_target_is_the_stage_the_image_is(write_tree: WriteTree) -> None:
    """`flask run` with FLASK_RUN_HOST/FLASK_RUN_PORT set in the targeted stage listens on
    0.0.0.0:8000; the last stage, which nobody builds here, would not."""
    good = write_tree(_flask_platform("target: builder"))
    assert run(good, "IMG005", "PORT002") == []
    bad = write_tree(_flask_platform(""))
    assert {f.code for f in run(bad, "IMG005", "PORT002")} == {"IMG005", "PORT002"}


def test_flask_reads_its_port_and_host_from_the_environment(write_tree: WriteTree) -> None:
    files = _flask_platform("")
    files["backend/Dockerfile"] = _flask_image("")
    assert run(write_tree(files), "IMG005", "PORT002") == []


def _overlay(depends: str) -> dict[str, str]:
    return {
        "docker-compose.yml": """
services:
  postgres:
    image: postgres:16
  api:
    image: example/api:1
""",
        "docker-compose.staging.yml": f"""
services:
  worker:
    image: example/worker:1
    depends_on:
      - {depends}
""",
    }


def test_an_overlay_depending_on_base_services_runs_with_its_base(
    write_tree: WriteTree,
) -> None:
    assert run(write_tree(_overlay("postgres")), "REF001") == []
    [finding] = run(write_tree(_overlay("rabbitmq")), "REF001")
    assert "'rabbitmq'" in finding.message


def _dev_stack(dockerfile: str) -> dict[str, str]:
    return {
        "docker-compose.yml": f"""
services:
  postgres:
    image: postgres:16
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: changeme
  api:
    build:
      context: .
      dockerfile: api/{dockerfile}
    environment:
      SECRET_KEY: changeme
""",
        f"api/{dockerfile}": 'FROM python:3.11-slim\nCOPY . .\nCMD ["python", "-m", "api"]\n',
        "api/__init__.py": "",
        "api/__main__.py": "print('up')\n",
    }


def test_a_stack_built_only_from_development_dockerfiles_is_a_development_setup(
    write_tree: WriteTree,
) -> None:
    assert run(write_tree(_dev_stack("Dockerfile.dev")), "ENV003") == []
    found = run(write_tree(_dev_stack("Dockerfile")), "ENV003")
    assert found and all(f.code == "ENV003" for f in found)


def _db_per_service(stale: str) -> dict[str, str]:
    return {
        "docker-compose.yml": """
services:
  db-auth:
    image: postgres:17
    environment:
      POSTGRES_USER: postgres
      POSTGRES_PASSWORD: admin
      POSTGRES_DB: db_auth
  auth:
    image: example/auth:1
    env_file: auth.env
    environment:
      DATABASE_URL: postgresql+asyncpg://postgres:admin@db-auth:5432/db_auth
""",
        "auth.env": f"POSTGRES_DB={stale}\nPOSTGRES_PASSWORD=admin\n",
    }


def test_a_stale_database_name_beside_the_url_is_not_a_second_database(
    write_tree: WriteTree,
) -> None:
    assert run(write_tree(_db_per_service("db_product")), "ENV006") == []


def _settings(main: str, environment: str = "") -> dict[str, str]:
    return {
        "docker-compose.yml": f"""
services:
  api:
    build: ./api
    environment:
      PLACEHOLDER: "1"
{environment}
  cache:
    image: redis:7
""",
        "api/Dockerfile": (
            "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
            'CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]\n'
        ),
        "api/requirements.txt": "fastapi==0.116.1\n",
        "api/main.py": main,
    }


CHAIN = """
import os
from fastapi import FastAPI

REDIS_URL = os.environ.get("APP_REDIS_URL", os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
app = FastAPI()
"""
OR_FALLBACK = """
import os
from fastapi import FastAPI

REDIS_URL = os.getenv("REDIS_URL") or "redis://localhost:6379/0"
app = FastAPI()
"""


def test_a_fallback_chain_is_overridden_by_any_variable_it_reads(write_tree: WriteTree) -> None:
    outer = "      APP_REDIS_URL: redis://cache:6379/0"
    assert run(write_tree(_settings(CHAIN, outer)), "CODE005") == []
    assert [f.code for f in run(write_tree(_settings(CHAIN)), "CODE005")] == ["CODE005"]


def test_an_or_fallback_is_overridden_by_its_variable(write_tree: WriteTree) -> None:
    set_ = "      REDIS_URL: redis://cache:6379/0"
    assert run(write_tree(_settings(OR_FALLBACK, set_)), "CODE005") == []
    assert [f.code for f in run(write_tree(_settings(OR_FALLBACK)), "CODE005")] == ["CODE005"]


def test_smoke_and_end_to_end_scripts_are_test_code(write_tree: WriteTree) -> None:
    script = 'import httpx\n\nGATEWAY_URL = "http://localhost:6379"\nfrom db import nothing_here\n'
    files = _settings("from fastapi import FastAPI\n\napp = FastAPI()\n")
    files["api/db.py"] = "VALUE = 1\n"
    files["api/smoke.py"] = script
    files["api/e2e/run_tests.py"] = script
    assert run(write_tree(files), "CODE005", "CODE001") == []
    files["api/tools.py"] = script
    files["api/main.py"] = "import tools\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
    assert {f.path for f in run(write_tree(files), "CODE005", "CODE001")} == {"api/tools.py"}


SETTINGS = """
from fastapi import FastAPI
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    broker_url: str = "redis://localhost:6379/0"
    OTEL_ENABLED: bool = False
    OTEL_EXPORTER_OTLP_ENDPOINT: str = "http://localhost:4317"
    unused_url: str = "redis://localhost:6379/1"


settings = Settings()
app = FastAPI()
print(settings.broker_url, settings.OTEL_EXPORTER_OTLP_ENDPOINT)
"""


def test_settings_nothing_reads_or_of_a_feature_kept_off_are_left_alone(
    write_tree: WriteTree,
) -> None:
    [finding] = run(write_tree(_settings(SETTINGS)), "CODE005")
    assert finding.line == 6  # broker_url: read, and nothing turns it off
    enabled = "      OTEL_ENABLED: 'true'"
    lines = {f.line for f in run(write_tree(_settings(SETTINGS, enabled)), "CODE005")}
    assert lines == {6, 8}


def test_a_kept_out_env_file_sets_what_its_committed_example_documents(
    write_tree: WriteTree,
) -> None:
    files = _settings(OR_FALLBACK, "    env_file: .env")
    assert [f.code for f in run(write_tree(files), "CODE005")] == ["CODE005"]
    files[".env.example"] = "REDIS_URL=redis://cache:6379/0\n"
    assert run(write_tree(files), "CODE005") == []


def test_links_in_html_for_a_person_are_left_alone(write_tree: WriteTree) -> None:
    main = (
        "from fastapi import FastAPI\n\napp = FastAPI()\n"
        'BODY = f"""<html><body><p>Open http://127.0.0.1:6379/start</p></body></html>"""\n'
        'CACHE = "redis://127.0.0.1:6379/0"\n'
    )
    assert [f.line for f in run(write_tree(_settings(main)), "CODE005")] == [5]


def _psutil(pin: str, base: str) -> dict[str, str]:
    return {
        "docker-compose.yml": "services:\n  api:\n    build: ./api\n",
        "api/Dockerfile": (
            f"FROM {base}\nWORKDIR /app\nCOPY requirements.txt .\n"
            "RUN pip install -r requirements.txt\nCOPY . .\n"
            'CMD ["python", "main.py"]\n'
        ),
        "api/requirements.txt": f"psutil{pin}\n",
        "api/main.py": "import psutil\n",
    }


def test_a_release_that_ships_a_wheel_for_the_image_compiles_nothing(
    write_tree: WriteTree,
) -> None:
    for pin in ("==5.9.8", ">=5.9.0", ""):
        assert run(write_tree(_psutil(pin, "python:3.11-slim")), "IMG001") == [], pin
    assert [f.code for f in run(write_tree(_psutil("==5.9.0", "python:3.11-slim")), "IMG001")]
    assert [f.code for f in run(write_tree(_psutil("==5.9.8", "python:3.11-alpine")), "IMG001")]


def test_editions_of_images_made_for_the_docker_socket_are_allowed(
    write_tree: WriteTree,
) -> None:
    compose = (
        "services:\n  ui:\n    image: {image}\n    volumes:\n"
        "      - /var/run/docker.sock:/var/run/docker.sock\n"
    )
    for image in ("portainer/portainer-ce:alpine", "portainer/agent:2.19"):
        assert run(write_tree({"docker-compose.yml": compose.format(image=image)}), "ENV007") == []
    assert run(write_tree({"docker-compose.yml": compose.format(image="acme/api:1")}), "ENV007")


def test_expose_describes_the_image_not_the_command_compose_gives(write_tree: WriteTree) -> None:
    files = {
        "docker-compose.yml": (
            "services:\n  web:\n    build: ./web\n"
            '    command: gunicorn -w 2 -b 0.0.0.0:8000 app:app\n    ports:\n      - "8000:8000"\n'
        ),
        "web/Dockerfile": (
            "FROM python:3.11-slim\nCOPY . .\nRUN pip install -r requirements.txt\n"
            'EXPOSE 5000\nCMD ["flask", "run", "--host", "0.0.0.0"]\n'
        ),
        "web/requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\n",
        "web/app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    }
    assert run(write_tree(files), "IMG003") == []
    files["web/Dockerfile"] = files["web/Dockerfile"].replace(
        '"--host"', '"--port", "5001", "--host"'
    )
    assert [f.code for f in run(write_tree(files), "IMG003")] == ["IMG003"]


def test_an_unread_settings_secret_is_not_a_placeholder_that_runs(write_tree: WriteTree) -> None:
    main = (
        "from fastapi import FastAPI\nfrom pydantic_settings import BaseSettings\n\n\n"
        'class Settings(BaseSettings):\n    jwt_secret: str = "changeme"\n\n\n'
        "settings = Settings()\napp = FastAPI()\n"
    )
    assert run(write_tree(_settings(main)), "ENV003") == []
    used = main + "print(settings.jwt_secret)\n"
    assert [f.code for f in run(write_tree(_settings(used)), "ENV003")] == ["ENV003"]


def test_the_ordinary_users_password_equal_to_roots_is_not_root_access(
    write_tree: WriteTree,
) -> None:
    compose = """
services:
  nc:
    image: nextcloud:apache
    environment:
      - MYSQL_HOST=db
      - MYSQL_USER={user}
      - MYSQL_PASSWORD=nextcloud
  db:
    image: mariadb:10.5
    environment:
      - MYSQL_DATABASE=nextcloud
      - MYSQL_USER=nextcloud
      - MYSQL_ROOT_PASSWORD=nextcloud
      - MYSQL_PASSWORD=nextcloud
"""
    ordinary = write_tree({"docker-compose.yml": compose.format(user="nextcloud")})
    assert run(ordinary, "ENV006") == []
    root = write_tree({"docker-compose.yml": compose.format(user="root")})
    assert [f.code for f in run(root, "ENV006")] == ["ENV006"]


MODEL = """
import os
from fastapi import FastAPI
from pydantic import BaseModel, Field


class APIConfig(BaseModel):
    base_url: str = Field(default="redis://localhost:6379/0")


config = APIConfig({given})
app = FastAPI()
"""


def test_a_model_default_every_construction_replaces_is_unused(write_tree: WriteTree) -> None:
    given = 'base_url=os.getenv("REDIS_URL", "redis://cache:6379/0")'
    assert run(write_tree(_settings(MODEL.format(given=given))), "CODE005") == []
    [finding] = run(write_tree(_settings(MODEL.format(given=""))), "CODE005")
    assert finding.line == 7


def test_a_services_own_credentials_equal_to_the_databases_are_no_login_to_it(
    write_tree: WriteTree,
) -> None:
    """MinIO's root password equal to PostgreSQL's does not make MinIO a database client: the
    platform's one database, used through its one owner role, stays unreported."""
    compose = """
services:
  postgres:
    image: postgres:15-alpine
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: app_dev_password
      POSTGRES_DB: app
  minio:
    image: minio/minio:latest
    environment:
      MINIO_ROOT_USER: app
      MINIO_ROOT_PASSWORD: app_dev_password
  api:
    image: example/api
    environment:
      - DATABASE_URL=postgresql://app:app_dev_password@postgres:5432/app
  worker:
    image: example/worker
    environment:
      - {password}=app_dev_password
      - DB_NAME=other
"""
    own = write_tree({"docker-compose.yml": compose.format(password="MINIO_SECRET")})
    assert run(own, "ENV006") == []
    # A worker logging in with the same password by a database variable, to another
    # database, is still reported.
    login = write_tree({"docker-compose.yml": compose.format(password="DB_PASSWORD")})
    assert [f.code for f in run(login, "ENV006")] == ["ENV006"]


def _copying_service(dockerfile: str, **files: str) -> dict[str, str]:
    compose = "services:\n  api:\n    build:\n      context: ./api\n    ports: ['8000:8000']\n"
    return {"docker-compose.yml": compose, "api/Dockerfile": dockerfile, **files}


def test_a_copy_source_missing_from_the_build_context_stops_the_build(
    write_tree: WriteTree,
) -> None:
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
        "COPY Requirements.txt .\nCOPY app ./app\n"
    )
    tree = write_tree(
        _copying_service(dockerfile, **{"api/requirements.txt": "", "api/app/main.py": ""})
    )
    found = run(tree, "REF005")
    assert [(f.path, f.line) for f in found] == [("api/Dockerfile", 3), ("api/Dockerfile", 4)]
    assert "pyproject.toml, poetry.lock" in found[0].message
    assert "Requirements.txt" in found[1].message and "(api)" in found[1].message


TOLERATED_COPIES = """
FROM python:3.12-slim AS unused
COPY nothing-here.txt /tmp/
FROM python:3.12-slim AS deps
WORKDIR /app
COPY requirements.txt poetry.lock* ./
COPY ${APP_DIR}/extra.txt ./
FROM python:3.12-slim
COPY --from=deps /app /app
COPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv
ADD https://example.com/tool.tar.gz /tmp/
COPY dist/ /app/dist/
COPY <<EOF /app/motd
hello
EOF
COPY . /app
"""


def test_copies_the_build_tolerates_or_never_reads_are_left_alone(write_tree: WriteTree) -> None:
    files = {"api/requirements.txt": "", "api/.gitignore": "dist/\n"}
    assert run(write_tree(_copying_service(TOLERATED_COPIES, **files)), "REF005") == []
    # The stage the image copies from is read: a file missing there breaks the build.
    broken = TOLERATED_COPIES.replace("COPY requirements.txt poetry.lock* ./", "COPY setup.cfg ./")
    found = run(write_tree(_copying_service(broken, **files)), "REF005")
    assert [f.line for f in found] == [
        broken.lstrip("\n").splitlines().index("COPY setup.cfg ./") + 1
    ]


def test_a_submodule_this_clone_does_not_hold_is_not_a_missing_path(
    write_tree: WriteTree,
) -> None:
    compose = """
services:
  auth:
    build:
      context: ./services/auth
      dockerfile: Dockerfile
    env_file: services/auth/.env.docker
  user:
    build: ./services/user
"""
    modules = '[submodule "services/auth"]\n\tpath = services/auth\n\turl = git@example.com:a.git\n'
    tree = write_tree({"docker-compose.yml": compose, ".gitmodules": modules})
    (tree / "services" / "auth").mkdir(parents=True)  # as `git clone` leaves a submodule
    found = run(tree, "REF002", "REF005")
    # The user service is no submodule: its missing build context is still reported.
    assert [(f.code, f.service) for f in found] == [("REF002", "user")]


def test_a_dockerfile_written_for_the_root_context_says_so(write_tree: WriteTree) -> None:
    dockerfile = "FROM python:3.12-slim\nCOPY api/requirements.txt .\nCOPY libs/common /libs\n"
    files = {"api/requirements.txt": "", "libs/common/__init__.py": ""}
    tree = write_tree(_copying_service(dockerfile, **files))
    (finding,) = run(tree, "REF005")  # one cause, one finding listing both lines
    assert "written for `context: .`" in finding.message
    assert "api/requirements.txt, libs/common" in finding.message
    assert [(r.path, r.line) for r in finding.related][-1] == ("api/Dockerfile", 3)


def test_a_health_check_on_a_port_the_code_serves_besides_is_left_alone(
    write_tree: WriteTree,
) -> None:
    compose = """
services:
  api:
    build: ./api
    command: uvicorn main:app --host 0.0.0.0 --port 8000
    ports: ["8000:8000"]
    healthcheck:
      test: ["CMD", "python", "-c", "{probe}"]
"""
    probe = "import socket; socket.create_connection(('127.0.0.1', {port}))"
    files = {
        "api/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n",
        "api/main.py": "from prometheus_client import start_http_server\nstart_http_server(9100)\n",
    }
    metrics = write_tree(
        {"docker-compose.yml": compose.format(probe=probe.format(port=9100)), **files}
    )
    assert run(metrics, "PORT009") == []
    nothing = write_tree(
        {"docker-compose.yml": compose.format(probe=probe.format(port=9200)), **files}
    )
    assert [f.code for f in run(nothing, "PORT009")] == ["PORT009"]


def test_an_image_variable_that_only_sets_a_value_or_is_overridden_is_left_alone(
    write_tree: WriteTree,
) -> None:
    compose = """
services:
  api:
    build: .
  worker:
    build: .
    {worker}
"""
    dockerfile = "FROM python:3.12-slim\nENV APP=api PORT=8000\nCOPY . /app\nCMD {cmd}\n"
    by_port = "uvicorn main:app --host 0.0.0.0 --port ${PORT}"
    by_app = "python /app/${APP}/main.py"
    cases = [
        (by_port, "environment: {X: y}", []),  # the port is a value, not a choice of code
        (by_app, "command: python /app/worker/main.py", []),  # one service left: no sharing
        (by_app, "environment: {APP: worker}", []),  # one of them sets it
        (by_app, "environment: {X: y}", ["ENV011"]),
    ]
    for cmd, worker, codes in cases:
        tree = write_tree(
            {
                "docker-compose.yml": compose.format(worker=worker),
                "Dockerfile": dockerfile.format(cmd=cmd),
            }
        )
        assert [f.code for f in run(tree, "ENV011")] == codes, (cmd, worker)


def test_a_lowercase_dockerfile_is_the_one_docker_builds(write_tree: WriteTree) -> None:
    compose = "services:\n  api:\n    build: ./api\n    ports: ['8000:8000']\n"
    files = {
        "docker-compose.yml": compose,
        "api/dockerfile": "FROM python:3.12-slim\nCOPY main.py /app/\nCOPY missing.txt /app/\n",
        "api/main.py": "",
    }
    found = run(write_tree(files), "REF002", "REF005")
    # No missing Dockerfile; the lowercase one is read, so its missing COPY source is reported.
    assert [(f.code, f.path) for f in found] == [("REF005", "api/dockerfile")]
