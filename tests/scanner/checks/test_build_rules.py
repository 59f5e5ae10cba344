"""Edges of the rules for images, imports and brokers that real platforms get wrong: user-site
packages, code outside the build context, advertised listeners, databases nobody creates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from passmuster.core.findings import Finding
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import scan

WriteTree = Callable[[dict[str, str]], Path]

COMPOSE = """
services:
  api:
    build: ./services/api
"""
MAIN = """
from fastapi import FastAPI

app = FastAPI()
"""


def image(dockerfile: str) -> dict[str, str]:
    return {
        "docker-compose.yml": COMPOSE,
        "services/api/Dockerfile": dockerfile,
        "services/api/requirements.txt": "fastapi==0.116.1\nuvicorn==0.30.6\n",
        "services/api/app/__init__.py": "",
        "services/api/app/main.py": MAIN,
    }


def run(root: Path, code: str) -> list[Finding]:
    return scan(root, ScanConfig(select=[code])).findings


BUILDER = """
FROM python:3.11-slim AS builder
COPY requirements.txt .
RUN pip install --user -r requirements.txt
FROM python:3.11-slim
"""


def test_user_site_copied_for_root_is_fine_when_the_image_runs_as_root(
    write_tree: WriteTree,
) -> None:
    root = write_tree(image(BUILDER + "COPY --from=builder /root/.local /root/.local\n"))
    assert run(root, "IMG006") == []


def test_user_site_installed_as_root_is_unreachable_for_a_later_user(
    write_tree: WriteTree,
) -> None:
    dockerfile = """
    FROM python:3.11-slim
    COPY requirements.txt .
    RUN pip install --user -r requirements.txt
    RUN adduser --disabled-password worker
    USER worker
    """
    [finding] = run(write_tree(image(dockerfile)), "IMG006")
    assert finding.line == 3
    assert "/root/.local" in finding.message and "/home/worker/.local" in finding.message


def test_user_site_named_by_pythonuserbase_is_searched(write_tree: WriteTree) -> None:
    dockerfile = BUILDER + (
        "COPY --from=builder /root/.local /opt/site\n"
        "ENV PYTHONUSERBASE=/opt/site PATH=/opt/site/bin:$PATH\n"
        "USER nobody\n"
    )
    assert run(write_tree(image(dockerfile)), "IMG006") == []


def test_user_site_on_pythonpath_under_root_is_still_unreadable(write_tree: WriteTree) -> None:
    dockerfile = BUILDER + (
        "COPY --from=builder /root/.local /root/.local\n"
        "ENV PYTHONPATH=/root/.local/lib/python3.11/site-packages\n"
        "USER app\n"
    )
    [finding] = run(write_tree(image(dockerfile)), "IMG006")
    assert "cannot read" in finding.message


def test_user_site_copied_from_a_parent_folder_follows_the_copy(write_tree: WriteTree) -> None:
    dockerfile = BUILDER + "COPY --from=builder /root /home/app\nUSER app\n"
    assert run(write_tree(image(dockerfile)), "IMG006") == []


def test_a_numeric_user_is_not_judged(write_tree: WriteTree) -> None:
    dockerfile = BUILDER + "COPY --from=builder /root/.local /root/.local\nUSER 1000\n"
    assert run(write_tree(image(dockerfile)), "IMG006") == []


KAFKA = """
services:
  kafka:
    image: bitnami/kafka:3.7
    container_name: broker
    environment:
      - KAFKA_CFG_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092
    ports:
      - "9092:9092"
  worker:
    image: ghcr.io/example/worker:2.0
    environment:
      - {client}
"""


def test_advertised_localhost_is_found_through_a_container_name(write_tree: WriteTree) -> None:
    compose = KAFKA.format(client="BROKERS=PLAINTEXT://broker:9092")
    [finding] = run(write_tree({"docker-compose.yml": compose}), "PORT007")
    assert finding.line == 6 and "worker" in finding.message
    assert [r.service for r in finding.related] == ["worker"]


def test_advertised_localhost_only_the_host_uses_is_fine(write_tree: WriteTree) -> None:
    compose = KAFKA.format(client="LOG_LEVEL=info")
    assert run(write_tree({"docker-compose.yml": compose}), "PORT007") == []


POSTGRES = """
services:
  postgres:
    image: postgres:15-alpine
    environment:
      POSTGRES_USER: postgres
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
      POSTGRES_DB: platform
    volumes:
      - ./scripts:/docker-entrypoint-initdb.d
  auth:
    image: ghcr.io/example/auth:1.0
    environment:
      DATABASE_HOST: postgres
      DATABASE_USER: auth
      DATABASE_NAME: {database}
"""


def test_database_and_role_from_separate_variables_must_be_created(
    write_tree: WriteTree,
) -> None:
    root = write_tree(
        {
            "docker-compose.yml": POSTGRES.format(database="auth_db"),
            "scripts/01-schemas.sql": "\\c auth_db;\nCREATE SCHEMA auth;\n",
            "scripts/02-users.sql": "-- CREATE DATABASE auth_db;\nCREATE USER auth;\n",
        }
    )
    found = {(f.path, f.line): f.message for f in run(root, "REF006")}
    assert sorted(found) == [("docker-compose.yml", 15), ("scripts/01-schemas.sql", 1)]
    assert "'auth_db'" in found[("docker-compose.yml", 15)]


def test_databases_an_init_script_creates_are_known(write_tree: WriteTree) -> None:
    script = "CREATE DATABASE auth_db;\nCREATE ROLE auth LOGIN;\n\\connect auth_db\n"
    root = write_tree(
        {
            "docker-compose.yml": POSTGRES.format(database="auth_db"),
            "scripts/init.sql": script,
        }
    )
    assert run(root, "REF006") == []


def test_an_init_script_making_names_from_variables_is_not_judged(
    write_tree: WriteTree,
) -> None:
    script = 'for db in $POSTGRES_MULTIPLE_DATABASES; do\n  psql -c "CREATE DATABASE $db;"\ndone\n'
    root = write_tree(
        {"docker-compose.yml": POSTGRES.format(database="auth_db"), "scripts/multi.sh": script}
    )
    assert run(root, "REF006") == []


def test_mysql_ordinary_user_and_database_are_created_by_the_image(
    write_tree: WriteTree,
) -> None:
    compose = """
    services:
      mysql:
        image: mysql:8.4
        environment:
          MYSQL_DATABASE: shop
          MYSQL_USER: shop
          MYSQL_ROOT_PASSWORD_FILE: /run/secrets/root
      web:
        image: ghcr.io/example/web:3
        environment:
          DATABASE_URL: mysql+pymysql://shop@mysql:3306/shop
          REPORTS_URL: mysql://reports@mysql:3306/shop
    """
    [finding] = run(write_tree({"docker-compose.yml": compose}), "REF006")
    assert "with role 'reports'," in finding.message


def outside_context(compose: str, main_prefix: str = "") -> dict[str, str]:
    return {
        "docker-compose.yml": compose,
        "services/api/Dockerfile": (
            "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
            "RUN pip install -r requirements.txt\n"
            'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
        ),
        "services/api/requirements.txt": "fastapi==0.116.1\nuvicorn==0.30.6\n",
        "services/api/app/__init__.py": "",
        "services/api/app/main.py": main_prefix + "import common.tracing\n" + MAIN,
        "libs/common/__init__.py": "",
        "libs/common/tracing.py": "ENABLED = True\n",
    }


def test_code_outside_the_build_context_is_named_with_its_folder(write_tree: WriteTree) -> None:
    [finding] = run(write_tree(outside_context(COMPOSE)), "CODE006")
    assert (finding.path, finding.line) == ("services/api/app/main.py", 1)
    assert "libs/common/" in finding.message and "services/api" in finding.message


def test_code_outside_the_context_that_compose_mounts_is_not_flagged(
    write_tree: WriteTree,
) -> None:
    compose = COMPOSE + "    volumes:\n      - ./libs/common:/app/common\n"
    assert run(write_tree(outside_context(compose)), "CODE006") == []


def test_an_optional_import_of_outside_code_is_not_flagged(write_tree: WriteTree) -> None:
    files = outside_context(COMPOSE)
    files["services/api/app/main.py"] = (
        "try:\n    import common.tracing\nexcept ImportError:\n    pass\n" + MAIN
    )
    assert run(write_tree(files), "CODE006") == []


def client_library(requirements: str) -> dict[str, str]:
    files = outside_context(COMPOSE)
    files["services/api/requirements.txt"] = requirements
    files["services/api/app/main.py"] = "import grpc\n" + MAIN
    return files


def test_a_client_library_no_requirement_installs_is_flagged(write_tree: WriteTree) -> None:
    root = write_tree(client_library("fastapi==0.116.1\nuvicorn==0.30.6\n"))
    [finding] = run(root, "CODE006")
    assert "grpcio" in finding.message and "services/api/requirements.txt" in finding.message


def test_a_client_library_a_dependency_brings_is_fine(write_tree: WriteTree) -> None:
    root = write_tree(client_library("fastapi==0.116.1\ngoogle-cloud-pubsub==2.23.0\n"))
    assert run(root, "CODE006") == []


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def celery_pair(write_tree: WriteTree, ai_command: str, mail_tasks_extra: str = "") -> Path:
    bad = FIXTURES / "CODE007" / "bad"
    files = {
        str(p.relative_to(bad)): p.read_text(encoding="utf-8")
        for p in bad.rglob("*")
        if p.is_file()
    }
    files["docker-compose.yml"] = files["docker-compose.yml"].replace(
        "command: celery -A app.tasks.celery_app worker --loglevel=info\n    environment: *env\n"
        "    depends_on:\n      - redis\n  mail-worker",
        f"command: {ai_command}\n    environment: *env\n    depends_on:\n      - redis\n"
        "  mail-worker",
    )
    files["services/mail/app/tasks.py"] += mail_tasks_extra
    return write_tree(files)


def test_celery_workers_on_their_own_queues_share_a_broker_safely(
    write_tree: WriteTree,
) -> None:
    root = celery_pair(write_tree, "celery -A app.tasks.celery_app worker -Q ai")
    assert run(root, "CODE007") == []


def test_a_configured_default_queue_is_left_alone_an_explicit_common_one_is_not(
    write_tree: WriteTree,
) -> None:
    root = celery_pair(
        write_tree,
        "celery -A app.tasks.celery_app worker --queues=ai,mail",
        'celery_app.conf.task_default_queue = "mail"\n',
    )
    assert run(root, "CODE007") == []  # mail's worker takes its configured queue: unknown here
    [finding] = run(
        celery_pair(write_tree, "celery -A app.tasks.celery_app worker -Q celery"), "CODE007"
    )
    assert "'celery'" in finding.message and "redis://redis:6379/0" in finding.message


ADMIN = """
services:
  grafana:
    image: grafana/grafana:11.1.0
    ports:
      - "127.0.0.1:3000:3000"
  prometheus:
    image: prom/prometheus:v2.53.0
    ports:
      - "127.0.0.1:9090:9090"
  pgadmin:
    image: dpage/pgadmin4:8.9
    ports:
      - "{pgadmin}"
"""


def test_the_only_port_on_every_interface_breaks_the_projects_convention(
    write_tree: WriteTree,
) -> None:
    [finding] = run(write_tree({"docker-compose.yml": ADMIN.format(pgadmin="5050:80")}), "PORT008")
    assert finding.line == 13 and "grafana, prometheus" in finding.message


def test_a_project_publishing_on_every_interface_has_no_loopback_convention(
    write_tree: WriteTree,
) -> None:
    compose = ADMIN.format(pgadmin="5050:80").replace("127.0.0.1:9090", "9090")
    assert run(write_tree({"docker-compose.yml": compose}), "PORT008") == []
