"""The issue list's filters: parsed from the query string (checked as every entry point checks
text), turned into the desk's query, and written back into the links of the list's pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from passmuster.core.issues import IssueQuery, IssueType, Severity, Status
from passmuster.core.limits import check_storable

PAGE_SIZE = 50


@dataclass(slots=True)
class Filters:
    statuses: list[Status] = field(default_factory=list)
    severities: list[Severity] = field(default_factory=list)
    types: list[IssueType] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    text: str = ""
    page: int = 1

    @classmethod
    def parse(
        cls,
        status: Sequence[str],
        severity: Sequence[str],
        type_: Sequence[str],
        service: Sequence[str],
        q: str | None,
        page: int,
    ) -> Filters:
        return cls(
            statuses=[Status.parse(s, field_name="status") for s in status if s],
            severities=[Severity.parse(s, field_name="severity") for s in severity if s],
            types=[IssueType.parse(s, field_name="type") for s in type_ if s],
            services=[check_storable("service", s) for s in service if s],
            text=check_storable("q", q or "").strip(),
            page=page,
        )

    def query(self) -> IssueQuery:
        return IssueQuery(
            statuses=self.statuses,
            severities=self.severities,
            types=self.types,
            services=self.services,
            text=self.text or None,
            sort="urgency",
            limit=PAGE_SIZE,
            offset=(self.page - 1) * PAGE_SIZE,
        )

    def pairs(self, *, page: int | None = None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        out += [("status", s.value) for s in self.statuses]
        out += [("severity", s.value) for s in self.severities]
        out += [("type", t.value) for t in self.types]
        out += [("service", s) for s in self.services]
        if self.text:
            out.append(("q", self.text))
        if page is not None and page > 1:
            out.append(("page", str(page)))
        return out

    def query_string(self, *, page: int | None = None) -> str:
        return urlencode(self.pairs(page=self.page if page is None else page))
