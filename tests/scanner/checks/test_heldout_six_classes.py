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


_SETTINGS = """from pydantic import Field
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    database_url: str = Field(..., alias="DATABASE_URL")
    db_pass: str = Field("postgres", alias="DB_PASS")
    secret_key: str = Field("changeme", alias="JWT_SECRET")


settings = Settings()
"""


def test_a_settings_field_with_an_alias_is_read_through_the_alias(write_tree: WriteTree) -> None:
    """`Field("changeme", alias="JWT_SECRET")` reads JWT_SECRET, which the env file sets, and
    `db_pass` with its fallback is never read (the URL is): neither falls back. The same
    settings in a service whose code uses `settings.db_pass` keeps its finding."""
    image = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY . .\n"
        'CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]\n'
    )
    env = "DATABASE_URL=postgresql://shop:{pw}@db/shop\nJWT_SECRET=${{JWT_SECRET}}\n"
    main = "from fastapi import FastAPI\nfrom config import settings\n\napp = FastAPI()\n"
    tree = {
        "docker-compose.yml": """services:
  carts:
    build: ./carts
    env_file: ./carts/.env.docker
  orders:
    build: ./orders
    env_file: ./orders/.env.docker
""",
        "carts/Dockerfile": image,
        "carts/requirements.txt": "fastapi==0.110.0\npydantic-settings==2.2.1\n",
        "carts/config.py": _SETTINGS,
        "carts/main.py": main + "TOKEN_KEY = settings.secret_key\n",
        "carts/.env.docker": env.format(pw="${DB_PASSWORD}"),
        "orders/Dockerfile": image,
        "orders/requirements.txt": "fastapi==0.110.0\npydantic-settings==2.2.1\n",
        "orders/config.py": _SETTINGS,
        "orders/main.py": main + "PASSWORD = settings.db_pass\n",
        "orders/.env.docker": env.format(pw="${DB_PASSWORD}"),
    }
    found = [f for f in run(write_tree(tree), "ENV003") if f.path.endswith("config.py")]
    assert [(f.path, f.line) for f in found] == [("orders/config.py", 7)]


def test_a_url_given_to_an_in_process_client_names_no_host(write_tree: WriteTree) -> None:
    """`AsyncClient(transport=ASGITransport(app=app), base_url="http://bench")` sends requests
    to the app in the same process; `TestClient(app, base_url=...)` likewise. A client with
    no such transport still calls the host it names."""
    image = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY . .\n"
        'CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]\n'
    )
    code = """import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

app = FastAPI()


async def measure() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench:8000"
    ) as client:
        await client.get("/healthz")
    TestClient(app, base_url="http://probe:8000").get("/healthz")


async def forward() -> None:
    async with httpx.AsyncClient(base_url="http://ledger:8000") as client:
        await client.get("/healthz")
"""
    tree = {
        "docker-compose.yml": """services:
  api:
    build: ./api
    ports:
      - "8000:8000"
  worker:
    build: ./worker
""",
        "api/Dockerfile": image,
        "api/requirements.txt": "fastapi==0.110.0\nhttpx==0.27.0\nuvicorn==0.29.0\n",
        "api/main.py": code,
        "worker/Dockerfile": image,
        "worker/requirements.txt": "fastapi==0.110.0\nuvicorn==0.29.0\n",
        "worker/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    }
    found = run(write_tree(tree), "PORT003")
    assert [(f.path, f.line) for f in found] == [("api/main.py", 17)]


def test_a_settings_field_only_the_siblings_code_reads_is_not_lacking(
    write_tree: WriteTree,
) -> None:
    """api and worker share one image and one Settings class; compose sets the worker's
    metrics host for the worker only, and only worker.py reads `settings.metrics_host`. A
    field the api's code does read (`settings.queue_name`) is still lacking there."""
    settings = """from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    metrics_host: str = "127.0.0.1"
    queue_name: str = "default"


settings = Settings()
"""
    tree = {
        "docker-compose.yml": """services:
  api:
    build: .
    command: ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
    environment:
      LOG_LEVEL: info
  worker:
    build: .
    command: ["python", "-m", "app.worker"]
    environment:
      LOG_LEVEL: info
      METRICS_HOST: 0.0.0.0
      QUEUE_NAME: jobs
""",
        "Dockerfile": (
            "FROM python:3.12-slim\nWORKDIR /srv\nCOPY requirements.txt .\n"
            "RUN pip install -r requirements.txt\nCOPY . .\n"
            'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
        ),
        "requirements.txt": "fastapi==0.110.0\npydantic-settings==2.2.1\nuvicorn==0.29.0\n",
        "app/__init__.py": "",
        "app/config.py": settings,
        "app/main.py": (
            "from fastapi import FastAPI\n\nfrom app.config import settings\n\n"
            "app = FastAPI()\nQUEUE = settings.queue_name\n"
        ),
        "app/worker.py": (
            "from app.config import settings\n\nprint(settings.metrics_host, settings.queue_name)\n"
        ),
    }
    found = run(write_tree(tree), "ENV005")
    assert [(f.service, f.message.split(",")[0]) for f in found] == [
        ("api", "api lacks QUEUE_NAME")
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


def test_an_official_database_image_listens_on_its_own_port(write_tree: WriteTree) -> None:
    """`postgres:16` as shipped serves 5432: publishing "5430:5430" reaches nothing. PGPORT
    moving the server, a command, or a mounted config leave the mapping alone; so does an
    `expose:` entry, which only documents."""
    tree = {
        "docker-compose.yml": """services:
  db:
    image: postgres:16-alpine
    expose:
      - 5430
    ports:
      - "5430:5430"
  moved:
    image: postgres:16-alpine
    environment:
      PGPORT: "5433"
    ports:
      - "5433:5433"
  commanded:
    image: postgres:16-alpine
    command: ["postgres", "-p", "5434"]
    ports:
      - "5434:5434"
  documents:
    image: mariadb:11
    expose:
      - 3306
      - 33060
""",
    }
    found = run(write_tree(tree), "PORT002")
    assert [(f.service, f.line) for f in found] == [("db", 7)]
