"""What every outside signal does when the defect behind a resolved issue shows up again.

The scanner (a finding that returns), runtime errors (an event after the fix) and any later
source of signals reopen the issue the same way, so a person reading the timeline meets one
kind of regression: the issue goes back to `open`, a `regressed` event records where it had
been fixed (`old`) and where it was seen again (`new`), and a comment says both in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from passmuster.core.issues import Issue, Status
from passmuster.core.limits import STORED
from passmuster.usecases.desk import Desk


def reopen_as_regression(
    desk: Desk,
    number: int,
    *,
    actor: str,
    fixed_in: str,
    seen_in: str,
    seen_by: str,
    fields: Mapping[str, Any] | None = None,
) -> Issue:
    """Reopen resolved issue `number` because its cause was seen in `seen_in`; `seen_by`
    says so in words for the comment ("detected again by scan-…").

    `fields` are edits made in the same step (fresh error details). Joins the caller's
    transaction when there is one.
    """
    with desk.transaction():
        reopened = desk.transition(
            number, Status.OPEN, actor=actor, fields=fields or {}, limits=STORED
        )
        desk.record_event(number, "regressed", actor=actor, old=fixed_in, new=seen_in)
        desk.comment(
            number, f"Regression: {seen_by}; it had been fixed in {fixed_in}.", actor=actor
        )
    return reopened
