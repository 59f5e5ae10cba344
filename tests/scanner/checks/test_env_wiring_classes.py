"""Secrets wired between services in ways that only break on a given day or at the first
command: each class as a bad/good pair of small platforms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from passmuster.core.findings import Finding
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import scan

WriteTree = Callable[[dict[str, str]], Path]


def run(root: Path, *codes: str) -> list[Finding]:
    return scan(root, ScanConfig(select=list(codes))).findings


def _mongo_platform(api_password: str) -> dict[str, str]:
    return {
        "docker-compose.yml": f"""
services:
  mongodb:
    image: mongo:7
    environment:
      - MONGO_INITDB_ROOT_USERNAME=admin
      - MONGO_INITDB_ROOT_PASSWORD=${{MONGO_ROOT_PASSWORD}}
  api:
    image: example/api:1
    environment:
      - MONGO_URL=mongodb://admin:{api_password}@mongodb:27017/app?authSource=admin
  worker:
    image: example/api:1
    environment:
      - MONGO_URL=mongodb://admin:{api_password}@mongodb:27017/app?authSource=admin
"""
    }


def test_a_secret_required_in_one_place_and_defaulted_in_others_is_one_finding(
    write_tree: WriteTree,
) -> None:
    bad = run(write_tree(_mongo_platform("${MONGO_ROOT_PASSWORD:-changeme123}")), "ENV004")
    assert [(f.path, f.line, f.service) for f in bad] == [("docker-compose.yml", 6, "mongodb")]
    (finding,) = bad
    assert "MONGO_ROOT_PASSWORD" in finding.message and "2 service(s)" in finding.message
    assert "changeme123" not in finding.message
    assert sorted(r.service or "" for r in finding.related) == ["api", "worker"]


def test_a_secret_every_service_takes_the_same_way_is_quiet(write_tree: WriteTree) -> None:
    root = write_tree(_mongo_platform("${MONGO_ROOT_PASSWORD}"))
    assert run(root, "ENV004") == []


def _redis_platform(command: str, url: str, extra: str = "") -> dict[str, str]:
    return {
        "docker-compose.yml": f"""
services:
  redis:
    image: redis:7-alpine
    command: {command}
  api:
    image: example/api:1
    environment:
      - REDIS_URL={url}{extra}
  worker:
    image: example/api:1
    environment:
      - REDIS_URL={url}
"""
    }


def test_redis_requiring_a_password_its_client_urls_omit_is_one_finding(
    write_tree: WriteTree,
) -> None:
    root = write_tree(
        _redis_platform(
            "redis-server --appendonly yes --requirepass ${REDIS_PASSWORD:-s3cr3t-v4lue}",
            "redis://redis:6379/0",
        )
    )
    findings = run(root, "ENV004")
    assert [(f.path, f.line, f.service) for f in findings] == [("docker-compose.yml", 8, "api")]
    (finding,) = findings
    assert "--requirepass" in finding.message and "NOAUTH" in finding.message
    assert "s3cr3t-v4lue" not in finding.message
    assert [(r.line, r.service) for r in finding.related] == [(4, "redis"), (12, "worker")]


def test_redis_urls_with_the_password_or_a_server_without_one_are_quiet(
    write_tree: WriteTree,
) -> None:
    with_password = _redis_platform(
        "redis-server --requirepass ${REDIS_PASSWORD:-s3cr3t-v4lue}",
        "redis://:${REDIS_PASSWORD:-s3cr3t-v4lue}@redis:6379/0",
    )
    assert run(write_tree(with_password), "ENV004") == []


def test_redis_without_requirepass_is_quiet(write_tree: WriteTree) -> None:
    root = write_tree(_redis_platform("redis-server --appendonly yes", "redis://redis:6379/0"))
    assert run(root, "ENV004") == []


def test_a_self_described_development_signing_key_is_a_placeholder(
    write_tree: WriteTree,
) -> None:
    def platform(fallback: str) -> dict[str, str]:
        return {
            "docker-compose.yml": f"""
services:
  auth:
    image: example/auth:1
    environment:
      - JWT_SECRET_KEY=${{JWT_SECRET_KEY:-{fallback}}}
"""
        }

    bad = run(write_tree(platform("dev-jwt-secret")), "ENV003")
    assert [(f.code, f.line) for f in bad] == [("ENV003", 5)]
    assert "dev-jwt-secret" not in bad[0].message
    # A generated-looking value is not judged by its words.
    assert run(write_tree(platform("dev-9f3Kq2xLw8Zp-secret")), "ENV003") == []


def _settings_platform(config: str, environment: str, main: str | None = None) -> dict[str, str]:
    return {
        "docker-compose.yml": f"""
services:
  api:
    build: ./api
    environment:
{environment}
""",
        "api/Dockerfile": (
            "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
            'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
        ),
        "api/requirements.txt": "fastapi==0.116.1\npydantic-settings==2.4.0\n",
        "api/app/__init__.py": "",
        "api/app/config.py": config,
        "api/app/main.py": main
        or "from fastapi import FastAPI\n\nfrom app.config import settings\n\napp = FastAPI()\n",
    }


_PREFIXED = """
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_")

    stripe_key: str
    region: str | None
    webhook_secret: str = Field(alias="STRIPE_WEBHOOK_SECRET")
    timeout: int = Field(default=30)


settings = Settings()
"""


def test_required_settings_follow_the_prefix_and_aliases(write_tree: WriteTree) -> None:
    bad = write_tree(_settings_platform(_PREFIXED, "      STRIPE_KEY: sk_live_x"))
    (finding,) = run(bad, "ENV009")
    assert (finding.path, finding.line) == ("api/app/config.py", 8)
    assert "BILLING_STRIPE_KEY, STRIPE_WEBHOOK_SECRET" in finding.message
    good = write_tree(
        _settings_platform(_PREFIXED, "      BILLING_STRIPE_KEY: k\n      STRIPE_WEBHOOK_SECRET: w")
    )
    assert run(good, "ENV009") == []


def test_a_committed_env_file_the_settings_load_sets_what_compose_does_not(
    write_tree: WriteTree,
) -> None:
    files = _settings_platform(
        _PREFIXED.replace('env_prefix="BILLING_"', 'env_prefix="BILLING_", env_file=".env"'),
        "      LOG_LEVEL: info",
    )
    files["api/.env.example"] = "BILLING_STRIPE_KEY=\nSTRIPE_WEBHOOK_SECRET=\n"
    assert run(write_tree(files), "ENV009") == []


def test_a_settings_model_filled_by_code_is_not_read_from_the_environment(
    write_tree: WriteTree,
) -> None:
    config = """
from pydantic_settings import BaseSettings


class Upstream(BaseSettings):
    name: str
    url: str


UPSTREAMS = [Upstream(name="auth", url="http://auth:8000")]
"""
    assert run(write_tree(_settings_platform(config, "      LOG_LEVEL: info")), "ENV009") == []


def test_a_passed_variable_read_under_its_own_name_is_not_unread(write_tree: WriteTree) -> None:
    config = """
import os

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    cors_origins: str = "http://localhost:3000"


settings = Settings()
ALLOWED = os.getenv("ALLOWED_ORIGINS", "").split(",")
"""
    root = write_tree(_settings_platform(config, "      ALLOWED_ORIGINS: https://a.example"))
    assert run(root, "ENV009") == []


_COMPOSE_LITERAL = """
services:
  api:
    image: example/api:1.4
    environment:
      SESSION_KEY: Vh3kP9xq2LmZ
      REGION: eu-west-1
      QUEUE: jobs
"""
_EXAMPLE = "SESSION_KEY=\nREGION=eu-west-1\nQUEUE=jobs\n"


def test_an_example_for_a_dotenv_compose_never_reads_is_reported(write_tree: WriteTree) -> None:
    root = write_tree({"docker-compose.yml": _COMPOSE_LITERAL, ".env.example": _EXAMPLE})
    (finding,) = run(root, "ENV010")
    assert (finding.path, finding.line) == (".env.example", 1)
    assert "SESSION_KEY" in finding.message and "Vh3kP9xq2LmZ" not in finding.message


def test_an_example_compose_reads_through_interpolation_is_quiet(write_tree: WriteTree) -> None:
    compose = _COMPOSE_LITERAL.replace("Vh3kP9xq2LmZ", "${SESSION_KEY:?set it}")
    root = write_tree({"docker-compose.yml": compose, ".env.example": _EXAMPLE})
    assert run(root, "ENV010") == []


def test_an_example_with_the_container_port_is_quiet(write_tree: WriteTree) -> None:
    compose = """
services:
  postgres:
    image: postgres:16
    ports:
      - "5434:5432"
"""
    example = "DB_HOST=postgres\nDB_PORT=5432\n"
    root = write_tree({"docker-compose.yml": compose, "deploy/.env.example": example})
    assert run(root, "ENV010") == []
    example = "DB_HOST=postgres\nDB_PORT=5434\n"
    root = write_tree({"docker-compose.yml": compose, "deploy/.env.example": example})
    (finding,) = run(root, "ENV010")
    assert "5434" in finding.message and "5432" in finding.message


def test_a_passed_variable_a_start_script_reads_is_not_unread(write_tree: WriteTree) -> None:
    config = """
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    cors_origins: str = "http://localhost:3000"


settings = Settings()
"""
    files = _settings_platform(config, "      ALLOWED_ORIGINS: https://a.example")
    assert [f.code for f in run(write_tree(files), "ENV009")] == ["ENV009"]
    files["api/entrypoint.sh"] = '#!/bin/sh\nexport CORS_ORIGINS="$ALLOWED_ORIGINS"\nexec "$@"\n'
    assert run(write_tree(files), "ENV009") == []
