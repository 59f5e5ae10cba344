"""The desk: the one layer the CLI, the API, the web pages, the importer, the scanner and the
monitor call to read and change the tracker.

CONTRACT (to be implemented by the tracker core work; signatures are the agreed interface):

    desk = Desk.open()                        # walk up to .passmuster/desk.db
    desk = Desk.open("postgresql://...")      # or a URL / a path to a .db file
    desk = Desk.init(Path("."))               # create .passmuster/desk.db (migrated)
    issue = desk.file(IssueDraft(title=...), actor="alice")
    desk.get(1); desk.list(IssueQuery(...)); desk.search("HTTPStatus")
    desk.update(1, {"severity": "high"}, actor="alice", expected_version=3)
    desk.transition(1, Status.RESOLVED, actor="alice", fields={"resolution": "..."})
    desk.acknowledge(1, actor="alice")
    desk.comment(1, "text", actor="alice")
    desk.link(1, LinkKind.CAUSED_BY, 2, actor="alice")
    desk.events(issue=1, after=None, limit=100)   # cursor paging by event id
    desk.stats(since=None, until=None)
    desk.ensure_service(Service(name="identity"))
    desk.close()
"""

from __future__ import annotations
