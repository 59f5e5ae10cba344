"""Python services built from a Dockerfile that no compose file uses: found on disk, judged on
their code, image and requirements, never on compose facts they do not have."""

from __future__ import annotations

import shutil
from pathlib import Path

from passmuster.core.findings import Finding
from passmuster.scanner import ScanConfig, discover
from passmuster.scanner.config import ServiceOverride
from passmuster.scanner.engine import scan
from passmuster.scanner.reporters import summary_line
from tests.scanner.checks.helpers import FIXTURES
from tests.scanner.helpers import WriteTree

_DOCKERFILE = """
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["uvicorn", "billing.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""
_MAIN = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def run(root: Path, *codes: str, config: ScanConfig | None = None) -> list[Finding]:
    config = config or ScanConfig()
    return scan(root, config.model_copy(update={"select": list(codes)})).findings


def _billing(folder: str = "services/billing", **extra: str) -> dict[str, str]:
    return {
        f"{folder}/Dockerfile": _DOCKERFILE,
        f"{folder}/requirements.txt": "fastapi==0.116.1\nuvicorn==0.35.0\n",
        f"{folder}/billing/__init__.py": "",
        f"{folder}/billing/main.py": _MAIN,
        **extra,
    }


def test_a_service_no_compose_file_wires_is_judged_on_its_entry_point(
    write_tree: WriteTree,
) -> None:
    files = _billing()
    files["services/billing/Dockerfile"] = _DOCKERFILE.replace("billing.main", "billing.app")
    files["docker-compose.yml"] = "services:\n  db:\n    image: postgres:16\n"
    root = write_tree(files)
    platform = discover(root)
    assert [s.name for s in platform.services] == ["db"]
    (billing,) = platform.unwired
    assert (billing.name, billing.build_context, billing.project) == (
        "billing",
        "services/billing",
        "",
    )
    assert billing.dockerfile_only and billing.ports == [] and billing.depends_on == []
    (finding,) = run(root, "CODE003")
    assert (finding.path, finding.line, finding.service) == (
        "services/billing/Dockerfile",
        6,
        "billing",
    )
    assert "no module billing.app" in finding.message
    # Without any compose file, too; and a resolvable entry point is no finding.
    (root / "docker-compose.yml").unlink()
    result = scan(root, ScanConfig(select=["CODE003"]))
    assert [f.service for f in result.findings] == ["billing"]
    assert summary_line(result) == "Found 1 finding (1 critical) in 1 of 1 service."
    (root / "services/billing/Dockerfile").write_text(_DOCKERFILE)
    assert run(root, "CODE003") == []


def test_a_dockerfile_compose_builds_is_one_service(write_tree: WriteTree) -> None:
    for compose in (
        "services:\n  billing:\n    build: ./services/billing\n",
        "services:\n  pay:\n    build:\n      context: services/billing\n"
        "      dockerfile: Dockerfile\n",
        "services:\n  pay:\n    build:\n      context: .\n"
        "      dockerfile: services/billing/Dockerfile\n",
        # Compose builds the folder with its development Dockerfile: the other is a variant.
        "services:\n  pay:\n    build:\n      context: services/billing\n"
        "      dockerfile: Dockerfile.dev\n",
        # Compose runs a pulled image of that name: built from the folder elsewhere.
        "services:\n  billing:\n    image: ghcr.io/acme/billing:1.4\n",
        "services:\n  pay:\n    image: ghcr.io/acme/billing:1.4\n",
    ):
        files = _billing(**{"docker-compose.yml": compose})
        files["services/billing/Dockerfile.dev"] = _DOCKERFILE
        root = write_tree(files)
        platform = discover(root)
        assert platform.unwired == [], compose
        assert len(platform.services) == 1
        shutil.rmtree(root)  # the next platform starts empty
    # An override file moving the build elsewhere still builds the folder.
    files = _billing(
        **{
            "docker-compose.yml": "services:\n  billing:\n    image: acme/pay\n",
            "docker-compose.override.yml": "services:\n  billing:\n    build: services/billing\n",
        }
    )
    root = write_tree(files)
    assert discover(root).unwired == []
    shutil.rmtree(root)
    # passmuster.toml naming the build is wiring too.
    config = ScanConfig(services={"payments": ServiceOverride(build="services/billing")})
    root = write_tree(_billing())
    assert discover(root, config).unwired == []
    assert [s.name for s in discover(root, ScanConfig()).unwired] == ["billing"]


def test_a_folder_named_like_a_compose_service_is_that_service(write_tree: WriteTree) -> None:
    # Built by a shared Dockerfile that takes the folder as a build argument.
    shared = (
        "FROM python:3.12-slim\nARG SERVICE_DIR\nCOPY services/${SERVICE_DIR} /app\n"
        'CMD ["uvicorn", "billing.main:app"]\n'
    )
    for compose in (
        "services:\n  billing:\n    build:\n      context: .\n"
        "      dockerfile: docker/service.Dockerfile\n"
        "      args:\n        SERVICE_DIR: billing\n",
        "services:\n  pay:\n    build:\n      context: .\n"
        "      dockerfile: docker/service.Dockerfile\n"
        "      args:\n        - SERVICE_DIR=services/billing/\n",
    ):
        files = _billing(**{"docker-compose.yml": compose, "docker/service.Dockerfile": shared})
        root = write_tree(files)
        platform = discover(root)
        assert platform.unwired == [], compose
        shutil.rmtree(root)
    # Two folders no compose file wires, of one name: their paths tell them apart.
    files = {**_billing("sandbox/billing"), **_billing("legacy/billing")}
    assert [s.name for s in discover(write_tree(files)).unwired] == [
        "billing",
        "sandbox/billing",
    ]


def test_tests_examples_docs_vendored_and_excluded_dockerfiles_are_no_services(
    write_tree: WriteTree,
) -> None:
    files: dict[str, str] = {}
    for folder in (
        "tests/billing",
        "examples/billing",
        "docs/samples/billing",
        "vendor/billing",
        "third_party/billing",
        "legacy/billing",
    ):
        files.update(_billing(folder))
    # Not Python, or no Python code beside it.
    files["web/Dockerfile"] = "FROM node:22\nCOPY . .\nCMD node server.js\n"
    files["web/tools/build.py"] = "print('x')\n"
    files["proxy/Dockerfile"] = "FROM python:3.12-slim\nCMD python -m http.server\n"
    root = write_tree(files)
    assert discover(root, ScanConfig(exclude=["legacy/**"])).unwired == []
    assert [s.name for s in discover(root, ScanConfig()).unwired] == ["billing"]


def test_the_build_context_is_the_folder_that_holds_what_the_dockerfile_copies(
    write_tree: WriteTree,
) -> None:
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY services/billing/requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY services/billing/billing billing\n"
        "COPY shared shared\n"
        'CMD ["uvicorn", "billing.main:app", "--host", "0.0.0.0"]\n'
    )
    files = _billing(**{"shared/__init__.py": "", "shared/log.py": "X = 1\n"})
    files["services/billing/Dockerfile"] = dockerfile
    platform = discover(write_tree(files))
    (billing,) = platform.unwired
    assert billing.build_context == "."
    assert billing.requirement_files == ["services/billing/requirements.txt"]
    assert "services/billing/billing/main.py" in billing.python_files


_SETTINGS = """
import os

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    stripe_key: str
    ledger_url: str = "http://localhost:8100"
    jwt_secret: str = "changeme"


settings = Settings()
LEDGER = os.getenv("LEDGER_URL", "http://localhost:8100")
"""


def test_rules_about_the_environment_compose_gives_stay_silent(write_tree: WriteTree) -> None:
    files = _billing(
        **{"services/billing/billing/config.py": _SETTINGS, "docker-compose.yml": "services: {}\n"}
    )
    files["services/billing/billing/main.py"] = (
        "from fastapi import FastAPI\n\nfrom billing.config import LEDGER, settings\n\n"
        "app = FastAPI()\n"
    )
    files["services/billing/requirements.txt"] += "pydantic-settings==2.4.0\n"
    root = write_tree(files)
    codes = ("ENV003", "ENV005", "ENV009", "CODE005", "PORT002", "PORT003", "REF001", "REF003")
    assert run(root, *codes) == []
    # The same code run by compose without that environment is judged.
    (root / "docker-compose.yml").write_text("services:\n  billing:\n    build: services/billing\n")
    assert {f.code for f in run(root, *codes)} >= {"ENV009"}


def test_an_unwired_folder_is_no_host_compose_services_can_reach(tmp_path: Path) -> None:
    root = tmp_path / "platform"
    shutil.copytree(FIXTURES / "PORT003" / "bad", root)
    before = run(root, "PORT003")
    target = root / "services" / "identity-service"
    shutil.copytree(root / "services" / "api", target)
    assert [s.name for s in discover(root).unwired] == ["identity-service"]
    assert [(f.path, f.line) for f in run(root, "PORT003")] == [(f.path, f.line) for f in before]
