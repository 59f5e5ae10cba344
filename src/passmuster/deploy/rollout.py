"""The rollout: waves in order, services of a wave in parallel, each gated by its health probe.

For each service: its command starts in a process group of its own (output to
`.passmuster/deploy/logs/SERVICE.log`), then the deploy waits for the first of

- the health probe passing: deployed. A command still running then *is* the service (the local
  runner's `uvicorn`), and is left running and remembered for `deploy stop`;
- the command exiting with an error, or (for a service the command itself runs) exiting at all:
  failed, with its exit status;
- the timeout: timed out. This also ends a command that hangs.

A service without a probe counts as deployed when its command exits 0, or when a command that
keeps running is still up after `settle` seconds. Whatever the end, a failed, timed-out or
interrupted attempt's process group is stopped (SIGTERM, then SIGKILL), so nothing it started is
left behind.

Without `keep_going` the rollout stops after the wave where something failed; the services that
need a failed one are recorded as skipped. With it, everything that does not depend on a failure
goes on. Cancelling the rollout's task (Ctrl-C) stops the attempts in flight and records them as
interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from passmuster.core.deploy.attempts import Attempt, Result, Run, RunStatus, Version
from passmuster.core.deploy.plan import Plan
from passmuster.core.targets import Target
from passmuster.deploy import processes, state
from passmuster.deploy.configuration import DeploySetup, Unit
from passmuster.monitor.probes import Prober
from passmuster.usecases.deployments import DeployLog, Finished, Outcome

RENEW_EVERY = 20.0  # seconds between lease renewals (the lease is 60 s)
STOP_GRACE = 5.0


class Reporter:
    """Progress hooks for whoever watches the rollout; every method may be left as it is."""

    def wave(self, index: int, total: int, services: list[str]) -> None: ...
    def started(self, service: str) -> None: ...
    def finished(self, finished: Finished) -> None: ...
    def skipped(self, attempt: Attempt) -> None: ...
    def not_started(self, services: list[str], why: str) -> None: ...


@dataclass(slots=True)
class RolloutResult:
    run: Run
    status: RunStatus = RunStatus.RUNNING
    finished: list[Finished] = field(default_factory=list)
    skipped: list[Attempt] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Finished]:
        return [f for f in self.finished if f.attempt.result.is_failure]

    @property
    def succeeded(self) -> list[Finished]:
        return [f for f in self.finished if f.attempt.result is Result.SUCCEEDED]


class Rollout:
    def __init__(
        self,
        setup: DeploySetup,
        plan: Plan,
        log: DeployLog,
        *,
        parallel: int | None = None,
        keep_going: bool = False,
        reporter: Reporter | None = None,
        prober: Prober | None = None,
        versions: Mapping[str, Version] | None = None,
        options: str = "",
    ) -> None:
        self.setup = setup
        self.plan = plan
        self.log = log
        self.parallel = parallel or setup.config.parallel
        self.keep_going = keep_going
        self.reporter = reporter or Reporter()
        self.prober = prober
        self.versions = dict(versions or {})
        self.options = options
        self._outside: dict[str, str | None] = {}  # dependency -> why it is unhealthy (None: ok)
        self._inflight: dict[int, processes.Started] = {}  # attempt id -> its process group

    async def run(self, *, owner: str | None = None) -> RolloutResult:
        """Roll the plan out; cancel the task to interrupt (the result is then re-raised)."""
        commit = next((v.commit for v in self.versions.values() if v.commit), None)
        run = self.log.begin(self.plan.services, commit=commit, options=self.options, owner=owner)
        result = RolloutResult(run)
        prober = self.prober or Prober()
        self._prober = prober
        renewing = asyncio.create_task(self._renew(run))
        try:
            await self._waves(run, result)
        except BaseException:
            result.status = RunStatus.INTERRUPTED
            self.log.end(run, RunStatus.INTERRUPTED)
            raise
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        failed = bool(result.failed or result.skipped or result.not_started)
        result.status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
        self.log.end(run, result.status)
        return result

    async def _renew(self, run: Run) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            self.log.renew(run)

    async def _waves(self, run: Run, result: RolloutResult) -> None:
        limit = asyncio.Semaphore(self.parallel)
        failed: set[str] = set()
        waves = self.plan.waves
        for index, wave in enumerate(waves):
            if failed and not self.keep_going:
                rest = [s for w in waves[index:] for s in w]
                blocked = [s for s in rest if self.plan.blocked_by(s, failed)]
                for service in blocked:
                    self._skip(run, result, service, failed)
                others = [s for s in rest if s not in blocked]
                if others:
                    result.not_started.extend(others)
                    self.reporter.not_started(
                        others,
                        f"the rollout stopped after wave {index} failed "
                        "(--keep-going deploys what does not depend on a failure)",
                    )
                return
            runnable = []
            for service in wave:
                if self.plan.blocked_by(service, failed):
                    self._skip(run, result, service, failed)
                    failed.add(service)
                else:
                    runnable.append(service)
            self.reporter.wave(index + 1, len(waves), runnable)
            # One write for the wave's attempts, before any of them starts: a deploy killed
            # from here on leaves them recorded (as running, then interrupted).
            ids = self.log.start_many(
                run, [(s, index, self.versions.get(s, Version())) for s in runnable]
            )

            async def one(service: str, attempt_id: int) -> Finished:
                async with limit:
                    return await self._deploy(self.setup.units[service], attempt_id)

            tasks = [
                asyncio.create_task(one(s, attempt_id))
                for s, attempt_id in zip(runnable, ids, strict=True)
            ]
            try:
                done = await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
            for finished in done:
                result.finished.append(finished)
                if finished.attempt.result is not Result.SUCCEEDED:
                    failed.add(finished.attempt.service)

    def _skip(self, run: Run, result: RolloutResult, service: str, failed: set[str]) -> None:
        blocker = self.plan.blocked_by(service, failed) or "a dependency"
        attempt = self.log.skip(
            run,
            service,
            wave=self.plan.wave_of(service),
            version=self.versions.get(service, Version()),
            reason=f"{blocker}, which it depends on, failed",
        )
        result.skipped.append(attempt)
        self.reporter.skipped(attempt)

    # --- one service ----------------------------------------------------------------------

    async def _deploy(self, unit: Unit, attempt_id: int) -> Finished:
        try:
            self.reporter.started(unit.service)
            unhealthy = await self._check_outside(unit.service)
            if unhealthy:
                outcome = Outcome(
                    Result.FAILED,
                    reason="; ".join(f"dependency {d} is not healthy: {w}" for d, w in unhealthy),
                    unhealthy_dependencies=tuple(d for d, _ in unhealthy),
                    hosts=self.setup.hosts,
                )
            else:
                outcome = await self._run_unit(unit, attempt_id)
        except BaseException as exc:
            # Interrupted (or passmuster itself failed): stop what this attempt started and say so.
            started = self._inflight.pop(attempt_id, None)
            if started is not None:
                await asyncio.shield(
                    asyncio.to_thread(
                        processes.stop_group,
                        started.pgid,
                        grace=STOP_GRACE,
                        leader=started.process,
                    )
                )
            cancelled = isinstance(exc, asyncio.CancelledError)
            self.log.finish(
                attempt_id,
                Outcome(
                    Result.INTERRUPTED,
                    reason="interrupted (Ctrl-C or SIGTERM); its processes were stopped"
                    if cancelled
                    else f"passmuster failed while deploying it: {exc!r}",
                    output=processes.read_output(started.log, started.offset) if started else "",
                    killed_by_deploy=True,
                ),
            )
            raise
        self._inflight.pop(attempt_id, None)
        finished = self.log.finish(attempt_id, outcome)
        self.reporter.finished(finished)
        return finished

    async def _run_unit(self, unit: Unit, attempt_id: int) -> Outcome:
        setup = self.setup
        if unit.argv is None:  # external: only its probe counts
            return await self._gate(unit, None, time.monotonic() + unit.timeout)
        # A redeploy replaces what an earlier deploy left running.
        await asyncio.to_thread(state.stop, setup.state_dir, unit.service, grace=STOP_GRACE)
        if unit.port is not None and processes.port_in_use(unit.port):
            return Outcome(
                Result.FAILED,
                reason=f"port {unit.port} on 127.0.0.1 is in use by another process",
                hosts=setup.hosts,
            )
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            started = processes.start(
                unit.argv,
                cwd=unit.cwd,
                env=unit.env,
                log=setup.log_file(unit.service),
                header=f"--- passmuster deploy {stamp} attempt {attempt_id}: {' '.join(unit.argv)}",
            )
        except OSError as exc:
            return Outcome(
                Result.FAILED,
                exit_code=127,
                reason=f"cannot run {unit.argv[0]}: {exc.strerror or exc}",
                hosts=setup.hosts,
            )
        self._inflight[attempt_id] = started
        self.log.note_process(attempt_id, started.pgid, started.identity)
        deadline = time.monotonic() + unit.timeout
        outcome = await self._gate(unit, started, deadline)
        if outcome.result is Result.SUCCEEDED:
            if started.process.poll() is None:
                started.process.detached = True
                state.track(
                    setup.state_dir,
                    state.Tracked(
                        unit.service,
                        started.pgid,
                        started.identity,
                        unit.port,
                        str(started.log),
                        stamp,
                        attempt_id,
                    ),
                )
            outcome.output = processes.read_output(started.log, started.offset)
            return outcome
        # Failed or timed out: nothing it started may stay behind.
        await asyncio.to_thread(
            processes.stop_group, started.pgid, grace=STOP_GRACE, leader=started.process
        )
        outcome.output = processes.read_output(started.log, started.offset)
        if unit.logs is not None:
            outcome.logs = await asyncio.to_thread(_service_logs, unit)
        return outcome

    async def _gate(
        self, unit: Unit, started: processes.Started | None, deadline: float
    ) -> Outcome:
        """Wait for the health probe (or the command) to say the service is up."""
        begun = time.monotonic()
        delay = 0.01
        exited: int | None = None
        probe_reason: str | None = None
        stays = unit.port is not None  # the command is the service itself (local runner)
        while True:
            if started is not None and exited is None:
                code = started.process.poll()
                if code is not None:
                    exited = code
                    if code != 0 or stays:
                        return Outcome(
                            Result.FAILED,
                            exit_code=code,
                            reason=_exit_text(code, before="it became healthy"),
                            probe_reason=probe_reason,
                            hosts=self.setup.hosts,
                        )
            now = time.monotonic()
            if unit.target is not None:
                target = dataclasses.replace(
                    unit.target, timeout=max(min(unit.target.timeout, deadline - now), 0.05)
                )
                probed = await self._prober.probe(target)
                if probed.ok and (started is None or not stays or started.process.poll() is None):
                    return Outcome(Result.SUCCEEDED, exit_code=exited)
                probe_reason = probed.reason or probe_reason
            elif started is None or exited == 0:
                return Outcome(Result.SUCCEEDED, exit_code=exited)
            elif now - begun >= self.setup.config.settle:
                return Outcome(Result.SUCCEEDED)
            now = time.monotonic()
            if now >= deadline:
                running = started is not None and exited is None
                if unit.target is not None:
                    reason = f"no passing health probe within {unit.timeout:g}s"
                    if probe_reason:
                        reason += f" (last: {probe_reason})"
                    if running and not stays:
                        reason += "; the command was still running"
                else:
                    reason = f"the command was still running after {unit.timeout:g}s"
                return Outcome(
                    Result.TIMED_OUT,
                    exit_code=exited,
                    reason=reason,
                    probe_reason=probe_reason,
                    killed_by_deploy=running,
                    hosts=self.setup.hosts,
                )
            await asyncio.sleep(min(delay, max(deadline - now, 0.0)))
            # Quick at first, when most services come up, then easing off.
            elapsed = now - begun
            delay = min(delay * 1.5, 0.05 if elapsed < 3 else 0.25 if elapsed < 30 else 0.5)

    async def _check_outside(self, service: str) -> list[tuple[str, str]]:
        """The dependencies outside the plan that do not pass their probe (a few tries)."""
        unhealthy = []
        for dep in self.plan.outside.get(service, ()):
            if dep not in self._outside:
                self._outside[dep] = await self._probe_outside(dep)
            why = self._outside[dep]
            if why is not None:
                unhealthy.append((dep, why))
        return unhealthy

    async def _probe_outside(self, dep: str) -> str | None:
        unit = self.setup.units.get(dep)
        target: Target | None = unit.target if unit is not None else None
        if target is None:
            return None  # nothing to ask: it is trusted to be there
        reason = ""
        for attempt in range(3):
            probed = await self._prober.probe(target)
            if probed.ok:
                return None
            reason = probed.reason
            if attempt < 2:
                await asyncio.sleep(0.5)
        return reason or "its probe failed"


def _exit_text(code: int, *, before: str) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name} before {before}"
    return f"exited with code {code} before {before}"


def _service_logs(unit: Unit) -> str:
    assert unit.logs is not None
    code, text = processes.run_briefly(unit.logs, cwd=unit.cwd, env=unit.env, timeout=15)
    return text if code is not None else f"(could not read the service's logs: {text})"
