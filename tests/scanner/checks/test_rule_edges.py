"""Behaviour at the edges of single rules, on small trees written per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from passmuster.core.findings import Finding
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import scan

WriteTree = Callable[[dict[str, str]], Path]

DOCKERFILE = """
FROM {base}
WORKDIR /app
{extra}COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app ./app
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""
MAIN = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
"""


def api(
    reqs: str = "fastapi==0.116.1\n",
    main: str = MAIN,
    base: str = "python:3.11-slim",
    extra: str = "",
    name: str = "api",
) -> dict[str, str]:
    return {
        f"services/{name}/Dockerfile": DOCKERFILE.format(base=base, extra=extra),
        f"services/{name}/requirements.txt": reqs,
        f"services/{name}/app/__init__.py": "",
        f"services/{name}/app/main.py": main,
    }


def run(root: Path, code: str, **options: object) -> list[Finding]:
    config = ScanConfig(select=[code], options={code: dict(options)} if options else {})
    return scan(root, config).findings


def test_tcp_and_udp_on_one_host_port_do_not_collide(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": """
            services:
              dns:
                image: coredns/coredns:1.11
                ports: ["53:53/udp"]
              web:
                image: nginx:1.27
                ports: ["53:53/tcp", "8080:80"]
              admin:
                image: nginx:1.27
                ports: ["10.0.0.5:8080:80"]
              other:
                image: nginx:1.27
                ports: ["10.0.0.6:8080:80"]
            """
        }
    )
    found = run(root, "PORT001")
    # Only 10.0.0.5:8080 against web's all-interfaces 8080; the two specific addresses agree.
    assert [(f.service, f.line) for f in found] == [("admin", 10), ("other", 13)]
    assert all(f.related[0].service == "web" for f in found)


def test_compose_files_that_do_not_run_together_may_reuse_ports(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "deploy/prod/docker-compose.yml": "services:\n  web:\n    image: nginx\n"
            "    ports: ['80:80']\n",
            "deploy/staging/docker-compose.yml": "services:\n  web2:\n    image: nginx\n"
            "    ports: ['80:80']\n",
        }
    )
    assert run(root, "PORT001") == []


def test_aioredis_is_flagged_only_on_python_3_11_and_later(write_tree: WriteTree) -> None:
    compose = {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"}
    reqs = "fastapi==0.116.1\naioredis==2.0.1\n"
    uses = MAIN.replace("from fastapi import", "import aioredis\nfrom fastapi import", 1)
    new = write_tree({**compose, **api(reqs, main=uses)})
    assert [f.line for f in run(new, "REQ006")] == [2]
    old = write_tree({**compose, **api(reqs, main=uses, base="python:3.10")})
    assert run(old, "REQ006") == []
    unused = write_tree({**compose, **api(reqs)})  # installed, imported nowhere
    assert run(unused, "REQ006") == []


def test_passlib_breaks_with_bcrypt_5_also_through_its_extra(write_tree: WriteTree) -> None:
    compose = {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"}
    uses = MAIN.replace(
        "from fastapi import", "from passlib.context import CryptContext\nfrom fastapi import", 1
    )
    extra = write_tree({**compose, **api("fastapi==0.116.1\npasslib[bcrypt]==1.7.4\n", main=uses)})
    [finding] = run(extra, "REQ006")
    assert "bcrypt" in finding.message and finding.line == 2
    capped = write_tree(
        {**compose, **api("fastapi==0.116.1\npasslib[bcrypt]==1.7.4\nbcrypt==4.0.1\n", main=uses)}
    )
    assert run(capped, "REQ006") == []


def test_a_sync_url_given_to_create_async_engine_is_flagged(write_tree: WriteTree) -> None:
    main = MAIN + (
        "\nfrom sqlalchemy.ext.asyncio import create_async_engine\n\n"
        'engine = create_async_engine("postgresql://app:pw@db:5432/app")\n'
    )
    root = write_tree(
        {
            "docker-compose.yml": "services:\n  api:\n    build: ./services/api\n",
            **api("fastapi==0.116.1\nsqlalchemy==2.0.36\nasyncpg==0.29.0\n", main=main),
        }
    )
    [finding] = run(root, "REQ005")
    assert "create_async_engine gets a sync psycopg2 URL" in finding.message
    assert (finding.path, finding.line) == ("services/api/app/main.py", 12)


def test_alpine_has_wget_but_not_curl(write_tree: WriteTree) -> None:
    compose = """
    services:
      api:
        build: ./services/api
        healthcheck:
          test: ["CMD-SHELL", "{tool} http://localhost:8000/health || exit 1"]
    """
    wget = write_tree(
        {"docker-compose.yml": compose.format(tool="wget -qO-"), **api(base="python:3.12-alpine")}
    )
    assert run(wget, "IMG002") == []
    curl = write_tree(
        {"docker-compose.yml": compose.format(tool="curl -f"), **api(base="python:3.12-alpine")}
    )
    assert [f.message.split(",")[0] for f in run(curl, "IMG002")] == ["the health check runs curl"]
    installed = write_tree(
        {
            "docker-compose.yml": compose.format(tool="curl -f"),
            **api(base="python:3.12-alpine", extra="RUN apk add --no-cache curl\n"),
        }
    )
    assert run(installed, "IMG002") == []


def test_the_bind_address_may_come_from_the_environment(write_tree: WriteTree) -> None:
    dockerfile = DOCKERFILE.format(base="python:3.11-slim", extra="").replace(
        '"--host", "0.0.0.0", ', ""
    )
    files = {**api(), "services/api/Dockerfile": dockerfile}
    bare = write_tree(
        {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n", **files}
    )
    assert [f.code for f in run(bare, "IMG005")] == ["IMG005"]
    configured = write_tree(
        {
            "docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"
            "    environment:\n      UVICORN_HOST: 0.0.0.0\n",
            **files,
        }
    )
    assert run(configured, "IMG005") == []


def test_services_of_different_projects_are_not_siblings(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "dev/docker-compose.yml": "services:\n  api:\n    image: acme/api:1\n"
            "    environment:\n      DEBUG: '1'\n",
            "prod/docker-compose.yml": "services:\n  api:\n    image: acme/api:1\n",
        }
    )
    assert run(root, "ENV005") == []


def test_sibling_drift_ignores_configured_names(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": """
            services:
              api:
                build: .
                environment: {DOCKER_HOST: "unix:///var/run/docker.sock", QUEUE: default}
              worker:
                build: .
                command: python worker.py
            """,
            "Dockerfile": "FROM python:3.12\nCOPY . .\nCMD python api.py\n",
            "api.py": "import os\nQUEUE = os.environ['QUEUE']\n",
            "worker.py": "import os\nimport docker\n\nQ = os.getenv('QUEUE')\ndocker.from_env()\n",
        }
    )
    [finding] = run(root, "ENV005")
    assert finding.service == "worker" and "DOCKER_HOST, QUEUE" in finding.message
    assert [r.message for r in finding.related] == ["sets DOCKER_HOST", "sets QUEUE"]
    assert [f.key for f in run(root, "ENV005", ignore=["DOCKER_*", "QUEUE"])] == []


def test_sibling_drift_needs_code_that_reads_the_variable(write_tree: WriteTree) -> None:
    files = {
        "docker-compose.yml": """
        services:
          web:
            image: acme/web:1
            environment: {SENTRY_DSN: "https://k@sentry.example.org/1"}
          worker:
            image: acme/web:1
        """
    }
    assert run(write_tree(files), "ENV005") == []  # no code: nothing says the worker needs it


def test_external_domains_and_loopback_are_not_service_targets(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": """
            services:
              api:
                image: acme/api:1
                environment:
                  STRIPE_URL: https://api.stripe.com/v1
                  SELF_URL: http://localhost:8000
                  DOCS_URL: http://host.docker.internal:9000
                  CACHE_URL: ${CACHE_URL:-redis://cache:6379/0}
              cache:
                image: redis:7
            """
        }
    )
    assert run(root, "PORT003") == []
    assert run(root, "REF003") == []  # no code: nothing says api needs the cache to start


def test_a_dependency_started_through_another_one_is_declared(write_tree: WriteTree) -> None:
    files = {
        "docker-compose.yml": """
        services:
          api:
            build: .
            command: sh -c "alembic upgrade head && uvicorn main:app --host 0.0.0.0"
            environment: {DATABASE_URL: "postgresql://api:pw@db:5432/api"}
            depends_on: [{dep}]
          pgbouncer:
            image: edoburu/pgbouncer:1.22
            depends_on: [db]
          db:
            image: postgres:16
        """,
        "Dockerfile": "FROM python:3.12\nCOPY . .\n",
        "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    }
    transitive = dict(
        files, **{"docker-compose.yml": files["docker-compose.yml"].replace("{dep}", "pgbouncer")}
    )
    assert run(write_tree(transitive), "REF003") == []
    compose = files["docker-compose.yml"].replace("            depends_on: [{dep}]\n", "")
    direct = dict(files, **{"docker-compose.yml": compose})
    [finding] = run(write_tree(direct), "REF003")
    assert "its command runs migrations" in finding.message and finding.key == "db"


def test_imports_are_not_judged_against_a_different_major_version(write_tree: WriteTree) -> None:
    """pydantic 1 had BaseSettings; the installed pydantic 2 must not condemn a pydantic 1
    service, while the table still knows the name moved in 2."""
    main = MAIN.replace(
        "from fastapi import FastAPI",
        "from fastapi import FastAPI\nfrom pydantic import BaseSettings",
    )
    compose = {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"}
    v1 = write_tree({**compose, **api("fastapi==0.99.1\npydantic==1.10.13\n", main=main)})
    assert run(v1, "CODE001") == []
    v2 = write_tree({**compose, **api("fastapi==0.116.1\npydantic==2.11.7\n", main=main)})
    [finding] = run(v2, "CODE001")
    assert "pydantic-settings" in finding.message and finding.fix is None


def test_guarded_and_type_checking_imports_are_left_alone(write_tree: WriteTree) -> None:
    main = (
        "from typing import TYPE_CHECKING\n\n"
        "try:\n    from fastapi import HTTPStatus\nexcept ImportError:\n"
        "    from http import HTTPStatus\n\n"
        "if TYPE_CHECKING:\n    from fastapi import NoSuchThing\n" + MAIN
    )
    root = write_tree(
        {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n", **api(main=main)}
    )
    assert run(root, "CODE001") == []


def test_health_route_may_come_from_a_router_prefix_or_configuration(
    write_tree: WriteTree,
) -> None:
    main = (
        "from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\n"
        'health = APIRouter(prefix="/livez")\n\n\n@health.get("")\nasync def live() -> str:\n'
        '    return "ok"\n'
    )
    compose = {
        "docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"
        "    healthcheck:\n      test: curl -f http://localhost:8000/livez || exit 1\n"
    }
    prefixed = write_tree({**compose, **api(main=main)})
    assert run(prefixed, "CODE004") == []
    status = main.replace("/livez", "/status")
    custom = write_tree({**compose, **api(main=status)})
    [finding] = run(custom, "CODE004")
    assert finding.line == 3 and "/livez" in finding.message
    assert run(custom, "CODE004", paths=["/livez"]) == []
    unprobed = write_tree(
        {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n", **api(main=status)}
    )
    assert run(unprobed, "CODE004") == []  # nothing probes it: nothing breaks


def test_docker_socket_may_be_allowed_for_a_named_service(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": "services:\n  deployer:\n    image: acme/deployer:2\n"
            "    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n"
            "  traefik:\n    image: traefik:3\n    volumes:\n"
            "      - /var/run/docker.sock:/var/run/docker.sock:ro\n"
        }
    )
    [finding] = run(root, "ENV007")  # traefik's purpose is the Docker API: allowed by image
    assert "read-only" in finding.message and "/var/run/docker.sock" in finding.message
    assert run(root, "ENV007", allow=["deployer"]) == []
    assert len(run(root, "ENV007", allow_images=[])) == 2


def test_official_images_are_not_siblings(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": """
            services:
              cache:
                image: redis:7
                environment: {REDIS_ARGS: "--maxmemory 256mb"}
              queue:
                image: redis:7
            """
        }
    )
    assert run(root, "ENV005") == []


COPY_FLAT = """
FROM python:3.11-slim
WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app/ .
EXPOSE 8000
CMD ["uvicorn", "main:{attribute}", "--host", "0.0.0.0", "--port", "8000"]
"""


def test_a_flattened_copy_layout_is_not_an_unresolved_entry_point(write_tree: WriteTree) -> None:
    """`COPY app/ .` then `uvicorn main:app`: main is app/main.py, and its own imports of
    sibling modules (`from email import send`, a local email.py) are not the stdlib's."""
    main = "from email import send\n" + MAIN
    compose = {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"}
    files = {
        **api(main=main),
        "services/api/app/email.py": "def send() -> None:\n    pass\n",
    }
    good = write_tree(
        {**compose, **files, "services/api/Dockerfile": COPY_FLAT.format(attribute="app")}
    )
    assert run(good, "CODE003") == []
    assert run(good, "CODE001") == []
    bad = write_tree(
        {**compose, **files, "services/api/Dockerfile": COPY_FLAT.format(attribute="application")}
    )
    [finding] = run(bad, "CODE003")
    assert "services/api/app/main.py defines no 'application'" in finding.message


def test_pip_options_hashes_and_editables_are_not_parse_errors(write_tree: WriteTree) -> None:
    reqs = (
        "--index-url https://pypi.org/simple\n"
        "--extra-index-url https://example.org/simple\n"
        "--find-links ./wheels\n"
        "-c constraints.txt\n"
        "-e git+https://github.com/acme/lib.git@v1.2#egg=acme-lib\n"
        "fastapi==0.116.1 \\\n"
        "    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
        "uvicorn[standard]>=0.30 ; python_version >= '3.11'  # the server\n"
        "./vendor/acme_tools-1.0-py3-none-any.whl\n"
    )
    compose = {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"}
    root = write_tree({**compose, **api(reqs), "services/api/constraints.txt": "uvicorn<1\n"})
    assert run(root, "REQ007") == []
    broken = write_tree({**compose, **api(reqs + "fastapi = 0.116.1\nrequests>=2,<\n")})
    assert [f.line for f in run(broken, "REQ007")] == [10, 11]


def test_odd_but_legal_and_broken_inputs_crash_no_rule(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": """
            services:
              empty:
              numbers:
                image: acme/numbers
                ports: [8080, "9000-9002:9000-9002/udp", {target: 80, published: "8081"}]
                expose: [3000]
                environment:
                  FLAG: true
                  COUNT: 3
                  PASSTHROUGH:
                depends_on: {empty: {condition: service_started}}
                healthcheck: {disable: true}
                volumes: [{type: bind, source: ./missing, target: /x}, "named:/data"]
              broken:
                build: ./services/broken
                command: ["sh", "-c", "exec uvicorn"]
                env_file: [{path: .env.optional, required: false}]
              remote:
                build: https://github.com/acme/remote.git#main
            """,
            "services/broken/Dockerfile": "FROM python:3.11-slim AS base\nFROM base\nCMD\n",
            "services/broken/requirements.txt": "-r missing.txt\n-c\n==1.0\n",
            "services/broken/app/main.py": "def broken(:\n",
            "services/broken/app/ok.py": "from . import nothing_here\nfrom .. import above\n",
            ".env": "=no key\nA=1\nA=2\n",
        }
    )
    result = scan(root, ScanConfig())
    assert [f.message for f in result.findings if f.code == "PM003"] == []


def test_concurrent_scans_of_different_platforms_do_not_mix(write_tree: WriteTree) -> None:
    """The API may scan in threads; per-scan caches must never hand one platform's
    references to another. Bounded: two threads, four scans each."""
    from concurrent.futures import ThreadPoolExecutor

    fixtures = Path(__file__).resolve().parents[2] / "fixtures"
    roots = [fixtures / "REF003" / "bad", fixtures / "CODE005" / "bad"]

    def findings(root: Path) -> list[tuple[str, str, int | None]]:
        return [(f.code, f.path, f.line) for f in scan(root, ScanConfig()).findings]

    expected = {root: findings(root) for root in roots}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda r: (r, findings(r)), roots * 4))
    assert all(found == expected[root] for root, found in results)


def test_placeholder_secrets_in_code_fallbacks_count_unless_the_environment_sets_them(
    write_tree: WriteTree,
) -> None:
    main = MAIN + (
        "\nimport os\n\nfrom pydantic_settings import BaseSettings\n\n"
        'JWT_SECRET = os.getenv("JWT_SECRET", "change_me")\n\n\n'
        "class Settings(BaseSettings):\n"
        '    api_token: str = "secret"\n'
        '    service_name: str = "api"\n'
        "\n\nprint(Settings().api_token)\n"
    )
    unset = write_tree(
        {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n", **api(main=main)}
    )
    assert [(f.line, f.message.split(" falls")[0]) for f in run(unset, "ENV003")] == [
        (14, "JWT_SECRET"),
        (18, "API_TOKEN"),
    ]
    assert all("change_me" not in f.message for f in run(unset, "ENV003"))
    set_env = write_tree(
        {
            "docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"
            "    environment:\n      JWT_SECRET: ${JWT_SECRET}\n      API_TOKEN: ${API_TOKEN}\n",
            ".env": "JWT_SECRET=4c1d9e0b7a2f\nAPI_TOKEN=tk-90a1b2c3\n",
            **api(main=main),
        }
    )
    assert run(set_env, "ENV003") == []


def test_known_bad_imports_apply_only_to_the_versions_they_name(write_tree: WriteTree) -> None:
    """SQLAlchemy is installed here (2.x), so a 1.4 pin falls back to the table, which says
    async_sessionmaker arrived in 2.0; with no pin the newest release has it."""
    main = MAIN.replace(
        "from fastapi import FastAPI",
        "from fastapi import FastAPI\nfrom sqlalchemy.ext.asyncio import async_sessionmaker",
    )
    compose = {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"}
    old = write_tree({**compose, **api("fastapi==0.116.1\nsqlalchemy==1.4.52\n", main=main)})
    [finding] = run(old, "CODE001")
    assert "SQLAlchemy 2.0" in finding.message
    unpinned = write_tree({**compose, **api("fastapi==0.116.1\nsqlalchemy\n", main=main)})
    assert run(unpinned, "CODE001") == []


def test_pyproject_dependencies_count_like_requirements(write_tree: WriteTree) -> None:
    files = {k: v for k, v in api().items() if not k.endswith("requirements.txt")}
    files["services/api/Dockerfile"] = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir .\n"
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]\n'
    )
    files["services/api/pyproject.toml"] = (
        '[project]\nname = "api"\nversion = "1"\n'
        'dependencies = [\n  "fastapi==0.116.1",\n  "psutil==5.9.0",\n  "docker==6.1.3",\n]\n'
    )
    root = write_tree(
        {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n", **files}
    )
    assert [f.related[0].line for f in run(root, "IMG001")] == [6]
    assert [(f.path, f.line) for f in run(root, "REQ006")] == [("services/api/pyproject.toml", 7)]


def test_mysql_superuser_is_root_and_its_ordinary_user_is_fine(write_tree: WriteTree) -> None:
    compose = """
    services:
      mysql:
        image: mysql:8.4
        environment:
          MYSQL_ROOT_PASSWORD: Rt7vQ2pX9mLw
          MYSQL_USER: shop
          MYSQL_PASSWORD: Sh0pUs3rPw
      shop:
        image: acme/shop:1
        environment:
          DATABASE_URL: mysql+pymysql://{user}@mysql:3306/shop
    """
    ordinary = write_tree({"docker-compose.yml": compose.format(user="shop:Sh0pUs3rPw")})
    assert run(ordinary, "ENV006") == []
    root = write_tree({"docker-compose.yml": compose.format(user="root:Rt7vQ2pX9mLw")})
    [finding] = run(root, "ENV006")
    assert finding.service == "shop" and "Rt7vQ2pX9mLw" not in finding.message


def test_an_unpinned_passlib_is_its_last_release(write_tree: WriteTree) -> None:
    compose = {"docker-compose.yml": "services:\n  api:\n    build: ./services/api\n"}
    uses = MAIN.replace("from fastapi import", "import passlib\nfrom fastapi import", 1)
    root = write_tree({**compose, **api("fastapi==0.116.1\npasslib[bcrypt]\n", main=uses)})
    assert [f.line for f in run(root, "REQ006")] == [2]


def test_conflicting_pins_in_a_file_no_image_installs(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": "services:\n  api:\n    build: ./services/api\n",
            **api(),
            "services/api/requirements-dev.txt": "-r requirements.txt\nfastapi==0.110.0\n",
        }
    )
    [finding] = run(root, "REQ003")
    assert (finding.path, finding.line) == ("services/api/requirements-dev.txt", 2)
    assert "0.110.0" in finding.message and "0.116.1" in finding.message


def test_shared_secret_fallbacks_that_differ_are_a_mismatch(write_tree: WriteTree) -> None:
    compose = """
    services:
      identity:
        image: acme/identity:1
        environment: {JWT_SECRET: "${JWT_SECRET:-Qm9vdHN0cmFwLWtleS0x}"}
      tenants:
        image: acme/tenants:1
        environment: {JWT_SECRET: "${JWT_SECRET:-%s}"}
    """
    env = {".env": "JWT_SECRET=T3RoZXIta2V5LTI\n"}  # set today: the values agree
    differ = write_tree({"docker-compose.yml": compose % "T3RoZXIta2V5LTI", **env})
    [finding] = run(differ, "ENV004")
    assert finding.service == "tenants" and "Qm9vdHN0cmFwLWtleS0x" not in finding.message
    same = write_tree({"docker-compose.yml": compose % "Qm9vdHN0cmFwLWtleS0x", **env})
    assert run(same, "ENV004") == []
