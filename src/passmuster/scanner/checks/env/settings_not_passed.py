from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.model import EnvVar, Platform, ServiceDef
from passmuster.scanner.facts.code import reachable_files
from passmuster.scanner.facts.development import in_development_setup
from passmuster.scanner.facts.settings import SettingsClass, instantiated, settings_classes
from passmuster.scanner.rule import Rule, reported_once

# Words too common in variable names to say two names mean the same setting.
_GENERIC = frozenset(
    {
        "URL", "URI", "HOST", "PORT", "NAME", "SERVICE", "API", "KEY", "DB", "ENABLED",
        "ENABLE", "MAX", "MIN", "DEFAULT", "TIMEOUT", "PATH", "DIR", "FILE", "LEVEL", "MODE",
        "TYPE", "APP", "SECRET", "PASSWORD", "USER", "TOKEN", "SECONDS", "MINUTES", "HOURS",
        "DAYS", "SIZE", "COUNT", "LIMIT", "TIME", "CONFIG", "SETTINGS", "SERVER", "CLIENT",
        "BASE", "PREFIX", "ALLOWED", "ALLOW", "EXPIRE", "EXPIRES", "DEBUG", "LOG", "ID",
    }
)  # fmt: skip
_EXAMPLE_SUFFIXES = (".example", ".sample", ".template", ".dist")
# Variables servers, SDKs and base images read on their own, whatever the app's code says.
_READ_BY_RUNTIME = (
    "PYTHON", "PIP_", "UVICORN_", "GUNICORN_", "WEB_CONCURRENCY", "MAX_WORKERS", "APP_MODULE",
    "MODULE_NAME", "VARIABLE_NAME", "FLASK_", "DJANGO_", "CELERY_", "SENTRY_", "OTEL_", "AWS_",
    "GOOGLE_", "AZURE_", "HF_", "TRANSFORMERS_", "TORCH", "CUDA_", "NVIDIA_", "OMP_", "DD_",
    "NEW_RELIC_", "ELASTIC_APM_", "PG", "TZ", "LANG", "LC_", "HTTP_PROXY", "HTTPS_PROXY",
    "NO_PROXY", "REQUESTS_CA_BUNDLE", "SSL_CERT_", "PROMETHEUS_MULTIPROC_DIR", "GRPC_",
)  # fmt: skip


class SettingsNotPassed(Rule):
    """## What it does
    Compares the variables a service's settings class reads (a pydantic `BaseSettings`
    subclass that its code instantiates, fields named after the variables, `env_prefix` and
    `Field(alias=…)` included) with what the compose service passes it, and flags:

    * fields **without a default** that neither the service's environment (compose
      `environment`, `env_file`, Dockerfile `ENV`), nor a committed env file the class
      loads, nor an example of that file sets: `Settings()` raises a `ValidationError` and
      the service exits at start;
    * a variable compose passes that **nothing in the service reads** (its code, its start
      scripts, Dockerfile and command; variables servers and SDKs read themselves, such as
      `GUNICORN_*` or `SENTRY_*`, are left alone), while a settings field that shares its
      distinctive word, and could hold its value, keeps its default (`ALLOWED_ORIGINS`
      given, `cors_origins` read): the value never arrives. A flag (`…_ONLY=false`) is not
      taken for an `int` field or a text field whose default is no truth word.

    Each settings class is one finding per compose project, listing every variable.

    ## Why is this bad?
    A required setting nobody passes crashes the container on every start; a variable under
    another name than the one the code reads is silently ignored, so the service runs with
    its built-in default (a CORS list, a rate limit, a key) while the compose file says
    otherwise.

    ## Example
    ```python
    class Settings(BaseSettings):
        ASYNC_DATABASE_URL: str          # no default
        cors_origins: str = "http://localhost:3000"
    ```
    ```yaml
    services:
      api:
        environment:
          DATABASE_URL: postgresql://app:pw@db:5432/app
          ALLOWED_ORIGINS: https://app.example.com
    ```

    ## How to fix
    Pass every required variable under the name the settings class reads (or give the field
    a default), and rename the compose variable, or the field, so both say the same.
    """

    code = "ENV009"
    name = "settings-not-passed"
    severity = Severity.HIGH
    fix = Fix.NONE

    @reported_once
    def check(self, platform: Platform) -> Iterator[Finding]:
        for project in platform.projects:
            missing_by_class: dict[tuple[str, str], list[tuple[ServiceDef, list[str]]]] = {}
            classes: dict[tuple[str, str], SettingsClass] = {}
            for service in platform.project_services(project.name):
                if not service.python_files or service.build_context is None:
                    continue
                if service.environment_unknown:
                    continue  # an env file nobody can read sets who knows what
                files = reachable_files(platform, service) or service.python_files
                found = [
                    cls
                    for path in files
                    for cls in settings_classes(platform, path)
                    if instantiated(platform, files, cls.name)
                ]
                if not found:
                    continue
                given = {name.upper() for name in (*service.env, *service.documented_env)}
                for cls in found:
                    known = given | _from_env_files(platform, service, cls)
                    missing = [f.variable for f in cls.required() if f.variable not in known]
                    if missing:
                        key = (cls.path, cls.name)
                        classes[key] = cls
                        missing_by_class.setdefault(key, []).append((service, missing))
                if not in_development_setup(platform, service, service.path):
                    yield from self._unread(platform, service, found, given)
            for key, holders in missing_by_class.items():
                yield self._missing(classes[key], holders, project.name)

    def _missing(
        self, cls: SettingsClass, holders: list[tuple[ServiceDef, list[str]]], project: str
    ) -> Finding:
        service, missing = holders[0]
        names = list(dict.fromkeys(n for _, m in holders for n in m))
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        services = list(dict.fromkeys(s.name for s, _ in holders))
        line = next(f.line for f in cls.fields if f.variable == missing[0])
        return self.finding(
            f"{cls.name} requires {shown} (no default), which the environment of "
            f"{', '.join(services)} in {service.path} does not set: {cls.name}() raises a "
            f"ValidationError and the service exits at start",
            cls.path,
            line,
            service=service.name,
            related=[
                Location(s.path, s.line, message=f"{s.name} defined here", service=s.name)
                for s, _ in holders
            ],
            key=f"required:{project}:{cls.path}:{cls.name}",
        )

    def _unread(
        self,
        platform: Platform,
        service: ServiceDef,
        found: list[SettingsClass],
        given: set[str],
    ) -> Iterator[Finding]:
        fields = [f for cls in found for f in cls.fields]
        read = {f.variable for f in fields}
        texts = [
            source.text.lower()
            for path in service.python_files
            if (source := platform.python.get(path)) is not None
        ]
        others: list[str] | None = None
        for name, var in service.env.items():
            if var.origin != "environment" or name.upper() in read:
                continue
            if name.upper().startswith(_READ_BY_RUNTIME):
                continue  # the server, an SDK or the image's start script reads it itself
            if any(name.lower() in text for text in texts):
                continue  # read under its own name somewhere (getenv, environ, a string)
            if others is None:
                others = _other_texts(platform, service)
            if any(name in text for text in others):
                continue  # a start script, the Dockerfile or the command uses it
            words = _words(name)
            near = next(
                (
                    f
                    for f in fields
                    if f.variable not in given
                    and words & _words(f.variable)
                    and not f.required
                    # `FEATURE_ONLY=false` is no value for an `int` port field: another setting
                    and (var.value is None or f.accepts(var.value))
                ),
                None,
            )
            if near is None:
                continue
            owner = next(cls for cls in found if near in cls.fields)
            yield self._unread_finding(service, var, near.variable, near.attribute, owner)

    def _unread_finding(
        self, service: ServiceDef, var: EnvVar, variable: str, attribute: str, cls: SettingsClass
    ) -> Finding:
        return self.finding(
            f"{var.name} is passed to {service.name} but no code of it reads that name; its "
            f"settings read {variable} ({cls.name}.{attribute}), which keeps its default",
            var.path,
            var.line,
            service=service.name,
            related=[
                Location(
                    cls.path,
                    next(f.line for f in cls.fields if f.attribute == attribute),
                    message=f"{cls.name}.{attribute}",
                    service=service.name,
                )
            ],
            key=f"unread:{service.project}:{service.name}:{var.name}",
        )


def _other_texts(platform: Platform, service: ServiceDef) -> list[str]:
    """What else can read a variable in the container: the command, the Dockerfile and the
    scripts and configuration files of the build context."""
    found = [c.raw for c in (service.command, service.entrypoint) if c is not None]
    context = (service.build_context or ".").rstrip("/") + "/"
    if service.dockerfile_path is not None:
        found.append(platform.texts.get(service.dockerfile_path, ""))
    for texts in (platform.texts, platform.documents):
        for path, text in texts.items():
            if (context == "./" or path.startswith(context)) and not path.endswith(
                (".py", ".md", ".rst")
            ):
                found.append(text)
    return found


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[^A-Z0-9]+", name.upper()) if len(w) >= 4} - _GENERIC


def _from_env_files(platform: Platform, service: ServiceDef, cls: SettingsClass) -> set[str]:
    """Variables the class's own env files set, read where the service's code runs from
    (the build context, or the settings file's folder and those above it); an example of
    such a file documents a local copy the image is built with."""
    folders = {service.build_context or "."}
    folder = posixpath.dirname(cls.path)
    while folder and folder not in folders:
        folders.add(folder)
        folder = posixpath.dirname(folder)
    keys: set[str] = set()
    for env_file in cls.env_files:
        for base in folders:
            path = posixpath.normpath(posixpath.join(base, env_file))
            for candidate in (path, *(path + suffix for suffix in _EXAMPLE_SUFFIXES)):
                parsed = platform.env_files.get(candidate)
                if parsed is not None:
                    keys.update(k.upper() for k in parsed.values())
    return keys
