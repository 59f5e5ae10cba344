"""The SLA states the pages share: a slow cold start must not make a small desk serve stale ones."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from passmuster.core.issues import IssueDraft, Severity
from passmuster.core.sla import SlaStatus
from passmuster.usecases.desk import Desk
from passmuster.web.sla_badges import sla_cache


class SlowFirstAnswer(Desk):
    """A real desk whose first SLA answer takes as long as a cold server's can on a busy machine
    (imports, empty caches); the delay is the only thing simulated."""

    cold = True

    def sla(self, *args: object, **kwargs: object) -> list[SlaStatus]:
        if self.cold:
            self.cold = False
            time.sleep(0.3)
        return super().sla(*args, **kwargs)  # type: ignore[arg-type]


def test_a_slow_warm_up_does_not_make_the_next_change_wait(sqlite_url: str) -> None:
    desk = SlowFirstAnswer.connect(sqlite_url)
    try:
        sla_cache(desk).refresh(desk, timed=False)
        assert sla_cache(desk).statuses(desk) == []
        long_ago = datetime.now(UTC) - timedelta(days=3)
        desk.file(
            IssueDraft(title="Old critical", severity=Severity.CRITICAL, reported_at=long_ago),
            actor="test",
        )
        breached = [s.title for s in sla_cache(desk).statuses(desk) if s.state == "breached"]
        assert breached == ["Old critical", "Old critical"]
    finally:
        desk.close()


def test_a_slow_measured_answer_still_serves_the_last_one_while_it_works(sqlite_url: str) -> None:
    desk = SlowFirstAnswer.connect(sqlite_url)
    try:
        sla_cache(desk).refresh(desk)
        desk.file(IssueDraft(title="Filed after", severity=Severity.CRITICAL), actor="test")
        # A desk measured as slow gets the last answer at once and the next in the background.
        assert sla_cache(desk).statuses(desk) == []
    finally:
        desk.close()
