from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from passmuster.core.findings import Finding, Fix, Location
from passmuster.core.issues import Severity
from passmuster.scanner.context.interpolate import fallback_of
from passmuster.scanner.context.model import Platform
from passmuster.scanner.context.tree import SAMPLE_FOLDERS, has_credential_marker
from passmuster.scanner.facts.development import in_development_setup
from passmuster.scanner.facts.paths import is_test_file, is_test_setup
from passmuster.scanner.facts.secrets import is_secret_name, looks_generated
from passmuster.scanner.rule import Rule

# Key formats providers issue, each specific enough that a match is a key, not a word.
_PROVIDER_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{40,})\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{20,}\b")),
    ("a Stripe live key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}\b")),
    ("a SendGrid key", re.compile(r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b")),
    ("an OpenAI or Anthropic key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{32,}\b")),
    ("a Groq key", re.compile(r"\bgsk_[A-Za-z0-9]{48,}\b")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{34,}\b")),
)
# Provider keys that say they are public (Stripe's publishable `pk_…`) or for a test account
# (`sk_test_…`): not generated secrets of the platform, whatever the variable's name.
_PUBLIC_OR_TEST_KEY = re.compile(r"^(pk_(test|live)_|[rs]k_test_)")
# Words that mark a value as a placeholder written to look like a key.
_PLACEHOLDER = re.compile(r"(your|xxxx|example|placeholder|change|replace|here|dummy|fake)", re.I)

# A private key in PEM form. Public keys and certificates (`BEGIN PUBLIC KEY`, `BEGIN
# CERTIFICATE`) are meant to be shared, and a passphrase-protected key (`BEGIN ENCRYPTED
# PRIVATE KEY`, `Proc-Type: 4,ENCRYPTED`) is useless without its passphrase.
_PEM_PRIVATE = re.compile(r"-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH) )?PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END ")
_BASE64_BODY = re.compile(r"[A-Za-z0-9+/=]*")
# `\n` written inside a one-line value (`JWT_PRIVATE_KEY="-----BEGIN…\nMIIE…"`).
_ESCAPED_NEWLINE = re.compile(r"\\[nr]")
_LAYOUT = re.compile(r"[\s\"',\\]")
_MIN_KEY_BODY = 64  # base64 characters: an Ed25519 key, the shortest, has 64

# The name a line assigns to: `KEY=…`, `key: …`, `"key": …`, `KEY = "…"`.
_ASSIGNED = re.compile(r"""^\s*(?:export\s+|ENV\s+|-\s+)?["']?([A-Za-z_][\w.\-]*)["']?\s*[:=]""")
# Folders of documentation, examples and test data: a key there is a sample.
_SAMPLE_PARTS = SAMPLE_FOLDERS
_SAMPLE_NAME = re.compile(r"(example|sample|template|\.dist$|\.tpl$|dummy|fake|mock)", re.I)
# Folders and names of test runs and CI pipelines.
_CI_PARTS = frozenset({".ci", "ci", ".github", ".gitlab", ".circleci", "cypress", "playwright"})
# Env files for development, tests and CI: a generated value there signs nothing that ships.
_DEV_ENV_NAME = re.compile(r"(^|[._-])(dev|develop|development|local|test|testing|ci)([._-]|$)")

# What to do, for one value and for several.
_DATABASE_PASSWORD = "a database password"
_ADVICE = {
    "a private key": (
        "replace the key pair and keep the private key out of the repository (a mounted "
        "secret, an untracked file)",
        "replace the key pairs and keep the private keys out of the repository (a mounted "
        "secret, an untracked file)",
    ),
    "a generated secret": (
        "generate a new one and keep it out of the repository (an untracked .env, a secret store)",
        "generate new ones and keep them out of the repository (an untracked .env, a secret store)",
    ),
    _DATABASE_PASSWORD: (
        "change it on the server and read the URL from the environment or a secret store",
        "change them on the servers and read the URLs from the environment or a secret store",
    ),
}
# A password in a connection URL to a database, cache or broker on a host with a domain (a
# managed database: `…@flirt-42.cockroachlabs.cloud:26257`), not a sibling container's name.
_URL_CREDENTIAL = re.compile(
    r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|cockroachdb)"
    r"(?:\+[a-z0-9]+)?://[^\s:/@'\"]+:([^\s@/'\"]+)@([A-Za-z0-9.-]+)",
    re.I,
)
_LOCAL_DOMAINS = (".local", ".internal", ".localhost", ".svc", ".lan", ".test", ".invalid")
_REVOKE = (
    "revoke it and load it from the environment or a secret store",
    "revoke them and load them from the environment or a secret store",
)


@dataclass(frozen=True, slots=True)
class _Place:
    path: str
    line: int | None
    variable: str | None
    service: str | None


class CommittedApiKey(Rule):
    """## What it does
    Flags a credential committed to the repository:

    - a provider's API key, in the format the provider issues keys in (Google `AIza…`, AWS
      `AKIA…`, GitHub `ghp_…`, Slack `xox…-`, Stripe `sk_live_…`, SendGrid `SG.…`,
      OpenAI/Anthropic `sk-…`, Groq `gsk_…`, Hugging Face `hf_…`), wherever it is written:
      an env file (`.env`, `.env.example`, an `env_file`), a compose file, a Dockerfile,
      configuration (YAML, JSON, TOML, INI) or Python code;
    - a private key in PEM form (`-----BEGIN RSA PRIVATE KEY-----`, `BEGIN EC`/`OPENSSH`/
      `PRIVATE KEY`), such as a JWT signing key in `keys/private.pem` or pasted into a
      variable. Public keys, certificates and passphrase-protected keys are not secrets;
    - a generated secret: a variable named like a secret (`SECRET_KEY`, `JWT_SECRET`,
      `*_TOKEN`) holding 32 or more characters of hex, base64 or random letters and digits
      (`openssl rand -hex 32`), in a committed env file that is not an example or in a
      compose file's `environment:` (a literal or a `${SECRET_KEY:-…}` default) outside
      development set-ups;
    - a database password: a connection URL (`postgresql://`, `mysql://`, `mongodb+srv://`,
      `redis://`, `amqp://`, `cockroachdb://`) whose password looks generated (16 characters
      or more) and whose host has a domain (a managed database such as
      `…@app-42.cockroachlabs.cloud`), in Python code, compose files or a committed
      env file that is not an example. Sibling containers (`@db:5432`), `.local`/`.internal`
      names, templates and placeholders are left alone.

    Values written to look like a key (`sk-your-key-here`, `AIzaXXXX…`, a PEM body of
    `...`), documentation, examples and test data (`tests/`, `fixtures/`, `docs/`,
    `*.example`) and env files for development, tests or CI are left alone, and so are
    files the repository's `.gitignore` keeps out of version control (unless git tracks
    them anyway). Messages name the kind of credential and where it is, never its value.
    One finding per file and kind lists every place: twenty keys in one file, or one key
    committed in several files, are one finding.

    ## Why is this bad?
    Anyone who can read the repository, its forks and its history can spend the account's
    quota, read its data or, with a signing key, mint tokens for any user; bots harvest
    public repositories for these formats within minutes. Deleting the line does not help:
    the key stays in the history.

    ## Example
    ```text
    GEMINI_API_KEY=AIzaSyD4...   # a real key, 39 characters
    keys/jwt_private.pem         # -----BEGIN RSA PRIVATE KEY----- and its body
    SECRET_KEY=4f9c...           # 64 hex characters in a committed services/auth/.env
    ```

    ## How to fix
    Revoke the key with the provider (or replace the key pair, or generate a new secret),
    then load it from the environment or a secret store (`GEMINI_API_KEY=${GEMINI_API_KEY:?set
    it}` in compose, a placeholder in `.env.example`, a key file mounted at run time).
    """

    code = "ENV008"
    name = "committed-api-key"
    severity = Severity.CRITICAL
    fix = Fix.NONE

    def check(self, platform: Platform) -> Iterator[Finding]:
        # (kind, file it was first seen in) -> places, in the order found; one secret value
        # joins the group of its first place, so a key copied into three files is one finding.
        groups: dict[tuple[str, str], list[_Place]] = {}
        group_of: dict[str, tuple[str, str]] = {}
        values: dict[tuple[str, str], set[str]] = {}  # distinct secrets per group

        def note(what: str, secret: str, place: _Place) -> None:
            group = group_of.setdefault(secret, (what, place.path))
            values.setdefault(group, set()).add(secret)
            places = groups.setdefault(group, [])
            if all((p.path, p.line) != (place.path, place.line) for p in places):
                places.append(place)

        owners = _owners(platform)
        for path, env_file in sorted(platform.env_files.items()):
            if _in_sample_folder(path):
                continue
            real = _real_env_file(path) and not _for_tests_or_ci(path)
            for entry in env_file.entries:
                place = _Place(path, entry.line, entry.key, owners.get(path))
                for what, key in _provider_keys(entry.value):
                    note(what, key, place)
                if real and _generated_secret(entry.key, entry.value):
                    note("a generated secret", entry.value.strip().strip("'\""), place)
                if real:
                    for password, _ in _url_passwords(entry.value):
                        note(_DATABASE_PASSWORD, password, place)
        for service in platform.services:
            for name, var in service.env.items():
                if var.origin != "environment" or not var.value:
                    continue
                place = _Place(var.path, var.line, name, service.name)
                if var.template is None:
                    for what, key in _provider_keys(var.value):
                        note(what, key, place)
                # A literal, or the default of `${SECRET_KEY:-…}`: either is in the file.
                written = var.value if var.template is None else fallback_of(var.template)
                if (
                    written
                    and _generated_secret(name, written)
                    and not _is_sample(var.path)
                    and not _for_tests_or_ci(var.path)
                    and not in_development_setup(platform, service, var.path)
                ):
                    note("a generated secret", written.strip(), place)
        texts = {**platform.credential_texts, **platform.texts}
        for path in sorted(texts):
            text = texts[path]
            # The text's own tests first: most files carry neither a URL with a user nor a
            # credential marker, and the path's tests parse it.
            urls = "://" in text and "@" in text
            marked = has_credential_marker(text)
            if not (urls or marked) or path in platform.env_files or _is_sample(path):
                continue
            if urls and not _for_tests_or_ci(path):
                lines = text.splitlines()
                for password, line in _url_passwords(text):
                    named = _ASSIGNED.match(lines[line - 1]) if line <= len(lines) else None
                    variable = named.group(1) if named else None
                    note(
                        _DATABASE_PASSWORD, password, _Place(path, line, variable, owners.get(path))
                    )
            if not marked:
                continue
            for what, secret, line, variable in _in_text(text):
                note(what, secret, _Place(path, line, variable, owners.get(path)))

        for group, found in groups.items():
            what = group[0]
            several = len(values[group]) > 1
            advice = _ADVICE.get(what, _REVOKE)[several]
            masked = "values masked" if several else "value masked"
            first, *rest = found
            yield self.finding(
                f"{_subject(what, found)} committed to the repository ({masked})"
                f"{_also(found)}; {advice}",
                first.path,
                first.line,
                service=first.service,
                related=[
                    Location(p.path, p.line, message=p.variable or what, service=p.service)
                    for p in rest
                ],
                key=f"{first.variable or what}:{first.path}",
            )


def _subject(what: str, found: list[_Place]) -> str:
    """`SECRET_KEY holds a generated secret`, or `A, B and C hold generated secrets` for
    several variables of the first file."""
    first = found[0]
    names = list(dict.fromkeys(p.variable for p in found if p.path == first.path and p.variable))
    if not names:
        count = sum(1 for p in found if p.path == first.path)
        return (
            f"{first.path} holds {count} {_plural(what)}"
            if count > 1
            else f"{first.path} holds {what}"
        )
    if len(names) == 1:
        return f"{names[0]} holds {what}"
    shown = names[:3] if len(names) <= 3 else [*names[:2], f"{len(names) - 2} more"]
    listed = f"{', '.join(shown[:-1])} and {shown[-1]}"
    return f"{listed} hold {_plural(what)}"


def _url_passwords(text: str) -> Iterator[tuple[str, int]]:
    """(password, line) for each connection URL in `text` that carries a generated-looking
    password to a host with a domain; placeholders, templates and local names left out."""
    if "://" not in text or "@" not in text:
        return
    for match in _URL_CREDENTIAL.finditer(text):
        password, host = match.group(1), match.group(2).lower().rstrip(".")
        if "." not in host or host.endswith(_LOCAL_DOMAINS) or _PLACEHOLDER.search(host):
            continue
        if any(c in password for c in "{}$%<>") or not looks_generated(password, minimum=16):
            continue
        yield password, text.count("\n", 0, match.start()) + 1


def _plural(what: str) -> str:
    """`an AWS access key` -> `AWS access keys`."""
    return what.split(" ", 1)[1] + "s"


def _also(found: list[_Place]) -> str:
    """The other files the same secrets are committed in (the first file's other lines are
    counted by `_subject`)."""
    first = found[0]
    files = len({p.path for p in found[1:] if p.path != first.path})
    return f", and in {files} more file{'s' if files > 1 else ''}" if files else ""


def _generated_secret(name: str, value: str) -> bool:
    """Whether `name` is a secret's and `value` a generator's output (not a public or
    test-account provider key)."""
    text = value.strip().strip("'\"")
    return is_secret_name(name) and looks_generated(text) and not _PUBLIC_OR_TEST_KEY.match(text)


def _provider_keys(value: str) -> Iterator[tuple[str, str]]:
    """(kind, key) for each provider key in `value`, placeholders left out."""
    for what, pattern in _PROVIDER_KEYS:
        for match in pattern.finditer(value):
            key = match.group(0)
            # Few distinct characters (`AKIAAAAAAAAAAAAAAAAA`) is a made-up key; a real
            # 20-character AWS key has fewer than 12 about once in a hundred, 10 almost never.
            if _PLACEHOLDER.search(key) or len(set(key)) < min(12, len(key) // 2):
                continue
            yield what, key


def _in_text(text: str) -> Iterator[tuple[str, str, int, str | None]]:
    """(kind, secret, line, assigned name) for each credential in a file's text."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        keys = list(_provider_keys(line))
        pem = _PEM_PRIVATE.search(line)
        if not keys and pem is None:
            continue
        named = _ASSIGNED.match(line)
        variable = named.group(1) if named else None
        for what, key in keys:
            yield what, key, index + 1, variable
        if pem is not None:
            body = _pem_body(line[pem.end() :], lines[index + 1 : index + 80])
            if body is not None:
                yield "a private key", body, index + 1, variable


def _pem_body(rest_of_line: str, following: list[str]) -> str | None:
    """The base64 body after a private key's header, or None when it is elided, encrypted
    or too short to be a key."""
    raw: list[str] = []
    for chunk in [rest_of_line, *following]:
        end = _PEM_END.search(chunk)
        raw.append(chunk[: end.start()] if end else chunk)
        if end:
            break
    text = _ESCAPED_NEWLINE.sub("", "\n".join(raw))
    if "ENCRYPTED" in text:
        return None
    # Quotes and commas of a value split over lines in code; what is left of a real key is
    # base64 only. `...`, `<paste yours>` or `xxxx` elide the key.
    body = _LAYOUT.sub("", text)
    if not _BASE64_BODY.fullmatch(body) or len(set(body)) < 20:
        return None
    return body if len(body) >= _MIN_KEY_BODY else None


def _owners(platform: Platform) -> dict[str, str]:
    """The service each file belongs to, when one does: its env files, Dockerfile and code."""
    owners: dict[str, str] = {}
    for service in platform.services:
        for file, _, _ in service.env_files:
            owners.setdefault(file, service.name)
        if service.dockerfile_path:
            owners.setdefault(service.dockerfile_path, service.name)
        for path in service.python_files:
            owners.setdefault(path, service.name)
    return owners


def _in_sample_folder(path: str) -> bool:
    return is_test_file(path) or any(
        part.lower() in _SAMPLE_PARTS for part in PurePosixPath(path).parts[:-1]
    )


def _is_sample(path: str) -> bool:
    """Documentation, examples and test data: keys there are samples or throwaway."""
    return _in_sample_folder(path) or _SAMPLE_NAME.search(PurePosixPath(path).name) is not None


def _for_tests_or_ci(path: str) -> bool:
    """A file a test run or CI pipeline uses (`.ci/compose.cypress.yaml`,
    `tests/e2e/docker-compose.yml`): its secrets sign nothing but the run's own data."""
    parts = [part.lower() for part in PurePosixPath(path).parts]
    return (
        is_test_setup(path)
        or any(part in _CI_PARTS for part in parts[:-1])
        or any(word in parts[-1] for word in ("cypress", "playwright"))
    )


def _real_env_file(path: str) -> bool:
    """An env file a deployment reads as it is: not an example, and not one for
    development, tests or CI."""
    name = PurePosixPath(path).name.lower()
    return _SAMPLE_NAME.search(name) is None and _DEV_ENV_NAME.search(name) is None
