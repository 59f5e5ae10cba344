"""A JSON column's text is exactly what `json.dumps` writes, on both databases' engines."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert

from passmuster.storage.engine import create_desk_engine, write_transaction
from passmuster.storage.json_text import dumps

VALUES: list[object] = [
    None,
    True,
    0,
    -17,
    2**70,
    1.5,
    1e-300,
    math.inf,
    -math.inf,
    "",
    "plain",
    'quote " and \\ backslash\n\ttab',
    "naïve – “curly” ✅ 🔄 中文",
    "lone surrogate \ud83d",
    [],
    {},
    ["a", 1, None, [2, [3, {}]]],
    {"path": "services/a/requirements.txt", "note": "pinned"},
    {"b": 1, "a": {"nested": ["x", "ÿ"]}, "": None},
    [{"text": "Reproduce on staging", "done": True}, {"text": "Add a test", "done": False}],
    ("a", "tuple"),
    {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: repr(v)[:40])
def test_the_text_is_what_json_dumps_writes(value: object) -> None:
    assert dumps(value) == json.dumps(value)


def test_not_a_number_is_written_as_json_dumps_writes_it() -> None:
    assert dumps(math.nan) == json.dumps(math.nan) == "NaN"


def test_a_value_json_cannot_write_fails_and_the_next_one_is_still_written() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps([{"at": object()}])
    shared = ["same"]
    assert dumps([shared, shared]) == '[["same"], ["same"]]'
    assert dumps({"k": [1, 2]}) == '{"k": [1, 2]}'


def test_a_desk_engine_stores_json_as_json_dumps_writes_it(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = MetaData()
    table = Table(
        "json_text_rows",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("items", JSON),
    )
    # What the desk keeps in JSON columns: lists and mappings (a bare number would meet
    # SQLite's numeric affinity of the JSON column type, which is not the serialiser's doing).
    values = [v for v in VALUES if isinstance(v, list | dict | tuple | str)]
    engine = create_desk_engine(database_url)
    try:
        metadata.create_all(engine)
        with write_transaction(engine) as connection:
            connection.execute(insert(table), [{"id": n, "items": v} for n, v in enumerate(values)])
        with engine.connect() as connection:
            raw = connection.exec_driver_sql(
                "SELECT CAST(items AS TEXT) FROM json_text_rows ORDER BY id"
            ).all()
    finally:
        metadata.drop_all(engine)
        engine.dispose()
    # PostgreSQL's json type keeps the text it is given (jsonb would not).
    assert [row[0] for row in raw] == [json.dumps(v) for v in values]
    # psycopg takes the serialiser without its warning about closures it cannot cache.
    assert not [r for r in caplog.records if "closure" in r.getMessage()]
