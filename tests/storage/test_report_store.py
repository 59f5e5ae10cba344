"""The statistics' priority matrix rows, put in order in Python on SQLite."""

from __future__ import annotations

import random

from passmuster.core.issues import Severity
from passmuster.storage.report_store import _most_severe_first


def test_rows_in_number_order_come_out_most_severe_first_then_by_number() -> None:
    rng = random.Random(5)
    names = [s.value for s in Severity]
    rows = [(n, f"t{n}", "open", rng.choice(names), None) for n in range(1, 500)]
    rows.append((500, "t500", "open", "unheard-of", None))
    ordered = _most_severe_first(rows)
    rank = {name: i for i, name in enumerate(names)}
    assert ordered == sorted(rows, key=lambda r: (rank.get(r[3], len(names)), r[0]))
    assert _most_severe_first([]) == []
