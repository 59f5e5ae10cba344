"""What a log said at its last import is kept compactly and read back exactly, on both
databases, also when it was kept in the earlier form."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import update

from passmuster.core.issues import IssueDraft
from passmuster.core.merge import MERGED_FIELDS, ImportRecord, field_digests
from passmuster.storage.engine import write_transaction
from passmuster.storage.import_store import DIGEST_ORDERS, packed_digests, unpacked_digests
from passmuster.storage.import_tables import import_records
from passmuster.usecases.desk import Desk
from passmuster.usecases.importing import import_logs

# The order records written today name. Merging other fields one day means a new order beside
# this one (records on users' desks keep naming it), never a change to it.
FIRST_ORDER = (
    "assignee",
    "attempted_solutions",
    "component",
    "description",
    "error_details",
    "extra_sections",
    "files_changed",
    "impact",
    "labels",
    "original_id",
    "original_values",
    "prevention",
    "priority",
    "reporter",
    "resolution",
    "root_cause",
    "services",
    "severity",
    "tasks",
    "test_results",
    "title",
    "type",
    "workaround",
    "status",
    "close_reason",
)


def test_the_first_order_never_changes() -> None:
    assert DIGEST_ORDERS["m1"] == FIRST_ORDER
    assert MERGED_FIELDS == FIRST_ORDER, "a new merged field needs a new order in DIGEST_ORDERS"


def test_digests_are_packed_and_unpacked_exactly() -> None:
    digests = field_digests(IssueDraft(title="Worker misses REDIS_URL", services=["worker"]))
    packed = packed_digests(digests)
    assert isinstance(packed, str) and packed.startswith("m1:") and "title" not in packed
    assert unpacked_digests(packed) == digests
    assert list(unpacked_digests(packed)) == list(MERGED_FIELDS)
    assert unpacked_digests(json.loads(json.dumps(packed))) == digests


def test_digests_of_other_fields_are_kept_as_an_object() -> None:
    some = {"title": "abc", "status": "def"}
    assert packed_digests(some) == some
    spaced = dict.fromkeys(MERGED_FIELDS, "a b")
    assert packed_digests(spaced) == spaced
    assert unpacked_digests(some) == some


def test_an_order_this_passmuster_does_not_know_reads_as_no_digests() -> None:
    assert unpacked_digests("m9:" + " ".join("x" * len(MERGED_FIELDS))) == {}
    assert unpacked_digests("m1:too few") == {}


def test_records_round_trip_through_the_desk(desk: Desk) -> None:
    filed = desk.file_many([IssueDraft(title=f"Issue {n}") for n in range(3)], actor="ana")
    records = [
        ImportRecord(
            issue.number, "ISSUES.md", f"#{issue.number}", 3 + issue.number, field_digests(issue)
        )
        for issue in filed
    ]
    desk.save_import_records(records)
    assert sorted(desk.import_records("ISSUES.md"), key=lambda r: r.number) == records


def test_a_desk_with_records_in_the_earlier_form_re_imports_unchanged(
    tmp_path: Path,
) -> None:
    log = tmp_path / "ISSUES.md"
    log.write_text(
        "# Log\n\n## Issue #001 - Login loop\n**Status**: Open\n**Severity**: High\n",
        encoding="utf-8",
    )
    with Desk.init(tmp_path) as desk:
        import_logs(desk, [log], actor="ana", root=tmp_path)
        (record,) = desk.import_records("ISSUES.md")
        # As an earlier passmuster kept it: a JSON object of field → digest.
        with write_transaction(desk.engine) as connection:
            connection.execute(update(import_records).values(digests=dict(record.digests)))
        assert desk.import_records("ISSUES.md") == [record]
        desk.update(1, {"root_cause": "Cookie domain"}, actor="ana")
        again = import_logs(desk, [log], actor="ana", root=tmp_path)
        assert [entry.action for entry in again.issues] == ["unchanged"]
        assert desk.get(1).root_cause == "Cookie domain"
