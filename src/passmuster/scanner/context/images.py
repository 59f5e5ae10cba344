"""Container image names, `[registry/]repository[:tag][@digest]`, and what a name tells.

The one reader of image references: a Dockerfile `FROM`, a compose `image:`. What an image is
(a database, a cache …), which tools its family ships and which Python it runs are read from
the name alone; no registry is asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

_PY_TAG = re.compile(r"^(\d+)\.(\d+)")
DATABASE_IMAGES = frozenset(
    {"postgres", "postgis", "timescaledb", "mysql", "mariadb", "mongo", "mongodb", "percona"}
)
# Base images of web servers and of other languages' runtimes: a service built on one runs no
# Python unless its Dockerfile installs it.
OTHER_RUNTIME_IMAGES = frozenset(
    {
        "nginx",
        "nginx-unprivileged",
        "openresty",
        "httpd",
        "caddy",
        "traefik",
        "haproxy",
        "envoy",
        "node",
        "bun",
        "deno",
        "golang",
        "rust",
        "openjdk",
        "eclipse-temurin",
        "amazoncorretto",
        "php",
        "ruby",
        "dotnet",
        "aspnet",
    }
)
# A substring of the image's name and the kind of service it makes. First match wins.
_KIND_BY_NAME = (
    ("postgres", "database"),
    ("mysql", "database"),
    ("mariadb", "database"),
    ("mongo", "database"),
    ("redis", "cache"),
    ("memcached", "cache"),
    ("valkey", "cache"),
    ("rabbitmq", "broker"),
    ("kafka", "broker"),
    ("nats", "broker"),
    ("traefik", "gateway"),
    ("nginx", "gateway"),
    ("envoy", "gateway"),
    ("caddy", "gateway"),
    ("minio", "storage"),
)


@dataclass(frozen=True, slots=True)
class ImageName:
    """An image reference split into its parts (`registry` None for Docker Hub)."""

    registry: str | None
    repository: str  # `acme/instances`, `python`; lower-cased as registries compare them
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The last part of the repository: `python` for `docker.io/library/python:3.11`."""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def tag_or_latest(self) -> str:
        return self.tag or "latest"

    @property
    def is_official(self) -> bool:
        """A Docker Hub library image (`postgres`, `python`), not a platform's own image."""
        if self.registry not in (None, "docker.io", "index.docker.io"):
            return False
        return "/" not in self.repository or self.repository.startswith("library/")


@cache
def parse_image(text: str) -> ImageName:
    """Split an image reference; never fails (an odd reference gives odd parts)."""
    reference, _, digest = text.strip().partition("@")
    first, slash, rest = reference.partition("/")
    registry: str | None = None
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, reference = first, rest
    repository, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:
        repository, tag = reference, ""
    return ImageName(registry, repository.lower(), tag or None, digest or None)


def image_flavour(image: str | None) -> str | None:
    """`slim`, `alpine` or `full` for the image families whose tooling is known, else None.

    Official `python:<version>` images are built on buildpack-deps (gcc, curl, wget present);
    their `-slim` variants and plain `debian`/`ubuntu` have none of them; Alpine has BusyBox
    wget but no curl and no compiler.
    """
    if not image:
        return None
    parsed = parse_image(image)
    tag = parsed.tag or ""
    if parsed.name == "alpine" or "alpine" in tag:
        return "alpine"
    if parsed.name in {"debian", "ubuntu"}:
        return "slim"
    if parsed.name in {"python", "pypy"}:
        return "slim" if "slim" in tag else "full"
    return None


def python_version(image: str | None) -> str | None:
    """`3.11` for `python:3.11-slim`, else None (unknown)."""
    if not image:
        return None
    parsed = parse_image(image)
    if parsed.name not in {"python", "pypy"} or not parsed.tag:
        return None
    match = _PY_TAG.match(parsed.tag)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def release(version: str | None) -> tuple[int, int] | None:
    """`(3, 12)` for the `3.12` of `python_version`, None when unknown."""
    major, _, minor = (version or "").partition(".")
    if not major.isdigit() or not minor.isdigit():
        return None
    return int(major), int(minor)


def image_kind(image: str | None) -> str | None:
    """What a pulled image is by its name (`database` for `postgres:16`), else None."""
    if not image:
        return None
    name = parse_image(image).name
    return next((kind for needle, kind in _KIND_BY_NAME if needle in name), None)


def is_database_image(image: str | None) -> bool:
    return bool(image) and parse_image(image or "").name in DATABASE_IMAGES
