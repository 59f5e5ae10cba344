"""The text a JSON column stores: exactly `json.dumps(value)`, with its encoder built once.

`json.dumps` builds a new C encoder at every call, which is most of its cost for the small lists
and mappings an issue keeps (its error blocks, tasks, files, original values): a 10,000-issue
import serialises about 60,000 of them. Handing SQLAlchemy one encoder, built with the same
settings as `json.dumps`'s defaults, gives the same text for less. Without the C accelerator
(another Python implementation) it is `json.dumps` itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _encoder
from typing import Any


def _make_encoder() -> Callable[[Any, int], list[str]] | None:
    make = getattr(_encoder, "c_make_encoder", None)
    if make is None:
        return None
    defaults = json.JSONEncoder()
    # No circular-reference markers: a marker left behind by a value that failed to serialise
    # would make the next call fail; what the desk stores is never circular.
    encode: Callable[[Any, int], list[str]] = make(
        None,
        defaults.default,
        _encoder.encode_basestring_ascii,
        None,
        defaults.key_separator,
        defaults.item_separator,
        False,
        False,
        True,
    )
    return encode


_ENCODE = _make_encoder()
_TEXT = _encoder.encode_basestring_ascii


# A plain module function, not a closure: psycopg caches its JSON adapters by the function's
# code and refuses to cache (with a warning per connection) a closure.
def dumps(value: Any) -> str:
    """`json.dumps(value)`."""
    if _ENCODE is None:
        return json.dumps(value)
    if type(value) is str:  # what json.dumps does for a bare text
        return _TEXT(value)
    return "".join(_ENCODE(value, 0))
