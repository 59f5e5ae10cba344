"""The text a JSON column stores: exactly `json.dumps(value)`, with its encoder built once.

`json.dumps` builds a new C encoder at every call, which is most of its cost for the small lists
and mappings an issue keeps (its error blocks, tasks, files, original values): a 10,000-issue
import serialises about 60,000 of them. Handing SQLAlchemy one encoder, built with the same
settings as `json.dumps`'s defaults, gives the same text for less. Without the C accelerator
(another Python implementation) it is `json.dumps` itself. The command line's JSON, which keeps
non-ASCII text as it is, is written the same way (`dumps_readable`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _encoder
from typing import Any


def _make_encoder(text: Callable[[str], str]) -> Callable[[Any, int], list[str]] | None:
    make = getattr(_encoder, "c_make_encoder", None)
    if make is None:
        return None
    defaults = json.JSONEncoder()
    # No circular-reference markers: a marker left behind by a value that failed to serialise
    # would make the next call fail; what the desk stores is never circular.
    encode: Callable[[Any, int], list[str]] = make(
        None,
        defaults.default,
        text,
        None,
        defaults.key_separator,
        defaults.item_separator,
        False,
        False,
        True,
    )
    return encode


_TEXT = _encoder.encode_basestring_ascii
_ENCODE = _make_encoder(_TEXT)
_READABLE_TEXT = _encoder.encode_basestring
_ENCODE_READABLE = _make_encoder(_READABLE_TEXT)


# A plain module function, not a closure: psycopg caches its JSON adapters by the function's
# code and refuses to cache (with a warning per connection) a closure.
def dumps(value: Any) -> str:
    """`json.dumps(value)`."""
    if _ENCODE is None:
        return json.dumps(value)
    if type(value) is str:  # what json.dumps does for a bare text
        return _TEXT(value)
    return "".join(_ENCODE(value, 0))


def dumps_readable(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False)`: what the command line prints."""
    if _ENCODE_READABLE is None:
        return json.dumps(value, ensure_ascii=False)
    if type(value) is str:
        return _READABLE_TEXT(value)
    return "".join(_ENCODE_READABLE(value, 0))
