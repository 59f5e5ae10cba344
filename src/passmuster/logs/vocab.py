"""The spellings real logs use for statuses, severities, priorities, types and field names.

Each table maps a cleaned spelling (emoji, Markdown emphasis and punctuation removed, lower case)
onto the tracker's canonical value. `normalise_*` return None for a spelling no table knows; the
reader then keeps the text as written and warns.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import TypeVar

from passmuster.core.issues import IssueType, Priority, Severity, Status

# Pictographs, dingbats, arrows, geometric shapes, variation selectors and joiners.
_EMOJI = re.compile(
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff\u2e80-\u2eff"
    "\ufe0e\ufe0f\u200d\U0001f000-\U0001faff]"
)
_EMPHASIS = re.compile(r"[*_`]+")
_NON_WORD = re.compile(r"[^\w]+")


def strip_emoji(text: str) -> str:
    return _EMOJI.sub("", text)


@functools.lru_cache(maxsize=8192)
def clean(text: str) -> str:
    """`✅ **RESOLVED**` → `resolved`; `Tech-Debt` → `tech debt`."""
    text = _EMPHASIS.sub("", strip_emoji(text))
    return _NON_WORD.sub(" ", text).strip().lower()


def leading_emoji(text: str) -> str:
    """The emoji (and variation selector) a value starts with, for exporting it again."""
    out = []
    for ch in text.strip():
        if _EMOJI.match(ch):
            out.append(ch)
        else:
            break
    return "".join(out)


STATUS_SPELLINGS: dict[str, Status] = {
    "open": Status.OPEN,
    "new": Status.OPEN,
    "active": Status.OPEN,
    "active blocking": Status.OPEN,
    "blocking": Status.OPEN,
    "design issue": Status.OPEN,
    "reported": Status.OPEN,
    "todo": Status.OPEN,
    "to do": Status.OPEN,
    "pending": Status.OPEN,
    "investigating": Status.IN_PROGRESS,
    "unresolved": Status.OPEN,
    "reopened": Status.OPEN,
    "planned": Status.PLANNED,
    "scheduled": Status.PLANNED,
    "backlog": Status.PLANNED,
    "in progress": Status.IN_PROGRESS,
    "in_progress": Status.IN_PROGRESS,
    "wip": Status.IN_PROGRESS,
    "ongoing": Status.IN_PROGRESS,
    "started": Status.IN_PROGRESS,
    "blocked": Status.BLOCKED,
    "on hold": Status.BLOCKED,
    "waiting": Status.BLOCKED,
    "workaround applied": Status.WORKAROUND_APPLIED,
    "workaround_applied": Status.WORKAROUND_APPLIED,
    "temporary workaround applied": Status.WORKAROUND_APPLIED,
    "temporary workaround": Status.WORKAROUND_APPLIED,
    "workaround": Status.WORKAROUND_APPLIED,
    "mitigated": Status.WORKAROUND_APPLIED,
    "partially resolved": Status.WORKAROUND_APPLIED,
    "partially fixed": Status.WORKAROUND_APPLIED,
    "resolved": Status.RESOLVED,
    "fixed": Status.RESOLVED,
    "done": Status.RESOLVED,
    "complete": Status.RESOLVED,
    "completed": Status.RESOLVED,
    "functioning": Status.RESOLVED,
    "working": Status.RESOLVED,
    "verified": Status.RESOLVED,
    "closed": Status.CLOSED,
    "wont fix": Status.CLOSED,
    "won t fix": Status.CLOSED,
    "duplicate": Status.CLOSED,
    "invalid": Status.CLOSED,
    "已解决": Status.RESOLVED,
    "已修复": Status.RESOLVED,
    "已完成": Status.RESOLVED,
    "进行中": Status.IN_PROGRESS,
    "处理中": Status.IN_PROGRESS,
    "待处理": Status.OPEN,
    "未解决": Status.OPEN,
    "打开": Status.OPEN,
    "计划中": Status.PLANNED,
    "已关闭": Status.CLOSED,
    "阻塞": Status.BLOCKED,
}

SEVERITY_SPELLINGS: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "crit": Severity.CRITICAL,
    "blocker": Severity.CRITICAL,
    "urgent": Severity.CRITICAL,
    "sev1": Severity.CRITICAL,
    "sev 1": Severity.CRITICAL,
    "p0": Severity.CRITICAL,
    "high": Severity.HIGH,
    "major": Severity.HIGH,
    "sev2": Severity.HIGH,
    "sev 2": Severity.HIGH,
    "p1": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "normal": Severity.MEDIUM,
    "sev3": Severity.MEDIUM,
    "sev 3": Severity.MEDIUM,
    "p2": Severity.MEDIUM,
    "low": Severity.LOW,
    "minor": Severity.LOW,
    "trivial": Severity.LOW,
    "sev4": Severity.LOW,
    "sev 4": Severity.LOW,
    "p3": Severity.LOW,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "none": Severity.INFO,
    "严重": Severity.CRITICAL,
    "紧急": Severity.CRITICAL,
    "高": Severity.HIGH,
    "中": Severity.MEDIUM,
    "低": Severity.LOW,
}

PRIORITY_SPELLINGS: dict[str, Priority] = {
    "immediate": Priority.IMMEDIATE,
    "immediate blocking": Priority.IMMEDIATE,
    "critical": Priority.IMMEDIATE,
    "urgent": Priority.IMMEDIATE,
    "p0": Priority.IMMEDIATE,
    "p1": Priority.SHORT_TERM,
    "high": Priority.SHORT_TERM,
    "short term": Priority.SHORT_TERM,
    "short_term": Priority.SHORT_TERM,
    "next sprint": Priority.SHORT_TERM,
    "short term next sprint": Priority.SHORT_TERM,
    "p2": Priority.MEDIUM_TERM,
    "medium": Priority.MEDIUM_TERM,
    "medium term": Priority.MEDIUM_TERM,
    "medium_term": Priority.MEDIUM_TERM,
    "next quarter": Priority.MEDIUM_TERM,
    "medium term next quarter": Priority.MEDIUM_TERM,
    "p3": Priority.LONG_TERM,
    "p4": Priority.LONG_TERM,
    "low": Priority.LONG_TERM,
    "long term": Priority.LONG_TERM,
    "long_term": Priority.LONG_TERM,
    "future": Priority.LONG_TERM,
    "long term future releases": Priority.LONG_TERM,
}

TYPE_SPELLINGS: dict[str, IssueType] = {
    "bug": IssueType.BUG,
    "bugs": IssueType.BUG,
    "defect": IssueType.BUG,
    "incident": IssueType.INCIDENT,
    "incidents": IssueType.INCIDENT,
    "outage": IssueType.INCIDENT,
    "finding": IssueType.FINDING,
    "findings": IssueType.FINDING,
    "coordination": IssueType.COORDINATION,
    "deployment": IssueType.DEPLOYMENT,
    "deployment failure": IssueType.DEPLOYMENT,
    "deployment failures": IssueType.DEPLOYMENT,
    "failure categories identified": IssueType.DEPLOYMENT,
    "security": IssueType.SECURITY,
    "security issue": IssueType.SECURITY,
    "security issues": IssueType.SECURITY,
    "performance": IssueType.PERFORMANCE,
    "performance issue": IssueType.PERFORMANCE,
    "performance issues": IssueType.PERFORMANCE,
    "tech debt": IssueType.TECH_DEBT,
    "tech_debt": IssueType.TECH_DEBT,
    "technical debt": IssueType.TECH_DEBT,
    "enhancement": IssueType.ENHANCEMENT,
    "enhancements": IssueType.ENHANCEMENT,
    "enhancement requests": IssueType.ENHANCEMENT,
    "feature": IssueType.ENHANCEMENT,
    "features": IssueType.ENHANCEMENT,
    "feature request": IssueType.ENHANCEMENT,
    "feature requests": IssueType.ENHANCEMENT,
}

_T = TypeVar("_T")
_QUALIFIER = re.compile(r"\s*[(\[（].*?[)\]）]\s*")
_SEPARATED = re.compile(r"\s+(?:-|–|—|/)\s+|\s*[(（]")


def _lookup(table: dict[str, _T], raw: str) -> _T | None:
    key = clean(raw)
    if key in table:
        return table[key]
    # "Critical (Security Issue)", "🔴 ACTIVE - BLOCKING", "Medium - next week": try the head.
    bare = clean(_QUALIFIER.sub(" ", raw))
    if bare in table:
        return table[bare]
    head = clean(_SEPARATED.split(strip_emoji(raw).strip(), maxsplit=1)[0])
    return table.get(head)


@functools.lru_cache(maxsize=4096)
def normalise_status(raw: str) -> Status | None:
    return _lookup(STATUS_SPELLINGS, raw)


@functools.lru_cache(maxsize=4096)
def normalise_severity(raw: str) -> Severity | None:
    return _lookup(SEVERITY_SPELLINGS, raw)


@functools.lru_cache(maxsize=4096)
def normalise_priority(raw: str) -> Priority | None:
    return _lookup(PRIORITY_SPELLINGS, raw)


@functools.lru_cache(maxsize=4096)
def normalise_type(raw: str) -> IssueType | None:
    return _lookup(TYPE_SPELLINGS, raw)


def qualifier(raw: str) -> str:
    """The parenthesised remark of a value: `Critical (Security Issue)` → `security issue`."""
    m = re.search(r"[(（](.*?)[)）]", raw)
    return clean(m.group(1)) if m else ""


_DATE = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def parse_date(raw: str) -> datetime | None:
    """The first date in a value (`2025-06-05 (from audit report)`), as UTC; None if none."""
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        m = _DATE.search(text)
        if m is None:
            return None
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in m.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_date(moment: datetime) -> str:
    """`2025-09-09` at midnight UTC, else the full ISO time in UTC."""
    moment = moment.astimezone(UTC)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.isoformat()


# Field names, cleaned, onto draft attributes. `tasks`, `files_changed`, `error_details`,
# `services` and `labels` are parsed as lists; the rest are text.
FIELD_NAMES: dict[str, str] = {
    "status": "status",
    "state": "status",
    "current status": "status",
    "状态": "status",
    "severity": "severity",
    "严重程度": "severity",
    "严重性": "severity",
    "级别": "severity",
    "priority": "priority",
    "优先级": "priority",
    "type": "type",
    "category": "type",
    "类型": "type",
    "date": "reported_at",
    "date reported": "reported_at",
    "date discovered": "reported_at",
    "reported": "reported_at",
    "reported at": "reported_at",
    "reported on": "reported_at",
    "discovered": "reported_at",
    "created": "reported_at",
    "opened": "reported_at",
    "日期": "reported_at",
    "发现日期": "reported_at",
    "acknowledged": "acknowledged_at",
    "acknowledged at": "acknowledged_at",
    "resolved": "resolved_at",
    "resolved at": "resolved_at",
    "resolved on": "resolved_at",
    "date resolved": "resolved_at",
    "解决日期": "resolved_at",
    "reporter": "reporter",
    "reported by": "reporter",
    "报告人": "reporter",
    "assignee": "assignee",
    "assigned to": "assignee",
    "owner": "assignee",
    "负责人": "assignee",
    "component": "component",
    "组件": "component",
    "模块": "component",
    "service s affected": "services",
    "services affected": "services",
    "service affected": "services",
    "affected services": "services",
    "services": "services",
    "service": "services",
    "影响服务": "services",
    "受影响服务": "services",
    "labels": "labels",
    "tags": "labels",
    "标签": "labels",
    "description": "description",
    "problem": "description",
    "summary": "description",
    "symptom": "description",
    "symptoms": "description",
    "描述": "description",
    "问题": "description",
    "现象": "description",
    "问题描述": "description",
    "impact": "impact",
    "impact assessment": "impact",
    "影响": "impact",
    "error details": "error_details",
    "error": "error_details",
    "error message": "error_details",
    "stack trace": "error_details",
    "错误信息": "error_details",
    "attempted solutions": "attempted_solutions",
    "attempted solution": "attempted_solutions",
    "attempts": "attempted_solutions",
    "尝试方案": "attempted_solutions",
    "root cause": "root_cause",
    "root cause analysis": "root_cause",
    "cause": "root_cause",
    "根因": "root_cause",
    "根本原因": "root_cause",
    "原因": "root_cause",
    "resolution": "resolution",
    "resolution implemented": "resolution",
    "solution": "resolution",
    "fix": "resolution",
    "fix applied": "resolution",
    "permanent fix applied": "resolution",
    "permanent fix": "resolution",
    "解决方案": "resolution",
    "修复": "resolution",
    "workaround": "workaround",
    "current workaround": "workaround",
    "temporary workaround": "workaround",
    "temporary workaround applied": "workaround",
    "临时方案": "workaround",
    "prevention": "prevention",
    "prevention measures": "prevention",
    "预防": "prevention",
    "预防措施": "prevention",
    "files changed": "files_changed",
    "files modified": "files_changed",
    "files updated": "files_changed",
    "files affected": "files_changed",
    "files": "files_changed",
    "修改文件": "files_changed",
    "test results": "test_results",
    "testing": "test_results",
    "test result": "test_results",
    "测试结果": "test_results",
    "tasks": "tasks",
    "tasks to complete": "tasks",
    "remaining tasks": "tasks",
    "migration tasks": "tasks",
    "implementation tasks": "tasks",
    "todo": "tasks",
    "checklist": "tasks",
    "任务": "tasks",
    "issue id": "original_id",
    "id": "original_id",
    "original id": "original_id",
    "编号": "original_id",
    "close reason": "close_reason",
    "title": "title",
    "标题": "title",
    "source": "source",
    "fingerprint": "fingerprint",
    "links": "links",
}

# Fields that make a section look like an issue when it has no issue ID in its heading.
ANCHOR_FIELDS = frozenset(
    {"status", "severity", "priority", "description", "root_cause", "resolution", "impact"}
)


@functools.lru_cache(maxsize=8192)
def field_for(name: str) -> str | None:
    """The draft attribute a field name (`**Service(s) Affected**`, `根因`) fills, if any."""
    return FIELD_NAMES.get(clean(name))
