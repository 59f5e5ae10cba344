"""Recognising secrets and placeholder values, and talking about them without showing them."""

from __future__ import annotations

import itertools
import re

_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|PASS$|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|SIGNING_KEY|ACCESS_KEY|"
    r"CREDENTIALS|_KEY$|^KEY$)",
    re.IGNORECASE,
)
_NOT_SECRET = re.compile(
    r"(PUBLIC_KEY|_KEY_ID$|KEY_PATH|KEY_FILE|_ALGORITHM|_EXPIRE|_TTL|_LENGTH|_URL$|_HOST$|"
    r"_NAME$|_ENABLED$|TOKEN_URL|_HEADER$|_PREFIX$)",
    re.IGNORECASE,
)

# Compared after lower-casing and dropping everything but letters and digits.
WELL_KNOWN = frozenset(
    {
        "secret",
        "password",
        "passwd",
        "pass",
        "admin",
        "root",
        "test",
        "default",
        "changeme",
        "changeit",
        "example",
        "123456",
        "12345678",
        "1234",
        "qwerty",
        "letmein",
        "postgres",
        "guest",
        "mysecret",
        "supersecret",
        "secretkey",
        "yoursecretkey",
        "mysecretkey",
        "jwtsecret",
        "apikey",
        "token",
        "xxx",
        "todo",
        "dummy",
        "placeholder",
        "minioadmin",
        "rabbitmq",
    }
)
# Compared against the value lower-cased with everything but letters and digits dropped, so
# `change-me`, `change_me` and `CHANGE ME` are one marker.
MARKERS = (
    "changeme",
    "changethis",
    "changeit",
    "changeinprod",
    "changebefore",
    "replaceme",
    "replacethis",
    "replacewith",
    "replaceinprod",
    "yoursecret",
    "yourpassword",
    "yourkey",
    "yourjwt",
    "yourapikey",
    "yourtoken",
    "placeholder",
    "insecure",
    "notsecret",
    "notsecure",
    "devsecret",
    "devpassword",
    "supersecret",
    "secretkey",
    "mysecret",
    "defaultsecret",
    "defaultpassword",
    "example",
    "dummy",
    "xxxxxx",
)


# A value that only says what it is for a development set-up: `dev-jwt-secret`,
# `local_signing_key`. Words only (no digits or random run), so nothing was ever generated.
_SELF_DESCRIBED = re.compile(r"^(dev|development|local)[a-z]*(secret|key|token)$")


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET.search(name)


def placeholder_kind(value: str, extra: frozenset[str] = frozenset()) -> str | None:
    """Why `value` is not a real secret ("a well-known default", "a placeholder"), or
    None when it looks real. Unresolved `${…}` templates are not judged."""
    text = value.strip().strip("'\"")
    if not text or "${" in text:
        return None
    squeezed = re.sub(r"[^a-z0-9]", "", text.lower())
    # `password123`, `admin1`: a well-known word with digits stuck on is no better.
    if squeezed.rstrip("0123456789") in WELL_KNOWN or squeezed in WELL_KNOWN:
        return "a well-known default"
    if text.lower() in extra:
        return "a well-known default"
    if any(marker in squeezed for marker in MARKERS):
        return "a placeholder"
    if text.replace("-", "").replace("_", "").isalpha() and _SELF_DESCRIBED.match(squeezed):
        return "a placeholder"
    return None


def mask(value: str) -> str:
    """A stand-in that shows a secret exists and its length, never its characters."""
    return f"<{len(value)} characters, masked>"


def looks_generated(value: str, minimum: int = 32) -> bool:
    """Whether `value` looks like a secret a generator made (`openssl rand -hex 32`,
    `secrets.token_urlsafe()`, a Fernet key): `minimum` characters or more of hex, base64 or
    letters and digits interleaved the way random output interleaves them. Phrases
    (`change-this-in-production-2024`) and placeholders are not generated."""
    text = value.strip().strip("'\"")
    if len(text) < minimum or placeholder_kind(text) is not None:
        return False
    if not _GENERATED_CHARS.fullmatch(text):
        return False
    if _HEX.fullmatch(text):
        return len(set(text.lower())) >= 10
    if _is_phrase(text):
        return False
    # Random output switches between lower case, upper case and digits every few characters;
    # words joined by dashes with a year at the end switch once or twice.
    classes = [_char_class(c) for c in text if c.isalnum()]
    switches = sum(1 for a, b in itertools.pairwise(classes) if a != b)
    return switches >= len(text) // 5


def _char_class(char: str) -> int:
    return 0 if char.isdigit() else 1 if char.isupper() else 2


def _is_phrase(text: str) -> bool:
    """Words someone typed: `MySuperSecretSigningKey2024`, `secret_key_for_my_app_2024`."""
    letters = sum(c.isalpha() for c in text)
    if any(c.isupper() for c in text):
        # A word has a vowel: `Secret`, `Signing`; random runs such as `Agpm`, `bzvf` do not.
        in_words = sum(len(w) for w in _CAMEL_WORD.findall(text) if _VOWEL.search(w))
        if in_words >= 0.6 * letters:
            return True
    # Words between separators: `secret_key_for_my_app_2024` (random base64url has a
    # separator every 32 characters, between runs of mixed case).
    segments = [part for part in _SEPARATOR.split(text) if part]
    words = sum(1 for part in segments if _WORD.fullmatch(part) and _VOWEL.search(part))
    return len(segments) >= 4 and 2 * words >= len(segments)


_CAMEL_WORD = re.compile(r"[A-Z]?[a-z]{3,}")
_VOWEL = re.compile(r"[aeiouyAEIOUY]")
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+")
_SEPARATOR = re.compile(r"[-_.]")
_GENERATED_CHARS = re.compile(r"[A-Za-z0-9+/=_\-]+")
_HEX = re.compile(r"[0-9a-fA-F]+")
