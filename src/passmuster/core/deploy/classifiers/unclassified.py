from __future__ import annotations

from passmuster.core.deploy.classify import EXCERPT_LINES, Classifier, Evidence, Match, last_lines


class Unclassified(Classifier):
    """## What it catches
    Every failure no other classifier recognises: the command exited with an error, or the
    service stopped before its health probe passed, with output nothing above explains.

    ## Why it happens
    Anything: read the excerpt. When the same kind of failure keeps landing here, it deserves
    a classifier of its own (see docs/deploy.md, "Adding a classifier").

    ## How to fix it
    Start from the last lines of the output and the service's logs
    (`passmuster deploy logs SERVICE`).
    """

    name = "unclassified"
    title = "Services fail to start for a reason no classifier recognises"
    order = 1000

    def match(self, evidence: Evidence) -> Match | None:
        if evidence.reason:
            summary = evidence.reason
        elif evidence.exit_code is not None:
            summary = f"exited with code {evidence.exit_code}"
        else:
            summary = f"{evidence.result.value.replace('_', ' ')}"
        tail = last_lines(evidence.text, EXCERPT_LINES)
        return Match(summary, tail or summary)
