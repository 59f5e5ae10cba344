"""What the `deploy` commands do besides rolling out: plan, clean up after a dead deploy,
stop, show logs and status. The CLI and the demo call these; they print nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from passmuster.core.deploy.attempts import Attempt, Version
from passmuster.core.deploy.plan import Plan, make_plan
from passmuster.core.issues import Issue
from passmuster.deploy import processes, state
from passmuster.deploy.configuration import DeploySetup
from passmuster.errors import ConfigError
from passmuster.usecases.deployments import DeployLog, Swept
from passmuster.usecases.desk import Desk


def plan_for(setup: DeploySetup, selected: Sequence[str] = ()) -> Plan:
    """The plan for `selected` (every service the runner can start when empty)."""
    deployable = [name for name, unit in setup.units.items() if unit.argv is not None]
    for name in selected:
        if name in setup.left_out:
            raise ConfigError(f"{name} cannot be deployed here: {setup.left_out[name]}")
        unit = setup.units.get(name)
        if unit is not None and unit.argv is None:
            raise ConfigError(
                f"{name} is not started by the {setup.runner} runner; it is used where it "
                "answers (give it a command under [deploy.services." + name + "])"
            )
    return make_plan(setup.graph, list(selected) or deployable, left_out=setup.left_out)


def sweep(log: DeployLog) -> Swept:
    """Mark runs whose deploy died as interrupted, and stop the process groups their
    unfinished attempts had started."""
    swept = log.sweep(processes.alive)
    for pgid, identity in swept.processes:
        processes.stop_named(pgid, identity, grace=3.0)
    return swept


def versions_for(setup: DeploySetup, services: Sequence[str]) -> dict[str, Version]:
    from passmuster.deploy.versions import service_versions

    return service_versions(
        setup.root,
        {name: setup.units[name].folder if name in setup.units else None for name in services},
    )


@dataclass(slots=True)
class Stopped:
    service: str
    how: str  # "stopped", "not running", or the stop command's complaint
    ok: bool = True


def stop_services(setup: DeploySetup, services: Sequence[str] = ()) -> list[Stopped]:
    """Stop the named services (all the deploy knows when empty): the process groups it left
    running here, and each service's `stop` command when it has one."""
    names = list(services) or sorted(
        {t.service for t in state.every(setup.state_dir)}
        | {n for n, u in setup.units.items() if u.stop is not None and u.argv is not None}
    )
    out: list[Stopped] = []
    for name in names:
        if name not in setup.units and state.find(setup.state_dir, name) is None:
            raise ConfigError(
                f"unknown service {name!r}; known: {', '.join(sorted(setup.units)) or 'none'}"
            )
        ran = state.stop(setup.state_dir, name)
        unit = setup.units.get(name)
        if unit is not None and unit.stop is not None:
            code, text = processes.run_briefly(unit.stop, cwd=unit.cwd, env=unit.env, timeout=120)
            if code != 0:
                last = text.strip().splitlines()[-1] if text.strip() else f"exit {code}"
                out.append(Stopped(name, f"{' '.join(unit.stop)}: {last}", ok=False))
                continue
            out.append(Stopped(name, "stopped"))
            continue
        out.append(Stopped(name, "stopped" if ran else "not running"))
    return out


def service_logs(setup: DeploySetup, service: str, *, lines: int = 50) -> str | None:
    """The service's latest logs from this machine: its `logs` command, else the log file the
    deploy wrote; None when there is neither."""
    unit = setup.units.get(service)
    if unit is not None and unit.logs is not None:
        code, text = processes.run_briefly(unit.logs, cwd=unit.cwd, env=unit.env, timeout=30)
        if code is not None:
            return "\n".join(text.splitlines()[-lines:])
    path = setup.log_file(service)
    if not path.is_file():
        return None
    text = processes.read_output(path, 0, max_bytes=max(lines, 1) * 400)
    return "\n".join(text.splitlines()[-lines:])


@dataclass(slots=True)
class ServiceStatus:
    service: str
    last: Attempt | None
    health: str  # up, degraded, down, unknown
    health_reason: str = ""
    running: bool | None = None  # a process the deploy left running here, when it has one
    issues: list[int] = field(default_factory=list)  # open deployment issues naming it
    checked_at: datetime | None = None


def status(desk: Desk, setup: DeploySetup | None, *, probe: bool = True) -> list[ServiceStatus]:
    """Per service: its last attempt, its health now, open deployment issues (seed 004's table)."""
    from passmuster.usecases.deployments import open_deployment_issues, recent_by_service

    last = {name: items[0] for name, items in recent_by_service(desk, 1).items() if items}
    issues: list[Issue] = open_deployment_issues(desk)
    names = sorted(set(last) | (set(setup.units) if setup else set()))
    health = asyncio.run(_probe_all(setup, names)) if probe and setup is not None else {}
    rows = []
    for name in names:
        tracked = state.find(setup.state_dir, name) if setup is not None else None
        seen, why = health.get(name, ("unknown", ""))
        rows.append(
            ServiceStatus(
                service=name,
                last=last.get(name),
                health=seen,
                health_reason=why,
                running=tracked.running if tracked is not None else None,
                issues=[i.number for i in issues if name in i.services],
            )
        )
    return rows


async def _probe_all(setup: DeploySetup | None, names: Sequence[str]) -> dict[str, tuple[str, str]]:
    import dataclasses

    from passmuster.monitor.probes import Prober

    if setup is None:
        return {}
    prober = Prober()
    targets = {
        n: dataclasses.replace(u.target, timeout=min(u.target.timeout, 3.0))
        for n in names
        if (u := setup.units.get(n)) is not None and u.target is not None
    }
    results = await asyncio.gather(*(prober.probe(t) for t in targets.values()))
    return {
        name: (result.health.value, result.reason or "")
        for name, result in zip(targets, results, strict=True)
    }
