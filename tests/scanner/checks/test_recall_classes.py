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
    main = "from fastapi import FastAPI\n\nfrom app.schemas import {names}\n\napp = FastAPI()\n"
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


def _flask_service(port: int, code: str = "") -> dict[str, str]:
    return {
        "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r "
        'requirements.txt\nCMD ["python", "run.py"]\n',
        "requirements.txt": "flask==3.1.0\nrequests==2.32.3\n",
        "run.py": "from app import create_app\n\napp = create_app()\n\n"
        f'if __name__ == "__main__":\n    app.run(host="0.0.0.0", port={port})\n',
        "app/__init__.py": "from flask import Flask\n\nfrom app import calls\n\n\n"
        "def create_app():\n    return Flask(__name__)\n",
        "app/calls.py": code,
    }


def test_localhost_url_on_a_port_the_caller_maps_but_does_not_listen_on(
    write_tree: WriteTree,
) -> None:
    """The calling service publishes `8003:5000` but its server listens on 5001; its code
    calls `http://localhost:5000`, the catalog's port. The wrong mapping made 5000 count as
    the caller's own port, and the localhost call went unreported."""
    tree = {
        "docker-compose.yml": """services:
  catalog:
    build: ./catalog
    ports:
      - "8002:5000"
  orders:
    build: ./orders
    ports:
      - "8003:5000"
""",
    }
    code = 'import requests\n\nCATALOG = "http://localhost:5000/items"\n'
    for path, text in _flask_service(5000).items():
        tree[f"catalog/{path}"] = text
    for path, text in _flask_service(5001, code).items():
        tree[f"orders/{path}"] = text
    root = write_tree(tree)
    findings = run(root, "CODE005")
    assert where(findings) == [("CODE005", "orders/app/calls.py", 3, "orders")]
    assert "catalog's port" in findings[0].message
    # Its own port is its own: a call to itself on 5001 is left alone.
    (root / "orders/app/calls.py").write_text(
        'import requests\n\nSELF = "http://localhost:5001/health"\n', encoding="utf-8"
    )
    assert run(root, "CODE005") == []


def test_code_url_without_a_port_naming_no_service(write_tree: WriteTree) -> None:
    """`http://billing-host/invoices/{id}` in an f-string, with no port: the host is no
    compose service (the service is `billing`). URLs in code were only read with a port."""
    tree = {
        "docker-compose.yml": """services:
  billing:
    build: ./billing
  orders:
    build: ./orders
""",
    }
    code = (
        "import requests\n\n\n"
        "def invoice(order_id):\n"
        '    return requests.get(f"http://billing-host/invoices/{order_id}")\n\n\n'
        "def paid(order_id):\n"
        '    return requests.get(f"http://billing/invoices/{order_id}/paid")\n'
    )
    for path, text in _flask_service(5000).items():
        tree[f"billing/{path}"] = text
    for path, text in _flask_service(5000, code).items():
        tree[f"orders/{path}"] = text
    root = write_tree(tree)
    findings = run(root, "PORT003")
    # The second call names the service rightly; its port (80 by default) is not judged.
    assert where(findings) == [("PORT003", "orders/app/calls.py", 5, "orders")]
    assert "'billing-host'" in findings[0].message


def test_superuser_password_alike_on_two_servers_each_service_its_own(
    write_tree: WriteTree,
) -> None:
    """Two PostgreSQL servers initialised with the same superuser and password, each used by
    one service that names it in `DB_HOST`: the password matched both servers, and each
    service was said to log in to the other's server too."""
    compose = """services:
  users:
    build: ./users
    environment:
      DB_HOST: users-db
      DB_USER: admin
      DB_PASSWORD: s3cr3t-Users-9
      DB_NAME: {users_db}
  stock:
    build: ./stock
    environment:
      DB_HOST: {stock_host}
      DB_USER: admin
      DB_PASSWORD: s3cr3t-Users-9
      DB_NAME: stockdb
  users-db:
    image: postgres:16
    environment:
      POSTGRES_USER: admin
      POSTGRES_PASSWORD: s3cr3t-Users-9
      POSTGRES_DB: usersdb
  stock-db:
    image: postgres:16
    environment:
      POSTGRES_USER: admin
      POSTGRES_PASSWORD: s3cr3t-Users-9
      POSTGRES_DB: stockdb
"""
    tree = {"docker-compose.yml": compose.format(users_db="usersdb", stock_host="stock-db")}
    for name in ("users", "stock"):
        tree[f"{name}/Dockerfile"] = 'FROM python:3.12-slim\nCMD ["python", "app.py"]\n'
        tree[f"{name}/app.py"] = "import os\n\nHOST = os.environ['DB_HOST']\n"
    root = write_tree(tree)
    assert run(root, "ENV006") == []
    # Both on one server, in two databases, as its superuser: reported.
    (root / "docker-compose.yml").write_text(
        compose.format(users_db="usersdb", stock_host="users-db"), encoding="utf-8"
    )
    found = run(root, "ENV006")
    assert [(f.code, f.service) for f in found] == [("ENV006", "users")]
    assert "users-db" in found[0].message and "stockdb, usersdb" in found[0].message


def test_pymysql_without_cryptography_against_mysql_8(write_tree: WriteTree) -> None:
    """PyMySQL needs `cryptography` for MySQL 8's default caching_sha2_password login; a
    service installing PyMySQL alone, with only MySQL 8 servers in its project, fails its
    first connection after the server starts."""
    compose = """services:
  shop:
    build: ./shop
    environment:
      DATABASE_URL: mysql+pymysql://shop:pw@shop-db:3306/shop
  shop-db:
    image: {image}
{extra}    environment:
      MYSQL_DATABASE: shop
"""
    files = {
        "shop/Dockerfile": 'FROM python:3.12-slim\nCMD ["python", "app.py"]\n',
        "shop/requirements.txt": "flask==3.1.0\nPyMySQL==1.1.1\n",
        "shop/app.py": "import os\n\nURL = os.environ['DATABASE_URL']\n",
    }

    def scan_with(image: str, extra: str = "", requirements: str | None = None) -> list[str]:
        tree = dict(files, **{"docker-compose.yml": compose.format(image=image, extra=extra)})
        if requirements is not None:
            tree["shop/requirements.txt"] = requirements
        return [f"{f.path}:{f.line}" for f in run(write_tree(tree), "REQ005")]

    assert scan_with("mysql:8.4") == ["shop/requirements.txt:2"]
    assert scan_with("mysql") == ["shop/requirements.txt:2"]  # latest: 8 or later
    # Left alone: cryptography installed, directly or through an extra; MySQL 5.7; a
    # server switched back to mysql_native_password.
    assert scan_with("mysql:8.4", requirements="PyMySQL==1.1.1\ncryptography==43.0.1\n") == []
    assert scan_with("mysql:8.4", requirements="PyMySQL[rsa]==1.1.1\n") == []
    assert scan_with("mysql:5.7") == []
    native = "    command: --default-authentication-plugin=mysql_native_password\n"
    assert scan_with("mysql:8.0", extra=native) == []


def test_localhost_database_url_of_the_testing_configuration(write_tree: WriteTree) -> None:
    """Flask's config-per-environment layout: `TestingConfig` points at a local database
    for the test run; the container runs `DevelopmentConfig`. Only the URL of the
    configuration the service runs with is its concern."""
    config = (
        "import os\n\n\n"
        "class Config:\n"
        "    MONGO_URI = os.getenv('MONGO_URI', 'mongodb://mongo:27017/app')\n\n\n"
        "class TestingConfig(Config):\n"
        "    MONGO_URI = os.getenv('MONGO_URI_TEST', 'mongodb://localhost:27017/app_test')\n\n\n"
        "class ProductionConfig(Config):\n"
        "    CACHE_URL = 'redis://localhost:6379/0'\n\n\n"
        "config_by_name = dict(testing=TestingConfig, production=ProductionConfig)\n"
    )
    tree = {
        "docker-compose.yml": """services:
  records:
    build: ./records
    environment:
      MONGO_URI: mongodb://mongo:27017/app
  mongo:
    image: mongo:7
""",
        "records/Dockerfile": 'FROM python:3.12-slim\nCMD ["python", "run.py"]\n',
        "records/requirements.txt": "flask==3.1.0\npymongo==4.8.0\n",
        "records/run.py": (
            "from config import config_by_name\n\nCFG = config_by_name['production']\n"
        ),
        "records/config.py": config,
    }
    findings = run(write_tree(tree), "CODE005")
    # The production class's cache URL is still reported; the testing class's is not.
    assert where(findings) == [("CODE005", "records/config.py", 13, "records")]


def test_gunicorn_chdir_value_is_not_the_app_target(write_tree: WriteTree) -> None:
    """`gunicorn --chdir app main:app`: `app` is the folder gunicorn changes into, and
    `main:app` the target. The folder was read as the target, and the service reported
    as starting a module that does not exist."""
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /srv\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY app ./app\n"
        'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--chdir", "app", "main:{name}"]\n'
    )
    tree = {
        "docker-compose.yml": "services:\n  board:\n    build: ./board\n",
        "board/Dockerfile": dockerfile.format(name="app"),
        "board/requirements.txt": "flask==3.1.0\ngunicorn==23.0.0\n",
        "board/app/main.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    }
    root = write_tree(tree)
    assert run(root, "CODE003") == []
    (root / "board/Dockerfile").write_text(dockerfile.format(name="server"), encoding="utf-8")
    [finding] = run(root, "CODE003")
    assert "main:server" in finding.message and "board/app/main.py" in finding.message


def test_process_and_port_probe_tools_missing_from_a_slim_image(write_tree: WriteTree) -> None:
    """A worker with no HTTP endpoint checks its process with `pgrep` (procps) or its port
    with `nc`: python:*-slim ships neither, so the check never passes. Alpine's BusyBox has
    both; installing procps or a netcat makes the slim image right."""
    dockerfile = (
        "FROM {base}\nWORKDIR /app\n{install}COPY . .\n"
        'HEALTHCHECK CMD {probe} || exit 1\nCMD ["python", "main.py"]\n'
    )
    compose = "services:\n  feeder:\n    build: ./feeder\n"

    def codes(base: str, probe: str, install: str = "") -> list[str]:
        tree = {
            "docker-compose.yml": compose,
            "feeder/Dockerfile": dockerfile.format(base=base, probe=probe, install=install),
            "feeder/main.py": "print('feeding')\n",
        }
        return [f"{f.code}:{f.line}" for f in run(write_tree(tree), "IMG002")]

    assert codes("python:3.12-slim", 'pgrep -f "python main.py"') == ["IMG002:4"]
    assert codes("python:3.12-slim", "nc -z localhost 9000") == ["IMG002:4"]
    assert codes("python:3.12-alpine", 'pgrep -f "python main.py"') == []
    apt = "RUN apt-get update && apt-get install -y --no-install-recommends procps\n"
    assert codes("python:3.12-slim", 'pgrep -f "python main.py"', install=apt) == []


def test_metrics_and_json_logging_imports_the_requirements_do_not_install(
    write_tree: WriteTree,
) -> None:
    """Consumers copied from one template import prometheus_client and pythonjsonlogger at
    start; one service's requirements dropped both. A package that depends on the library
    (prometheus-fastapi-instrumentator) counts as installing it."""
    consumer = (
        "from prometheus_client import Counter\n"
        "from pythonjsonlogger import jsonlogger\n\n"
        "SEEN = Counter('seen', 'events seen')\n"
    )
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY app ./app\n"
        'CMD ["python", "-m", "app.consumer"]\n'
    )
    tree = {
        "docker-compose.yml": "services:\n  seats:\n    build: ./seats\n",
        "seats/Dockerfile": dockerfile,
        "seats/requirements.txt": "confluent-kafka==2.4.0\ntenacity==8.3.0\n",
        "seats/app/__init__.py": "",
        "seats/app/consumer.py": consumer,
    }
    root = write_tree(tree)
    found = run(root, "CODE006")
    assert [(f.path, f.line) for f in found] == [
        ("seats/app/consumer.py", 1),
        ("seats/app/consumer.py", 2),
    ]
    (root / "seats/requirements.txt").write_text(
        "prometheus-fastapi-instrumentator==7.0.0\npython-json-logger==2.0.7\n", encoding="utf-8"
    )
    assert run(root, "CODE006") == []


def test_database_console_holding_the_root_password(write_tree: WriteTree) -> None:
    """phpMyAdmin beside MySQL, handed MYSQL_ROOT_PASSWORD: administering the server is what
    the console is for (and the image ignores that variable). An application service handed
    the same variable is still reported."""
    compose = """services:
  db:
    image: mysql:8.0
    environment:
      MYSQL_ROOT_PASSWORD: Zx81-root-pass
      MYSQL_USER: app
      MYSQL_PASSWORD: Zx81-app-pass
  console:
    image: phpmyadmin/phpmyadmin
    environment:
      PMA_HOST: db
      MYSQL_ROOT_PASSWORD: Zx81-root-pass
{extra}"""
    worker = """  worker:
    image: acme/worker:1
    environment:
      MYSQL_ROOT_PASSWORD: Zx81-root-pass
"""
    root = write_tree({"docker-compose.yml": compose.format(extra="")})
    assert run(root, "ENV006") == []
    root = write_tree({"docker-compose.yml": compose.format(extra=worker)})
    assert [f.service for f in run(root, "ENV006")] == ["worker"]


def test_auth_module_copied_into_services_that_do_not_install_its_libraries(
    write_tree: WriteTree,
) -> None:
    """One `auth.py` copied into every service imports python-jose; one service's
    requirements forget it, another's forget SQLAlchemy its entry module imports. The
    OAuth2 `tokenUrl` on localhost is where the docs page in a browser posts the login form,
    not an address the service calls."""
    auth = (
        "from fastapi.security import OAuth2PasswordBearer\n"
        "from jose import jwt\n\n"
        'scheme = OAuth2PasswordBearer(tokenUrl="http://localhost:8004/token")\n'
    )
    main = (
        "from fastapi import FastAPI\nfrom sqlalchemy.orm import Session\n\n"
        "from auth import scheme\n\napp = FastAPI()\n"
    )
    compose = (
        "services:\n"
        "  users:\n    build: ./users\n    ports: ['8004:8004']\n"
        "  weather:\n    build: ./weather\n"
    )
    tree = {"docker-compose.yml": compose}
    for name, port, requirements in (
        ("users", 8004, "fastapi\nuvicorn\nsqlalchemy\npython-jose[cryptography]\n"),
        ("weather", 8001, "fastapi\nuvicorn\nrequests\n"),
    ):
        tree[f"{name}/Dockerfile"] = (
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
            "RUN pip install -r requirements.txt\nCOPY . .\n"
            f'CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "{port}"]\n'
        )
        tree[f"{name}/requirements.txt"] = requirements
        tree[f"{name}/auth.py"] = auth
        tree[f"{name}/main.py"] = main
    root = write_tree(tree)
    found = [(f.code, f.path, f.line) for f in run(root, "CODE006", "CODE005")]
    assert sorted(found) == [
        ("CODE006", "weather/auth.py", 2),
        ("CODE006", "weather/main.py", 2),
    ]


def test_env_example_of_the_production_file_beside_a_development_file(
    write_tree: WriteTree,
) -> None:
    """`.env.example` documents the `.env` that docker-compose.yml interpolates; the
    development file beside it hard-codes its own values. The example belongs to the file
    that reads it; alone with the development file it would be reported."""
    dev = """services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: dev-only-pass-1
      POSTGRES_DB: shop_dev
      POSTGRES_USER: shop
"""
    prod = """services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
      POSTGRES_DB: ${POSTGRES_DB}
      POSTGRES_USER: ${POSTGRES_USER}
"""
    example = "POSTGRES_PASSWORD=change-me\nPOSTGRES_DB=shop\nPOSTGRES_USER=shop_owner\n"
    tree = {"docker-compose.dev.yml": dev, ".env.example": example}
    assert [f.code for f in run(write_tree(tree), "ENV010")] == ["ENV010"]
    tree["docker-compose.yml"] = prod
    assert run(write_tree(tree), "ENV010") == []


def test_kafka_tool_by_its_apache_name_in_a_confluent_image(write_tree: WriteTree) -> None:
    """Confluent's cp-kafka installs `kafka-broker-api-versions`, not Apache's
    `kafka-broker-api-versions.sh`: the check fails with `not found` and the broker is never
    healthy. Apache's own image keeps the `.sh` names."""
    compose = """services:
  broker:
    image: {image}
    healthcheck:
      test: ["CMD", "{tool}", "--bootstrap-server", "broker:9092"]
"""

    def found(image: str, tool: str) -> list[str]:
        tree = {"docker-compose.yml": compose.format(image=image, tool=tool)}
        return [f"{f.code}:{f.line}" for f in run(write_tree(tree), "IMG002")]

    assert found("confluentinc/cp-kafka:7.5.0", "kafka-broker-api-versions.sh") == ["IMG002:5"]
    assert found("confluentinc/cp-kafka:7.5.0", "kafka-broker-api-versions") == []
    assert found("apache/kafka:3.8.1", "/opt/kafka/bin/kafka-broker-api-versions.sh") == []


def test_namespaced_mysql_server_image_and_pgadmin_console(write_tree: WriteTree) -> None:
    """Images under a namespace (`mysql/mysql-server:8.0`, `dpage/pgadmin4`) are matched by
    their whole repository name, not its last part."""
    compose = """services:
  shop:
    build: ./shop
  db:
    image: mysql/mysql-server:8.0
    environment:
      MYSQL_DATABASE: shop
      MYSQL_ROOT_PASSWORD: Qw-81-root
  admin:
    image: dpage/pgadmin4
    environment:
      PGADMIN_DEFAULT_PASSWORD: Qw-81-root
      MYSQL_ROOT_PASSWORD: Qw-81-root
"""
    tree = {
        "docker-compose.yml": compose,
        "shop/Dockerfile": 'FROM python:3.12-slim\nCMD ["python", "app.py"]\n',
        "shop/requirements.txt": "PyMySQL==1.1.1\n",
        "shop/app.py": "import pymysql\n",
    }
    assert [f"{f.code}:{f.path}" for f in run(write_tree(tree), "REQ005", "ENV006")] == [
        "REQ005:shop/requirements.txt"
    ]


def test_services_sharing_one_build_context_each_own_the_file_they_install(
    write_tree: WriteTree,
) -> None:
    """Every service builds from the project's folder (`context: .`) with its own
    Dockerfile and requirements file; two services pinning httpx apart were reported as two
    files of the first service. A second file beside one service's own is that service's."""
    compose = """services:
  core:
    build:
      context: .
      dockerfile: services/core/Dockerfile
  search:
    build:
      context: .
      dockerfile: services/search/Dockerfile
"""

    def image(name: str) -> str:
        return (
            f"FROM python:3.12-slim\nWORKDIR /app\nCOPY services/{name}/requirements.txt .\n"
            f"RUN pip install -r requirements.txt\nCOPY services/{name}/app ./app\n"
            'CMD ["python", "-m", "app"]\n'
        )

    tree = {"platform/docker-compose.yml": compose}
    for name, httpx in (("core", "0.27.0"), ("search", "0.26.0")):
        tree[f"platform/services/{name}/Dockerfile"] = image(name)
        tree[f"platform/services/{name}/requirements.txt"] = f"httpx=={httpx}\n"
        tree[f"platform/services/{name}/app/__main__.py"] = "import httpx\n"
    root = write_tree(tree)
    assert run(root, "REQ010") == []
    (root / "platform/services/search/requirements-dev.txt").write_text(
        "httpx==0.28.1\n", encoding="utf-8"
    )
    [finding] = run(root, "REQ010")
    assert finding.service == "search"
    assert {finding.path, *(r.path for r in finding.related)} == {
        "platform/services/search/requirements.txt",
        "platform/services/search/requirements-dev.txt",
    }
