"""Request and response bodies of the REST API, kept apart from the tables and the domain.

`IssueCreate` is what a client may send to file an issue, `IssueUpdate` what it may change (every
field optional; only the ones sent change), `IssuePublic` what it gets back. The domain's
vocabularies (Status, Severity, …) are used as-is so the OpenAPI spec lists their values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from passmuster.core.catalog import SERVICE_NAME_MAX, SERVICE_NAME_PATTERN
from passmuster.core.issues import (
    CloseReason,
    ExtraSection,
    FileChange,
    Issue,
    IssueDraft,
    IssueType,
    Link,
    LinkKind,
    Priority,
    Severity,
    Status,
    Task,
)
from passmuster.core.limits import TYPED, check_storable
from passmuster.errors import InvalidValue
from passmuster.usecases.tokens import Role

# The limits are the desk's (core.limits.TYPED), declared here too so the OpenAPI spec shows them.
Title = Field(min_length=1, max_length=TYPED.title, description="One line saying what is wrong.")
Text = Field(default="", max_length=TYPED.text)
OptionalText = Field(default=None, max_length=TYPED.text)
Line = Field(default=None, max_length=TYPED.line)
Items = TYPED.items


def check_text(value: Any, where: str = "value") -> Any:
    """Reject text no database can store (NUL, lone surrogates) with core's message."""
    if isinstance(value, str):
        try:
            check_storable(where, value)
        except InvalidValue as exc:
            raise ValueError(exc.message) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, where)
            check_text(item, where)
    elif isinstance(value, list | tuple):
        for item in value:
            check_text(item, where)
    return value


def check_query(value: str | None, name: str) -> None:
    """Storable text for query parameters: a 422 naming the parameter."""
    if value is not None:
        check_storable(name, value)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any, info: ValidationInfo) -> Any:
        return check_text(value, info.field_name or "value")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TaskModel(_Model):
    text: str = Field(min_length=1, max_length=TYPED.item)
    done: bool = False


class FileChangeModel(_Model):
    path: str = Field(min_length=1, max_length=TYPED.item)
    note: str = Field(default="", max_length=TYPED.item)


class ExtraSectionModel(_Model):
    name: str = Field(min_length=1, max_length=TYPED.line)
    body: str = Text


class LinkModel(_Model):
    kind: LinkKind
    target: int = Field(ge=1, le=2**31 - 1, description="The other issue's number.")


ServiceName = Field(min_length=1, max_length=SERVICE_NAME_MAX, pattern=SERVICE_NAME_PATTERN)


class IssueCreate(_Model):
    """A new issue. Only the title is required; it is filed as open."""

    title: str = Title
    type: IssueType = IssueType.BUG
    severity: Severity = Severity.MEDIUM
    priority: Priority | None = None
    services: list[str] = Field(default_factory=list, max_length=Items)
    component: str | None = Line
    assignee: str | None = Line
    reporter: str | None = Field(
        default=None, max_length=TYPED.line, description="Defaults to the token's name."
    )
    description: str = Text
    impact: str = Text
    error_details: list[str] = Field(default_factory=list, max_length=Items)
    attempted_solutions: str = Text
    root_cause: str = Text
    workaround: str = Text
    prevention: str = Text
    files_changed: list[FileChangeModel] = Field(default_factory=list, max_length=Items)
    test_results: str = Text
    tasks: list[TaskModel] = Field(default_factory=list, max_length=Items)
    labels: list[str] = Field(default_factory=list, max_length=Items)
    original_id: str | None = Line
    links: list[LinkModel] = Field(default_factory=list, max_length=Items)
    extra_sections: list[ExtraSectionModel] = Field(default_factory=list, max_length=Items)

    def to_draft(self, *, actor: str) -> IssueDraft:
        data = self.model_dump(exclude={"files_changed", "tasks", "links", "extra_sections"})
        data["reporter"] = self.reporter or actor
        return IssueDraft(
            **data,
            files_changed=[FileChange(f.path, f.note) for f in self.files_changed],
            tasks=[Task(t.text, t.done) for t in self.tasks],
            links=[Link(link.kind, link.target) for link in self.links],
            extra_sections=[ExtraSection(s.name, s.body) for s in self.extra_sections],
        )


class IssueUpdate(_Model):
    """Fields to change; those left out stay as they are. Status moves through transitions."""

    expected_version: int | None = Field(
        default=None,
        ge=1,
        description="Refuse the change (409) unless the issue is still at this version.",
    )
    title: str | None = Field(default=None, min_length=1, max_length=TYPED.title)
    type: IssueType | None = None
    severity: Severity | None = None
    priority: Priority | None = None
    services: list[str] | None = Field(default=None, max_length=Items)
    component: str | None = Line
    assignee: str | None = Line
    reporter: str | None = Line
    description: str | None = OptionalText
    impact: str | None = OptionalText
    error_details: list[str] | None = Field(default=None, max_length=Items)
    attempted_solutions: str | None = OptionalText
    root_cause: str | None = OptionalText
    resolution: str | None = OptionalText
    workaround: str | None = OptionalText
    prevention: str | None = OptionalText
    files_changed: list[FileChangeModel] | None = Field(default=None, max_length=Items)
    test_results: str | None = OptionalText
    tasks: list[TaskModel] | None = Field(default=None, max_length=Items)
    labels: list[str] | None = Field(default=None, max_length=Items)
    extra_sections: list[ExtraSectionModel] | None = Field(default=None, max_length=Items)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as domain values."""
        sent = self.model_fields_set - {"expected_version"}
        out: dict[str, Any] = {}
        for name in sent:
            value = getattr(self, name)
            if name == "files_changed" and value is not None:
                value = [FileChange(f.path, f.note) for f in value]
            elif name == "tasks" and value is not None:
                value = [Task(t.text, t.done) for t in value]
            elif name == "extra_sections" and value is not None:
                value = [ExtraSection(s.name, s.body) for s in value]
            out[name] = value
        return out


class TransitionRequest(_Model):
    """Move an issue to another status; closing needs a reason."""

    to: Status
    reason: CloseReason | None = None
    resolution: str | None = OptionalText
    root_cause: str | None = OptionalText
    prevention: str | None = OptionalText
    workaround: str | None = OptionalText
    expected_version: int | None = Field(default=None, ge=1)

    def fields(self) -> dict[str, Any]:
        names = ("resolution", "root_cause", "prevention", "workaround")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


class CommentCreate(_Model):
    body: str = Field(min_length=1, max_length=TYPED.text)


class LinkCreate(_Model):
    kind: LinkKind
    target: int = Field(ge=1, le=2**31 - 1)


class LeasePublic(_Out):
    holder: str = Field(description="Who claimed the issue (a token's name).")
    since: datetime
    until: datetime = Field(description="When the claim runs out unless renewed.")


class ClaimRequest(_Model):
    """Which issue to claim (the next ready one when `number` is left out), for how long."""

    number: int | None = Field(default=None, ge=1, le=2**31 - 1)
    lease: str | None = Field(
        default=None,
        max_length=40,
        description="How long the claim holds without a renewal: 90s, 45m, 2h (default 30m).",
    )


class RenewRequest(_Model):
    lease: str | None = Field(default=None, max_length=40, description="From now: 90s, 45m, 2h.")


class HeldPublic(_Out):
    agent: str
    issue: int
    ref: str
    title: str
    status: Status
    since: datetime
    until: datetime
    expired: bool = Field(description="The claim ran out and waits to be returned to the queue.")


class IssuePublic(_Out):
    number: int
    ref: str = Field(description="The number as the logs write it: #007.")
    title: str
    type: IssueType
    severity: Severity
    priority: Priority | None
    status: Status
    close_reason: CloseReason | None
    services: list[str]
    component: str | None
    reporter: str | None
    assignee: str | None
    reported_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    version: int
    description: str
    impact: str
    error_details: list[str]
    attempted_solutions: str
    root_cause: str
    resolution: str
    workaround: str
    prevention: str
    files_changed: list[FileChangeModel]
    test_results: str
    tasks: list[TaskModel]
    labels: list[str]
    original_id: str | None
    source: str | None
    fingerprint: str | None
    links: list[LinkModel]
    extra_sections: list[ExtraSectionModel]
    original_values: dict[str, str]
    lease: LeasePublic | None = Field(
        default=None, description="The claim on the issue while someone holds one."
    )

    @classmethod
    def of(cls, issue: Issue) -> IssuePublic:
        return cls.model_validate(issue)


class IssuePage(_Out):
    items: list[IssuePublic]
    total: int = Field(description="How many issues match the filters, over all pages.")
    limit: int
    offset: int


class CommentPublic(_Out):
    id: int
    issue: int
    author: str
    body: str
    created_at: datetime


class EventPublic(_Out):
    id: int
    issue: int
    actor: str
    at: datetime
    kind: str
    field: str | None = None
    old: str | None = None
    new: str | None = None


class EventPage(_Out):
    items: list[EventPublic]
    next_cursor: int | None = Field(
        description="Pass as `after` for the next page; null when this page is the last."
    )


class ServicePublic(_Out):
    name: str
    description: str
    owner: str | None
    kind: str
    depends_on: list[str]
    health_url: str | None
    ports: list[str]
    source: str | None


class ServiceUpsert(_Model):
    description: str = Field(default="", max_length=10_000)
    owner: str | None = Line
    kind: str = Field(default="service", min_length=1, max_length=40)
    depends_on: list[str] = Field(default_factory=list, max_length=Items)
    health_url: str | None = Field(default=None, max_length=2000)
    ports: list[str] = Field(default_factory=list, max_length=Items)


class TokenCreate(_Model):
    name: str = Field(min_length=1, max_length=128)
    role: Role


class TokenPublic(_Out):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="The first characters of the secret, to tell tokens apart.")
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    secret: str = Field(description="Shown this once; only its hash is kept.")


class Health(_Out):
    status: str
