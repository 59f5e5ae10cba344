"""ENV008 on credentials committed outside env files: private keys, provider keys in code and
configuration, generated secrets in committed env files. Every key here is made up by the
test (random characters in the provider's format), never copied from anywhere."""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

import pytest

from passmuster.core.findings import Finding
from passmuster.scanner.config import ScanConfig
from passmuster.scanner.engine import ScanResult, scan
from passmuster.scanner.facts.secrets import looks_generated
from passmuster.scanner.registry import default_registry
from passmuster.scanner.reporters import (
    concise_report,
    github_report,
    json_report,
    sarif_report,
    text_report,
)
from tests.scanner.helpers import WriteTree, track

_ALNUM = string.ascii_letters + string.digits
_SEEDED = random.Random(20261205)  # fixed, so the made-up values are the same every run


def _generated(alphabet: str, length: int) -> str:
    return "".join(_SEEDED.choice(alphabet) for _ in range(length))


def fake_pem(kind: str = "RSA PRIVATE KEY", size: int = 900) -> tuple[str, str]:
    """A PEM block of random bytes under `kind`'s header, and one line of its body."""
    body = base64.b64encode(_SEEDED.randbytes(size)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    block = f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n"
    return block, lines[len(lines) // 2]


def fake_aws_key() -> str:
    return "AKIA" + _generated(string.ascii_uppercase + string.digits, 16)


def fake_hex(length: int = 64) -> str:
    return _generated("0123456789abcdef", length)


def run(root: Path) -> ScanResult:
    return scan(root, ScanConfig(select=["ENV008"]))


def where(findings: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.code, f.path, f.line) for f in findings]


_COMPOSE = """
services:
  auth:
    build: ./services/auth
    env_file: services/auth/.env
"""


def test_a_committed_jwt_signing_key_is_one_finding_per_file(write_tree: WriteTree) -> None:
    first, _ = fake_pem()
    second, _ = fake_pem("PRIVATE KEY")
    root = write_tree(
        {
            "docker-compose.yml": _COMPOSE,
            "services/auth/keys/private.pem": first + second,
            "services/auth/jwt_private.key": fake_pem("EC PRIVATE KEY", 120)[0],
        }
    )
    findings = run(root).findings
    assert where(findings) == [
        ("ENV008", "services/auth/jwt_private.key", 1),
        ("ENV008", "services/auth/keys/private.pem", 1),
    ]
    two_keys = findings[1]
    assert two_keys.message.startswith(
        "services/auth/keys/private.pem holds 2 private keys committed to the repository "
        "(values masked); replace the key pair"
    )
    assert findings[0].message.startswith("services/auth/jwt_private.key holds a private key")
    assert [r.line for r in two_keys.related] == [first.count("\n") + 1]


def test_a_private_key_pasted_into_a_value_is_found_where_it_is(write_tree: WriteTree) -> None:
    pem, _ = fake_pem("OPENSSH PRIVATE KEY", 400)
    one_line = pem.replace("\n", "\\n")
    # The shortest key there is: an Ed25519 key in PKCS#8 is 48 bytes, 64 base64 characters.
    ed25519, _ = fake_pem("PRIVATE KEY", 48)
    root = write_tree(
        {
            "docker-compose.yml": _COMPOSE,
            "config/auth.yaml": f'issuer: auth\nsigning_key: "{one_line}"\n',
            "services/auth/app/keys.py": f'ED25519_KEY = """{ed25519}"""\n',
        }
    )
    findings = run(root).findings
    assert where(findings) == [
        ("ENV008", "config/auth.yaml", 2),
        ("ENV008", "services/auth/app/keys.py", 1),
    ]
    assert findings[0].message.startswith("signing_key holds a private key")
    assert findings[1].message.startswith("ED25519_KEY holds a private key")


@pytest.mark.parametrize(
    "name, text",
    [
        ("keys/public.pem", fake_pem("PUBLIC KEY")[0]),
        ("keys/rsa_public.pem", fake_pem("RSA PUBLIC KEY")[0]),
        ("certs/server.crt.pem", fake_pem("CERTIFICATE")[0]),
        ("keys/protected.pem", fake_pem("ENCRYPTED PRIVATE KEY")[0]),
        (
            "keys/legacy.pem",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
            "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
            + fake_pem()[0].split("\n", 1)[1],
        ),
        (
            "config/jwt.yaml",
            'private_key: "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----"\n',
        ),
        ("config/jwt.toml", 'key = "-----BEGIN RSA PRIVATE KEY-----<paste yours>"\n'),
        (
            "config/jwt.yml",
            "private_key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  "
            + "X" * 64
            + "\n  -----END RSA PRIVATE KEY-----\n",
        ),
        ("tests/fixtures/signing.pem", fake_pem()[0]),
        ("docs/keys/sample.pem", fake_pem()[0]),
        ("keys/private.pem.example", fake_pem()[0]),
    ],
)
def test_what_is_no_committed_private_key_is_left_alone(
    write_tree: WriteTree, name: str, text: str
) -> None:
    root = write_tree({"docker-compose.yml": _COMPOSE, name: text})
    assert run(root).findings == []


def test_provider_keys_in_code_and_configuration_are_found(write_tree: WriteTree) -> None:
    aws = fake_aws_key()
    github = "ghp_" + _generated(_ALNUM, 36)
    root = write_tree(
        {
            "docker-compose.yml": _COMPOSE,
            "services/auth/Dockerfile": "FROM python:3.12-slim\nCOPY app app\n",
            "scripts/upload.py": f'import boto3\n\nAWS_ACCESS_KEY_ID = "{aws}"\n',
            "deploy/settings.json": f'{{\n  "token": "{github}"\n}}\n',
        }
    )
    findings = run(root).findings
    assert where(findings) == [
        ("ENV008", "deploy/settings.json", 2),
        ("ENV008", "scripts/upload.py", 3),
    ]
    assert findings[0].message.startswith("token holds a GitHub token")
    assert findings[1].message.startswith("AWS_ACCESS_KEY_ID holds an AWS access key")


def test_a_key_is_silenced_where_it_is_written(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "docker-compose.yml": _COMPOSE,
            "scripts/upload.py": "# passmuster: ignore[ENV008] revoked; kept to test rotation\n"
            f'OLD_KEY = "{fake_aws_key()}"\n',
        }
    )
    result = run(root)
    assert result.findings == []
    assert [(f.code, f.path, f.line) for f in result.suppressed] == [
        ("ENV008", "scripts/upload.py", 2)
    ]


def test_twenty_keys_in_one_file_are_one_finding(write_tree: WriteTree) -> None:
    keys = "\n".join(f"KEY_{n}: {fake_aws_key()}" for n in range(20))
    root = write_tree({"docker-compose.yml": _COMPOSE, "config/aws.yml": keys + "\n"})
    findings = run(root).findings
    assert where(findings) == [("ENV008", "config/aws.yml", 1)]
    assert len(findings[0].related) == 19
    assert "KEY_0, KEY_1 and 18 more hold AWS access keys" in findings[0].message
    assert findings[0].message.endswith(
        "revoke them and load them from the environment or a secret store"
    )


@pytest.mark.parametrize(
    "name, text",
    [
        # AWS's own documented sample key, and keys written to look like one.
        ("scripts/upload.py", 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n'),
        ("config/ai.yaml", "openai_key: sk-your-openai-key-goes-here-0000000000\n"),
        ("tests/test_upload.py", f'KEY = "{fake_aws_key()}"\n'),
        ("tests/fixtures/aws.json", f'{{"key": "{fake_aws_key()}"}}\n'),
        ("examples/config.yaml", f"key: {fake_aws_key()}\n"),
    ],
)
def test_placeholders_and_test_data_are_not_provider_keys(
    write_tree: WriteTree, name: str, text: str
) -> None:
    root = write_tree({"docker-compose.yml": _COMPOSE, name: text})
    assert run(root).findings == []


def test_a_generated_secret_in_committed_env_files_is_one_finding(write_tree: WriteTree) -> None:
    signing = fake_hex()
    root = write_tree(
        {
            "docker-compose.yml": _COMPOSE
            + "  stock:\n    build: ./services/stock\n    env_file: services/stock/.env\n",
            "services/auth/.env": f"DATABASE_URL=postgresql://auth@db/auth\nSECRET_KEY={signing}\n",
            "services/stock/.env": f"LOG_LEVEL=info\nDEBUG=false\nJWT_SECRET_KEY={signing}\n",
        }
    )
    findings = run(root).findings
    assert where(findings) == [("ENV008", "services/auth/.env", 2)]
    assert [(r.path, r.line) for r in findings[0].related] == [("services/stock/.env", 3)]
    assert findings[0].service == "auth"
    assert "generated secret" in findings[0].message and "in 1 more file" in findings[0].message


@pytest.mark.parametrize(
    "name, line",
    [
        (".env.example", f"SECRET_KEY={fake_hex()}"),
        (".env.development", f"SECRET_KEY={fake_hex()}"),
        (".env.test", f"JWT_SECRET={fake_hex()}"),
        ("tests/.env", f"JWT_SECRET={fake_hex()}"),
        # Not a secret by its name, or no generator's output.
        (".env", f"BUILD_SHA={fake_hex(40)}"),
        (".env", "SECRET_KEY=cambiar-esta-clave-en-produccion-2024-ya"),
        (".env", "SECRET_KEY=django-insecure-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"),
        (".env", "JWT_SECRET=${JWT_SECRET:?set it in the deployment}"),
        # A Stripe publishable key is public; a test-mode key reaches only a test account.
        (".env", f"STRIPE_PUBLISHABLE_KEY=pk_test_{_generated(_ALNUM, 40)}"),
        (".env", f"STRIPE_SECRET_KEY=sk_test_{_generated(_ALNUM, 40)}"),
    ],
)
def test_env_files_that_hold_no_committed_secret_are_left_alone(
    write_tree: WriteTree, name: str, line: str
) -> None:
    root = write_tree({"docker-compose.yml": _COMPOSE, name: line + "\n"})
    assert run(root).findings == []


def test_a_generated_secret_written_in_compose_is_committed_too(write_tree: WriteTree) -> None:
    signing, default = fake_hex(), fake_hex()
    service = "  {name}:\n    image: acme/{name}:1\n    environment:\n      {line}\n"
    root = write_tree(
        {
            "docker-compose.yml": "services:\n"
            + service.format(name="auth", line=f"JWT_SECRET: {signing}")
            + service.format(name="web", line=f"SESSION_SECRET: ${{SESSION_SECRET:-{default}}}")
            + service.format(name="cache", line=f"BUILD_SHA: {fake_hex(40)}"),
            "docker-compose.dev.yml": "services:\n"
            + service.format(name="auth", line=f"JWT_SECRET: {fake_hex()}"),
            ".ci/compose.cypress.yaml": "services:\n"
            + service.format(name="auth", line=f"JWT_SECRET: {fake_hex()}"),
            ".ci/.env": f"JWT_SECRET={fake_hex()}\n",
        }
    )
    findings = run(root).findings
    # One file, one kind: one finding naming both; the development and CI files' keys are
    # left alone.
    assert where(findings) == [("ENV008", "docker-compose.yml", 5)]
    assert [(r.path, r.line) for r in findings[0].related] == [("docker-compose.yml", 9)]
    assert findings[0].message.startswith(
        "JWT_SECRET and SESSION_SECRET hold generated secrets committed to the repository"
    )


def test_gitignored_files_are_not_committed_secrets(write_tree: WriteTree) -> None:
    files = {
        "docker-compose.yml": _COMPOSE,
        "services/auth/.env": f"SECRET_KEY={fake_hex()}\n",
        "keys/private.pem": fake_pem()[0],
        "config/local.yaml": f"aws_key: {fake_aws_key()}\n",
    }
    root = write_tree(files)
    assert len(run(root).findings) == 3
    (root / ".gitignore").write_text(".env\nkeys/\nconfig/local.yaml\n", encoding="utf-8")
    assert run(root).findings == []


def test_a_key_git_tracks_is_committed_even_when_gitignore_lists_it(
    write_tree: WriteTree,
) -> None:
    root = write_tree(
        {
            "docker-compose.yml": _COMPOSE,
            ".gitignore": "*.pem\n",
            "keys/private.pem": fake_pem()[0],
            "keys/other.pem": fake_pem()[0],
        }
    )
    assert run(root).findings == []
    track(root, "keys/private.pem")  # `git add -f`: committed although ignored
    assert where(run(root).findings) == [("ENV008", "keys/private.pem", 1)]


def test_no_output_format_shows_a_committed_secret(write_tree: WriteTree) -> None:
    pem, pem_line = fake_pem()
    aws, hex_secret = fake_aws_key(), fake_hex()
    root = write_tree(
        {
            "docker-compose.yml": _COMPOSE + f"    environment:\n      AWS_ACCESS_KEY_ID: {aws}\n",
            "services/auth/.env": f"SECRET_KEY={hex_secret}\n",
            "services/auth/keys/private.pem": pem,
        }
    )
    result = run(root)
    assert len(result.findings) == 3
    registry = default_registry()
    reports = [
        report(result, registry)
        for report in (text_report, concise_report, json_report, sarif_report, github_report)
    ]
    json.loads(reports[2])
    for report in reports:
        for secret in (aws, aws[4:], hex_secret, hex_secret[:16], pem_line, pem_line[:20]):
            assert secret not in report


@pytest.mark.parametrize(
    "value, generated",
    [
        (_generated("0123456789abcdef", 64), True),  # openssl rand -hex 32
        (_generated(_ALNUM + "-_", 43), True),  # secrets.token_urlsafe(32)
        (_generated(_ALNUM + "+/", 43) + "=", True),  # a Fernet or base64 key
        (_generated(string.ascii_lowercase + string.digits, 50), True),  # Django's generator
        (_generated("0123456789abcdef", 16), False),  # too short to be a signing key
        ("this-is-my-very-long-secret-phrase-for-2024", False),
        ("MySuperSecretJwtSigningKeyForTheAuthService", False),
        ("Secret_Key_For_My_App_2024_Production_Use", False),
        ("MY_APP_SECRET_KEY_FOR_JWT_SIGNING_2024", False),
        # Typed at random, consonant runs in mixed case: no words, though camel-cased.
        ("trvkqBHNpxzm8wcdf2g5lsMvb0KTRjoqnd", True),
        ("your-secret-key-change-in-production-0123456789", False),
        ("a" * 64, False),
        ("postgresql://user:pw@db:5432/app?sslmode=disable", False),
    ],
)
def test_what_looks_generated(value: str, generated: bool) -> None:
    assert looks_generated(value) is generated
