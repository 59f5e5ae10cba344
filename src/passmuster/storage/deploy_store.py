"""Reading and writing deployment runs and attempts. Every function takes the connection of a
transaction the desk opened (`Desk.write` / `Desk.read`); none opens one itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from passmuster.core.deploy.attempts import Attempt, Result, Run, RunStatus
from passmuster.errors import NotFound
from passmuster.storage.deploy_tables import deploy_attempts, deploy_runs

_LIGHT = (  # what lists need: everything but the output and log tails
    deploy_attempts.c.id,
    deploy_attempts.c.run,
    deploy_attempts.c.service,
    deploy_attempts.c.result,
    deploy_attempts.c.wave,
    deploy_attempts.c.started_at,
    deploy_attempts.c.finished_at,
    deploy_attempts.c.duration,
    deploy_attempts.c.exit_code,
    deploy_attempts.c.commit,
    deploy_attempts.c.service_commit,
    deploy_attempts.c.service_commit_at,
    deploy_attempts.c.failure,
    deploy_attempts.c.reason,
    deploy_attempts.c.issue,
    deploy_attempts.c.source,
    deploy_attempts.c.environment,
    deploy_attempts.c.external_id,
    deploy_attempts.c.url,
    deploy_attempts.c.actor,
)
ATTEMPT_FIELDS = frozenset(c.name for c in deploy_attempts.c) - {"id"}


# --- runs -----------------------------------------------------------------------------------


def insert_run(
    c: Connection,
    *,
    started_at: datetime,
    actor: str,
    source: str,
    commit: str | None,
    services: Sequence[str],
    options: str,
    owner: str | None,
    lease_until: datetime | None,
) -> Run:
    row_id = c.execute(
        insert(deploy_runs)
        .values(
            started_at=started_at,
            status=RunStatus.RUNNING.value,
            actor=actor,
            source=source,
            commit=commit,
            services=" ".join(services),
            options=options,
            owner=owner,
            lease_until=lease_until,
        )
        .returning(deploy_runs.c.id)
    ).scalar_one()
    return get_run(c, int(row_id))


def get_run(c: Connection, run_id: int) -> Run:
    row = c.execute(select(deploy_runs).where(deploy_runs.c.id == run_id)).first()
    if row is None:
        raise NotFound(f"no deployment run {run_id}")
    return _run(row)


def list_runs(c: Connection, *, limit: int = 20, status: RunStatus | None = None) -> list[Run]:
    query = select(deploy_runs).order_by(deploy_runs.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(deploy_runs.c.status == status.value)
    return [_run(row) for row in c.execute(query)]


def finish_run(c: Connection, run_id: int, status: RunStatus, at: datetime) -> None:
    c.execute(
        update(deploy_runs)
        .where(deploy_runs.c.id == run_id, deploy_runs.c.status == RunStatus.RUNNING.value)
        .values(status=status.value, finished_at=at, lease_until=None)
    )


def renew_run(c: Connection, run_id: int, owner: str, until: datetime) -> bool:
    """Extend the run's lease while its owner still holds it; False when it was taken over."""
    done = c.execute(
        update(deploy_runs)
        .where(
            deploy_runs.c.id == run_id,
            deploy_runs.c.owner == owner,
            deploy_runs.c.status == RunStatus.RUNNING.value,
        )
        .values(lease_until=until)
    )
    return done.rowcount == 1


def running_runs(c: Connection) -> list[Run]:
    query = select(deploy_runs).where(deploy_runs.c.status == RunStatus.RUNNING.value)
    return [_run(row) for row in c.execute(query)]


def interrupt_runs(c: Connection, run_ids: Sequence[int], at: datetime, reason: str) -> int:
    """Mark runs interrupted with their unfinished attempts; returns the attempts marked."""
    if not run_ids:
        return 0
    c.execute(
        update(deploy_runs)
        .where(deploy_runs.c.id.in_(run_ids), deploy_runs.c.status == RunStatus.RUNNING.value)
        .values(status=RunStatus.INTERRUPTED.value, finished_at=at, lease_until=None)
    )
    done = c.execute(
        update(deploy_attempts)
        .where(
            deploy_attempts.c.run.in_(run_ids),
            deploy_attempts.c.result == Result.RUNNING.value,
        )
        .values(result=Result.INTERRUPTED.value, finished_at=at, reason=reason)
    )
    return int(done.rowcount)


# --- attempts -------------------------------------------------------------------------------


def insert_attempt(c: Connection, values: Mapping[str, Any]) -> int:
    row = {k: _plain(v) for k, v in values.items() if k in ATTEMPT_FIELDS}
    for key in ("reason", "excerpt", "output", "logs", "environment", "actor"):
        row.setdefault(key, "")
    row.setdefault("source", "cli")
    return int(
        c.execute(
            insert(deploy_attempts).values(**row).returning(deploy_attempts.c.id)
        ).scalar_one()
    )


def update_attempt(c: Connection, attempt_id: int, values: Mapping[str, Any]) -> None:
    row = {k: _plain(v) for k, v in values.items() if k in ATTEMPT_FIELDS}
    if row:
        c.execute(update(deploy_attempts).where(deploy_attempts.c.id == attempt_id).values(**row))


def find_external(c: Connection, source: str, external_id: str, service: str) -> Attempt | None:
    row = c.execute(
        select(deploy_attempts).where(
            deploy_attempts.c.source == source,
            deploy_attempts.c.external_id == external_id,
            deploy_attempts.c.service == service,
        )
    ).first()
    return _attempt(row) if row is not None else None


def get_attempt(c: Connection, attempt_id: int) -> Attempt:
    row = c.execute(select(deploy_attempts).where(deploy_attempts.c.id == attempt_id)).first()
    if row is None:
        raise NotFound(f"no deployment attempt {attempt_id}")
    return _attempt(row)


def list_attempts(
    c: Connection,
    *,
    services: Sequence[str] = (),
    run: int | None = None,
    results: Sequence[Result] = (),
    before: int | None = None,
    since: datetime | None = None,
    limit: int = 50,
    with_text: bool = False,
) -> list[Attempt]:
    """Attempts, newest first; `before` pages by attempt id."""
    query = select(deploy_attempts) if with_text else select(*_LIGHT)
    if services:
        query = query.where(deploy_attempts.c.service.in_(list(services)))
    if run is not None:
        query = query.where(deploy_attempts.c.run == run)
    if results:
        query = query.where(deploy_attempts.c.result.in_([r.value for r in results]))
    if before is not None:
        query = query.where(deploy_attempts.c.id < before)
    if since is not None:
        query = query.where(deploy_attempts.c.started_at >= since)
    query = query.order_by(deploy_attempts.c.id.desc()).limit(limit)
    return [_attempt(row) for row in c.execute(query)]


def recent_by_service(c: Connection, per_service: int) -> dict[str, list[Attempt]]:
    """Each service's newest `per_service` attempts, newest first."""
    ranked = select(
        *_LIGHT,
        func.row_number()
        .over(partition_by=deploy_attempts.c.service, order_by=deploy_attempts.c.id.desc())
        .label("rank"),
    ).subquery()
    query = (
        select(*(ranked.c[col.name] for col in _LIGHT))
        .where(ranked.c.rank <= per_service)
        .order_by(ranked.c.service, ranked.c.id.desc())
    )
    found: dict[str, list[Attempt]] = {}
    for row in c.execute(query):
        attempt = _attempt(row)
        found.setdefault(attempt.service, []).append(attempt)
    return found


def unfinished_processes(c: Connection, run_ids: Sequence[int]) -> list[tuple[int, int, str]]:
    """(attempt id, pgid, process identity) of running attempts of these runs that started one."""
    if not run_ids:
        return []
    rows = c.execute(
        select(deploy_attempts.c.id, deploy_attempts.c.pgid, deploy_attempts.c.process).where(
            deploy_attempts.c.run.in_(list(run_ids)),
            deploy_attempts.c.result == Result.RUNNING.value,
            deploy_attempts.c.pgid.is_not(None),
        )
    )
    return [(int(r.id), int(r.pgid), str(r.process or "")) for r in rows]


def finished_attempts(
    c: Connection, *, since: datetime | None = None, until: datetime | None = None
) -> list[Attempt]:
    """Succeeded, failed and timed-out attempts (what the delivery keys count), oldest first."""
    query = select(*_LIGHT).where(
        deploy_attempts.c.result.in_(
            [Result.SUCCEEDED.value, Result.FAILED.value, Result.TIMED_OUT.value]
        ),
        deploy_attempts.c.finished_at.is_not(None),
    )
    if since is not None:
        query = query.where(deploy_attempts.c.finished_at >= since)
    if until is not None:
        query = query.where(deploy_attempts.c.finished_at < until)
    return [_attempt(row) for row in c.execute(query.order_by(deploy_attempts.c.id))]


def prune_output(c: Connection, services: Iterable[str], keep: int) -> int:
    """Blank the output and logs of each service's succeeded attempts beyond its newest `keep`
    (failures keep theirs: they are what issues point at)."""
    pruned = 0
    for service in set(services):
        newest = (
            select(deploy_attempts.c.id)
            .where(deploy_attempts.c.service == service)
            .order_by(deploy_attempts.c.id.desc())
            .limit(keep)
            .scalar_subquery()
        )
        done = c.execute(
            update(deploy_attempts)
            .where(
                deploy_attempts.c.service == service,
                deploy_attempts.c.result == Result.SUCCEEDED.value,
                deploy_attempts.c.id.not_in(newest),
                or_(deploy_attempts.c.output != "", deploy_attempts.c.logs != ""),
            )
            .values(output="", logs="")
        )
        pruned += int(done.rowcount)
    return pruned


def stale_leases(c: Connection, now: datetime) -> list[Run]:
    query = select(deploy_runs).where(
        and_(
            deploy_runs.c.status == RunStatus.RUNNING.value,
            deploy_runs.c.lease_until.is_not(None),
            deploy_runs.c.lease_until < now,
        )
    )
    return [_run(row) for row in c.execute(query)]


# --- rows -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Result | RunStatus) else value


def _run(row: Any) -> Run:
    return Run(
        id=int(row.id),
        started_at=row.started_at,
        status=RunStatus(row.status),
        actor=row.actor,
        source=row.source,
        finished_at=row.finished_at,
        commit=row.commit,
        services=tuple(row.services.split()) if row.services else (),
        options=row.options or "",
        owner=row.owner,
    )


def _attempt(row: Any) -> Attempt:
    data = row._mapping
    return Attempt(
        id=int(data["id"]),
        run=data["run"],
        service=data["service"],
        result=Result(data["result"]),
        started_at=data["started_at"],
        finished_at=data["finished_at"],
        duration=data["duration"],
        wave=data["wave"],
        exit_code=data["exit_code"],
        commit=data["commit"],
        service_commit=data["service_commit"],
        service_commit_at=data["service_commit_at"],
        failure=data["failure"],
        reason=data["reason"] or "",
        excerpt=data.get("excerpt") or "",
        output=data.get("output") or "",
        logs=data.get("logs") or "",
        issue=data["issue"],
        source=data["source"],
        environment=data["environment"] or "",
        external_id=data["external_id"],
        url=data["url"],
        actor=data["actor"] or "",
    )
