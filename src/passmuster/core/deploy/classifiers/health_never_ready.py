from __future__ import annotations

from passmuster.core.deploy.attempts import Result
from passmuster.core.deploy.classify import Classifier, Evidence, Match, last_lines


class HealthNeverReady(Classifier):
    """## What it catches
    A service whose command ran but whose health probe never passed within its timeout: the
    health route answers 404 or 500, the port never opens, or the command itself hangs.

    ## Why it happens
    The health check points at a route the code does not have, the server listens on another
    port than the one published (or only on 127.0.0.1 inside its container), start-up waits
    on something that never answers, or the timeout is shorter than the service's warm-up.

    ## How to fix it
    Check the probe's last answer in the excerpt. Give the service a `/healthz` route, make it
    listen on `0.0.0.0` and on the port compose publishes, or raise the timeout for a slow
    starter (`[deploy.services.NAME] timeout`). The scanner's CODE004 (missing health route),
    IMG002 (health-check tool missing), PORT002 (unlistened port) and IMG005 (loopback bind)
    find the usual causes.
    """

    name = "health-never-ready"
    title = "Services never become healthy after deploying"
    order = 80
    predicted_by = ("CODE004", "IMG002", "PORT002", "IMG005")

    def match(self, evidence: Evidence) -> Match | None:
        if evidence.result is not Result.TIMED_OUT:
            return None
        lines = [evidence.reason] if evidence.reason else []
        if evidence.probe_reason:
            lines.append(f"last probe: {evidence.probe_reason}")
        tail = last_lines(evidence.text, 8)
        excerpt = "\n".join([*lines, *([tail] if tail else [])])
        return Match(evidence.reason or "never healthy", excerpt)
