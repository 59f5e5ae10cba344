"""Discovery reads compose projects, Dockerfiles, requirements and code into one Platform."""

from __future__ import annotations

from pathlib import Path

from passmuster.scanner import ScanConfig, catalog_services, discover
from passmuster.scanner.config import ServiceOverride
from passmuster.scanner.context.yamldoc import load_yaml
from tests.scanner.helpers import WriteTree, track

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "platform"

COMPOSE = """
x-env: &env
  LOG_LEVEL: info
services:
  api:
    build:
      context: ./services/api
      dockerfile: Containerfile.prod
    ports:
      - "${API_PORT:-8001}:8001"
      - "5353:53/udp"
    environment:
      <<: *env
      DOCKER_HOST: unix:///var/run/docker.sock
    env_file: .env
    depends_on:
      db:
        condition: service_healthy
  worker:
    extends: api
    command: celery -A app.worker worker
  db:
    image: postgres:16
    expose: ["5432"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U $${POSTGRES_USER}"]
"""


def _tree(write_tree: WriteTree) -> Path:
    return write_tree(
        {
            "docker-compose.yml": COMPOSE,
            "docker-compose.override.yml": """
                services:
                  api:
                    command: uvicorn app.main:app --host 0.0.0.0 --port 8001 --reload
                """,
            ".env": "API_PORT=9001\nSECRET=abc\n",
            "services/api/Containerfile.prod": """
                FROM python:3.11-slim
                WORKDIR /app
                COPY requirements.txt .
                RUN pip install -r requirements.txt
                EXPOSE 8001
                CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8001"]
                """,
            "services/api/requirements.txt": (
                "-r ../../shared.txt\n-cconstraints.txt\ndocker==6.1\n"
            ),
            "services/api/constraints.txt": "urllib3<2\n",
            "shared.txt": "fastapi==0.115.0\nrequests>=2.32\n",
            "services/api/app/__init__.py": "",
            "services/api/app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
            "services/api/.venv/lib/site.py": "this is not python at all (\n",
            "services/api/node_modules/x/requirements.txt": "nonsense==\n",
        }
    )


def test_it_merges_override_files_into_one_project(write_tree: WriteTree) -> None:
    platform = discover(_tree(write_tree))
    assert [p.files for p in platform.projects] == [
        ["docker-compose.yml", "docker-compose.override.yml"]
    ]
    api = platform.service("api")
    assert api is not None
    assert api.files == ["docker-compose.yml", "docker-compose.override.yml"]
    assert api.entry is not None and "--reload" in api.entry.flags
    assert api.entry.path == "docker-compose.override.yml"


def test_it_interpolates_from_the_env_file_and_expands_ports(write_tree: WriteTree) -> None:
    api = discover(_tree(write_tree)).service("api")
    assert api is not None
    assert [(p.host, p.container, p.protocol, p.line) for p in api.ports] == [
        (9001, 8001, "tcp", 9),
        (5353, 53, "udp", 10),
    ]


def test_env_keeps_its_source_and_line(write_tree: WriteTree) -> None:
    api = discover(_tree(write_tree)).service("api")
    assert api is not None
    assert (api.env["DOCKER_HOST"].path, api.env["DOCKER_HOST"].line) == ("docker-compose.yml", 13)
    assert api.env["LOG_LEVEL"].value == "info"  # from the merge key
    assert (api.env["SECRET"].path, api.env["SECRET"].origin) == (".env", "env_file")


def test_extends_inherits_the_base_service(write_tree: WriteTree) -> None:
    worker = discover(_tree(write_tree)).service("worker")
    assert worker is not None
    assert worker.dockerfile_path == "services/api/Containerfile.prod"
    assert worker.entry is not None and worker.entry.server == "celery"
    assert worker.kind == "worker"
    assert "DOCKER_HOST" in worker.env


def test_requirements_resolve_through_includes_and_constraints(write_tree: WriteTree) -> None:
    api = discover(_tree(write_tree)).service("api")
    assert api is not None
    assert api.requirement_files == ["services/api/requirements.txt"]
    assert {(r.name, r.path, r.via) for r in api.requirements} == {
        ("docker", "services/api/requirements.txt", ()),
        ("fastapi", "shared.txt", ("services/api/requirements.txt",)),
        ("requests", "shared.txt", ("services/api/requirements.txt",)),
    }
    assert [c.name for c in api.constraints] == ["urllib3"]


def test_ports_come_from_command_and_dockerfile(write_tree: WriteTree) -> None:
    platform = discover(_tree(write_tree))
    api = platform.service("api")
    db = platform.service("db")
    assert api is not None and db is not None
    assert api.listening_ports() == {8001}
    assert [(e.port, e.origin) for e in api.expose] == [(8001, "dockerfile-expose")]
    assert [(e.port, e.origin) for e in db.expose] == [(5432, "compose-expose")]
    assert db.healthcheck is not None
    assert db.healthcheck.test == ("CMD-SHELL", "pg_isready -U ${POSTGRES_USER}")


def test_it_never_reads_virtualenvs_or_node_modules(write_tree: WriteTree) -> None:
    platform = discover(_tree(write_tree))
    assert not [p for p in platform.texts if ".venv" in p or "node_modules" in p]
    assert platform.problems == []


def test_yaml_is_read_as_yaml_1_2() -> None:
    doc = load_yaml("ports:\n  - 22:22\nflag: on\nold_octal: 010\n", "x.yml")
    assert doc.data == {"ports": ["22:22"], "flag": "on", "old_octal": 10}


def test_a_broken_compose_file_is_a_problem_not_a_crash(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": 'services:\n  api:\n    ports: ["8000:8000"\n',
            "other/compose.yaml": "services:\n  ok:\n    image: nginx\n",
        }
    )
    platform = discover(root)
    assert [(p.path, p.line) for p in platform.problems] == [("docker-compose.yml", 4)]
    assert [s.name for s in platform.services] == ["ok"]


def test_code_defaults_give_the_listening_port(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "compose.yaml": (
                "services:\n  api:\n    build: ./api\n    command: python -m app.main\n"
            ),
            "api/Dockerfile": "FROM python:3.11\n",
            "api/app/main.py": (
                "import os\nfrom fastapi import FastAPI\napp = FastAPI()\n"
                "if __name__ == '__main__':\n    import uvicorn\n"
                "    uvicorn.run(app, port=int(os.environ.get('PORT', '8123')))\n"
            ),
        }
    )
    api = discover(root).service("api")
    assert api is not None
    assert [(p.port, p.origin, p.line) for p in api.listens] == [(8123, "code-default", 6)]


def test_config_declares_services_compose_does_not_know(write_tree: WriteTree) -> None:
    root = write_tree({"compose.yaml": "services:\n  api:\n    image: nginx\n"})
    config = ScanConfig(services={"ledger": ServiceOverride(port=9100, health="/livez")})
    platform = discover(root, config)
    ledger = platform.service("ledger")
    assert ledger is not None and ledger.listening_ports() == {9100}
    services = {s.name: s for s in catalog_services(platform)}
    assert services["ledger"].health_url == "http://ledger:9100/livez"


def test_the_example_platform_catalog_gives_probe_targets() -> None:
    services = {s.name: s for s in catalog_services(discover(EXAMPLE))}
    assert services["identity"].health_url == "http://identity:8001/healthz"
    assert services["identity"].depends_on == ["postgres"]
    assert services["gateway"].ports == ["8000:8000"]
    assert services["postgres"].kind == "database"
    assert services["instances-worker"].kind == "worker"
    assert services["notifications"].owner == "platform-team"


def test_pyproject_dependencies_are_read(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "compose.yaml": "services:\n  api:\n    build: ./api\n",
            "api/Dockerfile": "FROM python:3.12-slim\n",
            "api/pyproject.toml": (
                '[project]\nname = "api"\nversion = "1"\n'
                'dependencies = [\n  "fastapi>=0.110",\n  "asyncpg==0.30.0",\n]\n'
            ),
        }
    )
    api = discover(root).service("api")
    assert api is not None
    assert [(r.name, r.specifier, r.line) for r in api.pyproject_dependencies] == [
        ("fastapi", ">=0.110", 5),
        ("asyncpg", "==0.30.0", 6),
    ]
    assert api.has_package("asyncpg")


def test_a_broken_pyproject_is_a_problem_with_its_line(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "compose.yaml": "services:\n  api:\n    build: ./api\n",
            "api/Dockerfile": "FROM python:3.12-slim\n",
            "api/pyproject.toml": "[project]\nname = \n",
        }
    )
    problems = discover(root).problems
    assert [(p.path, p.line) for p in problems] == [("api/pyproject.toml", 2)]


def test_gitignored_files_are_not_read_unless_asked(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            ".gitignore": ".env\ngenerated/\n",
            "compose.yaml": "services:\n  api:\n    image: api:${TAG:-stable}\n",
            ".env": "TAG=local-dev\n",
            ".env.example": "TAG=1.0\n",
            "generated/docker-compose.yml": "services:\n  junk:\n    image: junk\n",
        }
    )
    platform = discover(root, ScanConfig())
    assert [s.name for s in platform.services] == ["api"]
    api = platform.service("api")
    assert api is not None and api.image == "api:1.0"  # from .env.example, as CI would see it
    everything = discover(root, ScanConfig(respect_gitignore=False))
    assert sorted(s.name for s in everything.services) == ["api", "junk"]
    assert everything.service("api").image == "api:local-dev"  # type: ignore[union-attr]


def test_paths_in_later_files_resolve_from_the_project_folder(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "deploy/docker-compose.yml": "services:\n  api:\n    image: api\n",
            "deploy/prod/extra.yml": "services:\n  api:\n    build: ./api\n",
            "deploy/api/Dockerfile": "FROM python:3.12-slim\n",
            "passmuster.toml": (
                '[scan]\ncompose = [["deploy/docker-compose.yml", "deploy/prod/extra.yml"]]\n'
            ),
        }
    )
    api = discover(root).service("api")
    assert api is not None
    assert api.files == ["deploy/docker-compose.yml", "deploy/prod/extra.yml"]
    assert (api.build_context, api.build_context_exists) == ("deploy/api", True)
    assert api.dockerfile is not None


def test_included_files_run_with_the_file_that_includes_them(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "compose.yaml": (
                "include:\n  - infra/compose.yaml\nservices:\n  api:\n    image: api\n"
                "    ports: ['8080:80']\n"
            ),
            "infra/compose.yaml": (
                "services:\n  proxy:\n    build: ./proxy\n    ports: ['8080:80']\n"
            ),
            "infra/proxy/Dockerfile": "FROM nginx:1.27\n",
        }
    )
    platform = discover(root)
    assert [p.files for p in platform.projects] == [["compose.yaml", "infra/compose.yaml"]]
    proxy = platform.service("proxy")
    assert proxy is not None and proxy.project == "compose.yaml"
    assert (proxy.build_context, proxy.build_context_exists) == ("infra/proxy", True)


def test_a_worker_built_from_its_api_image_has_no_health_url() -> None:
    services = {s.name: s for s in catalog_services(discover(EXAMPLE))}
    worker = services["instances-worker"]
    assert (worker.health_url, worker.ports) == (None, [])


def test_an_override_adjusting_build_keeps_the_base_context(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "compose.yaml": "services:\n  api:\n    build: ./api\n",
            "compose.override.yaml": (
                "services:\n  api:\n    build:\n      dockerfile: Dockerfile.dev\n"
                "      args: {DEBUG: '1'}\n"
            ),
            "api/Dockerfile": "FROM python:3.12-slim\n",
            "api/Dockerfile.dev": "FROM python:3.12\n",
        }
    )
    api = discover(root).service("api")
    assert api is not None
    assert (api.build_context, api.dockerfile_path) == ("api", "api/Dockerfile.dev")
    assert api.base_image == "python:3.12"


def test_a_utf16_requirements_file_is_read_as_pip_reads_it(write_tree: WriteTree) -> None:
    root = write_tree({"docker-compose.yml": "services: {}\n"})
    (root / "requirements.txt").write_bytes("fastapi==0.116.1\nhttpx==0.27.2\n".encode("utf-16"))
    platform = discover(root)
    assert [r.name for r in platform.requirements_files["requirements.txt"].requirements] == [
        "fastapi",
        "httpx",
    ]
    assert platform.problems == []


def test_overlay_files_run_with_their_base_as_projects_of_their_own(
    write_tree: WriteTree,
) -> None:
    root = write_tree(
        {
            "docker-compose.yml": "services:\n  api:\n    image: acme/api:1\n"
            "    ports: ['8000:8000']\n    environment: {LOG_LEVEL: info}\n  db:\n"
            "    image: postgres:16\n",
            "docker-compose.override.stage.yml": "services:\n  api:\n    depends_on: [db]\n",
            "docker-compose.build.yml": "services:\n  api:\n    build: .\n",
            "docker-compose.tools.yml": "services:\n  adminer:\n    image: adminer:4\n",
        }
    )
    projects = sorted(p.files for p in discover(root).projects)
    assert projects == [
        ["docker-compose.tools.yml"],
        ["docker-compose.yml"],
        ["docker-compose.yml", "docker-compose.build.yml"],
        ["docker-compose.yml", "docker-compose.override.stage.yml"],
    ]


def test_dockerfile_heredocs_belong_to_their_instruction(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": "services:\n  api:\n    build: .\n",
            "Dockerfile": "FROM python:3.12-slim\nRUN <<EOF\napt-get update\n"
            "apt-get install -y curl\nEOF\nCOPY <<-EOT /app/x.ini\n\t[x]\n\tEOT\n"
            "CMD python app.py\n",
        }
    )
    platform = discover(root)
    dockerfile = platform.dockerfiles["Dockerfile"]
    assert dockerfile.problems == []
    assert "curl" in dockerfile.stages[0].system_packages
    assert [i.keyword for i in dockerfile.stages[0].instructions] == ["FROM", "RUN", "COPY", "CMD"]


def test_a_tracked_file_that_gitignore_lists_is_read(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": "services:\n  api:\n    image: acme/api:${TAG}\n",
            ".gitignore": ".env\n",
            ".env": "TAG=1.4\n",
        }
    )
    assert ".env" not in discover(root).env_files  # ignored, and not tracked: never read
    track(root, ".env")
    assert discover(root).env_files[".env"].values() == {"TAG": "1.4"}
