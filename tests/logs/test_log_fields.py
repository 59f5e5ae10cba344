"""The one table of issue fields: every field the writer prints, the reader reads back."""

from __future__ import annotations

import dataclasses

from passmuster.core.issues import IssueDraft
from passmuster.logs.builder import KIND_READERS
from passmuster.logs.fields import FIELDS, Kind, Place
from passmuster.logs.vocab import field_for
from passmuster.logs.writer import LINE_WRITERS, SECTION_WRITERS


def test_every_draft_field_is_in_the_table_or_kept_whole() -> None:
    in_table = {f.attr for f in FIELDS}
    kept_whole = {"extra_sections", "original_values"}
    assert {f.name for f in dataclasses.fields(IssueDraft)} == in_table | kept_whole


def test_the_reader_knows_the_name_the_writer_gives_each_field() -> None:
    for spec in FIELDS:
        if spec.place in (Place.LINE, Place.SECTION):
            assert field_for(spec.label) == spec.attr, spec


def test_every_kind_has_a_reader_and_every_field_line_a_writer() -> None:
    assert set(KIND_READERS) == set(Kind)
    assert {f.kind for f in FIELDS if f.place is Place.LINE} <= set(LINE_WRITERS)
    section_kinds = {f.kind for f in FIELDS if f.place is Place.SECTION}
    assert section_kinds - {Kind.TEXT} <= set(SECTION_WRITERS)
