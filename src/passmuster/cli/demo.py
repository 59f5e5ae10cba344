"""`passmuster demo`: the desk at work on a scratch folder, step by step.

The demo is a list of `Step`s run in order against one scratch desk. Each step prints what it
does and, where a person would type a command, the command itself, then runs that command through
the real CLI. New parts of the product add steps to `STEPS` (scan the example platform, import the
logs, serve, monitor) without touching the others.

The sample issues are the situations of the real coordination logs: a shared-requirements
mistake, conflicting database drivers, a logout that did not invalidate sessions, a crashing
/auth/me endpoint, a missing tenant service, port standardisation, and a wrong HTTPStatus import
that broke fifteen services at once.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from passmuster.cli._output import (
    BadInput,
    JsonOption,
    console,
    emit_json,
    issue_json,
    say,
    stop_on_sigterm,
)

if TYPE_CHECKING:
    from passmuster.core.catalog import Service
    from passmuster.core.issues import IssueDraft
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.local_platform import LocalPlatform

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@dataclass
class DemoContext:
    """What the steps share: the scratch folder, its desk URL, and the time the demo started."""

    folder: Path
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    failures: list[str] = field(default_factory=list)
    platform_source: Path | None = None

    @property
    def platform(self) -> Path:
        """The demo's own copy of the example platform (scans and fixes never touch the repo)."""
        return self.folder / "platform"

    @property
    def desk_path(self) -> Path:
        return self.folder / ".passmuster" / "desk.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.desk_path}"

    def open_desk(self) -> Desk:
        from passmuster.usecases.desk import Desk

        return Desk.open(self.desk_path)

    def run(self, *args: str, actor: str = "coordinator", expected: tuple[int, ...] = (0,)) -> int:
        """Show `passmuster ARGS` the way a person types it, then run it in this process."""
        from rich.markup import escape

        from passmuster.cli.group import cli

        shown = " ".join(_shell_quote(a) for a in args)
        console().print(f"\n[bold cyan]$ passmuster {escape(shown)}[/]")
        with _acting_as(actor), _working_in(self.folder):
            try:
                code = cli.main(
                    args=["--database-url", self.database_url, *args],
                    prog_name="passmuster",
                    standalone_mode=False,
                )
            except SystemExit as exc:  # commands such as `scan` exit with their verdict
                code = exc.code if isinstance(exc.code, int) else 1
        code = code if isinstance(code, int) else 0
        if code not in expected:
            self.failures.append(f"passmuster {shown} exited {code}")
        return code


def _shell_quote(arg: str) -> str:
    """Quote for a shell the way a person would: single quotes, or double ones around a quote."""
    quoted = shlex.quote(arg)
    if quoted == arg or "'" not in arg:
        return quoted
    for char in ("\\", '"', "$", "`"):
        arg = arg.replace(char, "\\" + char)
    return f'"{arg}"'


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[DemoContext], None]


@contextmanager
def _acting_as(actor: str) -> Iterator[None]:
    old = os.environ.get("PASSMUSTER_ACTOR")
    os.environ["PASSMUSTER_ACTOR"] = actor
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PASSMUSTER_ACTOR", None)
        else:
            os.environ["PASSMUSTER_ACTOR"] = old


@contextmanager
def _working_in(folder: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


# --- the steps ------------------------------------------------------------------------------


def create_desk(ctx: DemoContext) -> None:
    from passmuster.usecases.desk import Desk

    Desk.init(ctx.folder).close()
    say(f"A fresh desk: [bold]{ctx.desk_path}[/]")


def file_history(ctx: DemoContext) -> None:
    """Earlier issues, already resolved, filed with their original dates (as an import would)."""
    drafts = sample_history()
    with ctx.open_desk() as desk:
        for service in sample_services():
            desk.ensure_service(service)
        for draft in drafts:
            issue = desk.file(draft, actor="coordinator")
            say(f"  {issue.ref} [green]{issue.status.value}[/] {issue.title}")


def file_current(ctx: DemoContext) -> None:
    """Today's issues, reported a few hours ago by the service agents."""
    with ctx.open_desk() as desk:
        for draft in sample_current(ctx.now):
            issue = desk.file(draft, actor=draft.reporter or "coordinator")
            say(f"  {issue.ref} [bold]{issue.severity.value}[/] {issue.title}")


def work_the_issues(ctx: DemoContext) -> None:
    ctx.run("ack", "6")
    ctx.run("start", "6", actor="tenant-agent")
    ctx.run("edit", "6", "--done", "1", "--assignee", "tenant-agent", actor="tenant-agent")
    ctx.run("block", "7", "--reason", "needs the stats endpoint of #006", actor="user-agent")
    ctx.run("link", "6", "blocks", "7")
    ctx.run("ack", "9")
    ctx.run(
        "resolve",
        "9",
        "--root-cause",
        "asyncpg expects JSON text for JSONB columns; the code passed Python lists",
        "--resolution",
        "json.dumps() the custom_addons, disabled_modules and environment_vars fields on write, "
        "json.loads() them on read",
        "--prevention",
        "a repository test that round-trips every JSONB field",
        actor="instance-agent",
    )
    ctx.run("comment", "8", "Measured ~10-20 ms coordination overhead per call; target < 5 ms.")
    ctx.run("edit", "10", "--status", "planned", "--assignee", "platform-team")


def self_resolution(ctx: DemoContext) -> None:
    """A new report that the desk has seen before: `new` shows the known fix at once."""
    ctx.run(
        "new",
        "notification-service fails to start: cannot import name HTTPStatus from fastapi",
        "--type",
        "incident",
        "--severity",
        "high",
        "--service",
        "notification-service",
        "--error-details",
        "ImportError: cannot import name 'HTTPStatus' from 'fastapi'",
        actor="notification-agent",
    )
    ctx.run(
        "resolve",
        "11",
        "--resolution",
        "Applied the known fix from #005: `from http import HTTPStatus`.",
        actor="notification-agent",
    )


def show_the_desk(ctx: DemoContext) -> None:
    ctx.run("list")
    ctx.run("show", "7")
    ctx.run("ready")
    ctx.run("sla")


def show_statistics(ctx: DemoContext) -> None:
    ctx.run("stats")


def copy_platform(ctx: DemoContext) -> None:
    """A private copy of the example platform, so the demo's scans never touch the original."""
    source = ctx.platform_source
    if source is None or not source.is_dir():
        ctx.failures.append("the example platform was not found (give --platform DIR)")
        say("[red]No example platform found; give --platform DIR.[/]")
        return
    shutil.copytree(
        source, ctx.platform, ignore=shutil.ignore_patterns(".passmuster", "__pycache__")
    )
    say(f"Example platform copied from {source} to [bold]{ctx.platform}[/]")


def import_platform_log(ctx: DemoContext) -> None:
    if ctx.platform.is_dir():
        ctx.run("import", str(ctx.platform / "ISSUES.md"))


def scan_platform(ctx: DemoContext) -> None:
    if not ctx.platform.is_dir():
        return
    ctx.run("services", str(ctx.platform), "--record")
    # Findings are the point of the demo: exit code 1 ("findings reported") is expected here.
    code = ctx.run("scan", str(ctx.platform), "--fail-on", "critical", expected=(0, 1))
    if code == 0:
        say("[green]No critical findings.[/]")


STEPS: list[Step] = [
    Step("Create a desk", create_desk),
    Step("File the earlier, resolved issues", file_history),
    Step("File today's issues", file_current),
    Step("Work the issues: acknowledge, start, block, link, resolve, comment", work_the_issues),
    Step("Known fixes first: a look-alike issue", self_resolution),
    Step("Copy the example platform", copy_platform),
    Step("Import the platform's Markdown issue log", import_platform_log),
    Step(
        "Check the platform: catalog and cross-service rules, findings into the tracker",
        scan_platform,
    ),
    Step("Look at the desk", show_the_desk),
    Step("Statistics", show_statistics),
]


def serve_dashboard(ctx: DemoContext, *, port: int) -> None:
    """Start the platform's services locally and serve the dashboard with the monitor running.

    Runs until Ctrl-C; the platform's processes are stopped on the way out.
    """
    import uvicorn

    from passmuster.api.app import create_app
    from passmuster.api.config import ServeSettings
    from passmuster.cli.serve import server_for
    from passmuster.usecases.local_platform import start_local_platform
    from passmuster.usecases.tokens import TokenStore

    out = console()
    out.rule("[bold]Serve the dashboard with the monitor running[/]", align="left")
    # Whatever stops the demo (Ctrl-C at any moment included) stops the platform's processes,
    # closes the desk and frees the port: each is on the stack as soon as it exists.
    with ExitStack() as cleanup:
        # Hold the dashboard's port from now on: the platform's services take free ports too,
        # and one of them must not take the port the user asked for.
        listener = cleanup.enter_context(_listen(port))
        chosen = int(listener.getsockname()[1])
        if chosen != port:
            say(f"[yellow]Port {port} is busy; using {chosen}.[/]")
        desk = cleanup.enter_context(ctx.open_desk())
        _, secret = TokenStore(desk.engine).create("demo-admin", "admin", created_by="demo")
        base_urls: dict[str, str] = {}
        not_run: list[str] = []
        reporting = _error_reporting(desk, chosen)
        local = None
        if ctx.platform.is_dir():
            say("Starting the example platform's services on 127.0.0.1 ...")
            local = cleanup.enter_context(
                start_local_platform(ctx.platform, log_dir=ctx.folder / "logs", env=reporting)
            )
            base_urls = dict(local.base_urls)
            not_run = list(local.unavailable)  # said "not run here": no incidents for them
            for name, service in sorted(local.services.items()):
                state = "[green]up[/]" if service.running else "[red]not running[/]"
                say(f"  {name:<16} {service.url}  {state}")
            for name in sorted(local.unavailable):
                say(f"  {name:<16} [dim]not run here[/]")
        settings = ServeSettings(
            database_url=desk.url,
            monitor=True,
            platform_root=ctx.platform if ctx.platform.is_dir() else None,
            base_urls=base_urls,
            monitor_skip=not_run,
        )
        config = uvicorn.Config(
            create_app(settings, desk=desk),
            host="127.0.0.1",
            port=chosen,
            log_level="warning",
            timeout_graceful_shutdown=2,
            server_header=False,
            loop="asyncio",  # the monitor's probes need asyncio's own transports
        )
        out.print()
        say(f"[bold green]Dashboard:[/] http://127.0.0.1:{chosen}/")
        say(f"[bold green]Admin token (shown once):[/] {secret}")
        say("Log in with the token. Kill a service's process to watch it turn red. Ctrl-C stops.")
        if local is not None and reporting is not None:
            _explain_runtime_errors(local)
            cleanup.enter_context(_restart_failed_once_serving(local, chosen))
        server_for(config).run(sockets=[listener])


def _error_reporting(desk: Desk, port: int) -> Callable[[str], dict[str, str]] | None:
    """What each service of the example needs to report its exceptions to this desk with the
    Sentry SDK (its DSN, made on the desk), or None when the SDK is not installed here."""
    import importlib.util

    from passmuster.usecases.ingest_keys import IngestKeys

    if importlib.util.find_spec("sentry_sdk") is None:
        say("[yellow]sentry-sdk is not installed: the services will not report their errors[/]")
        return None
    keys = IngestKeys(desk)

    def reporting(name: str) -> dict[str, str]:
        dsn = keys.dsn_for(name, actor="demo", base_url=f"http://127.0.0.1:{port}")
        return {
            "SENTRY_DSN": str(dsn),
            "SENTRY_RELEASE": f"{name}@1.0.0",
            "SENTRY_ENVIRONMENT": "demo",
        }

    return reporting


def _explain_runtime_errors(local: LocalPlatform) -> None:
    say(
        "Runtime errors: every service reports its exceptions to this desk with the Sentry SDK "
        "(its SENTRY_DSN comes from `passmuster service dsn`)."
    )
    if "billing" in local.failed:
        say(
            "  billing crashes at start: its ImportError becomes an issue, linked to the "
            "scanner's CODE001 finding about the same line."
        )
    gateway = local.services.get("gateway")
    if gateway is not None and gateway.running:
        say(
            f"  Open {gateway.url}/api/billing/api/v1/subscriptions/42 to make the gateway fail "
            "to reach billing: the error appears on the board within a second."
        )


@contextmanager
def _restart_failed_once_serving(local: LocalPlatform, port: int) -> Iterator[None]:
    """Start the services that failed at start again once the desk answers, so the crash
    reports they send while dying reach it (at their first start nothing was serving yet).

    The thread stays until the demo stops: a service dies with the thread that started it."""
    import threading

    import httpx

    stopped = threading.Event()

    def again() -> None:
        deadline = time.monotonic() + 30
        while not stopped.is_set() and time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                stopped.wait(0.2)
        for name in list(local.failed):
            if not stopped.is_set():
                local.start(name, wait=5)
        stopped.wait()

    thread = threading.Thread(target=again, name="restart-failed", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=10)


def _listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:`port`, or on a free port when that one is taken."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
    except OSError:
        listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    return listener


def _bundled_platform() -> Path | None:
    """examples/platform of the source tree passmuster runs from (an editable install)."""
    candidate = Path(__file__).resolve().parents[3] / "examples" / "platform"
    return candidate if candidate.is_dir() else None


@app.command("demo")
def demo_command(
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Scratch folder for the demo desk (default: a new temp folder)."
        ),
    ] = None,
    platform: Annotated[
        Path | None,
        typer.Option(
            "--platform",
            help="Platform to scan, import and run (default: the bundled examples/platform).",
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Dashboard port.")] = 8000,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="End by serving the dashboard with the monitor (until Ctrl-C).",
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Run the whole desk on the bundled example platform.

    In a scratch folder: creates a desk, files sample issues taken from real coordination logs and
    works them through the CLI, copies the example platform, imports its Markdown log, scans it
    (findings become issues), prints the listing, SLA report and statistics, then starts the
    platform's services on 127.0.0.1 and serves the dashboard with the monitor running, printing
    its URL and a one-time admin token. With --json nothing is served and a summary of the
    resulting desk is printed instead of the walkthrough.
    """
    from passmuster.errors import Conflict

    # Before anything is created: otherwise the whole walkthrough runs and only then says so.
    if platform is not None and not platform.is_dir():
        raise BadInput(f"--platform {platform}: no such folder", field="platform")
    if folder is not None and folder.exists() and not folder.is_dir():
        raise BadInput(f"--dir {folder}: not a folder", field="dir")
    target = folder.resolve() if folder else Path(tempfile.mkdtemp(prefix="passmuster-demo-"))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"--dir {folder}: cannot create it: {exc.strerror}", field="dir") from None
    source = platform.resolve() if platform else _bundled_platform()
    ctx = DemoContext(target, platform_source=source)
    if ctx.desk_path.exists():
        raise Conflict(f"{ctx.desk_path} already exists; give --dir an empty folder")
    with stop_on_sigterm():
        _demo(ctx, target, port=port, serve=serve, as_json=as_json)


def _demo(ctx: DemoContext, target: Path, *, port: int, serve: bool, as_json: bool) -> None:
    if as_json:
        with redirect_stdout(io.StringIO()):
            _run_steps(ctx)
        emit_json(_summary(ctx))
    else:
        _run_steps(ctx)
        console().rule("[bold]Done[/]", align="left")
        say(f"The demo desk stays in [bold]{target}[/]; explore it with:")
        say(f"  cd {shlex.quote(str(target))} && passmuster list --all")
        for failure in ctx.failures:
            say(f"[red]{failure}[/]")
    if ctx.failures:
        raise typer.Exit(1)
    if serve and not as_json:
        serve_dashboard(ctx, port=port)


def _run_steps(ctx: DemoContext) -> None:
    out = console()
    for number, step in enumerate(STEPS, start=1):
        out.rule(f"[bold]{number}. {step.title}[/]", align="left")
        step.run(ctx)
        out.print()


def _summary(ctx: DemoContext) -> dict[str, Any]:
    from passmuster.core.issues import IssueQuery

    with ctx.open_desk() as desk:
        issues = desk.issues(IssueQuery())
        stats = desk.stats()
    return {
        "folder": str(ctx.folder),
        "desk": str(ctx.desk_path),
        "steps": [step.title for step in STEPS],
        "failures": ctx.failures,
        "issues": [issue_json(i) for i in issues],
        "stats": stats.to_dict(),
    }


# --- sample data ----------------------------------------------------------------------------


def sample_services() -> list[Service]:
    """The platform the sample issues happen on."""
    from passmuster.core.catalog import Service

    return [
        Service("identity-service", "Sign-in, tokens and users.", owner="identity-agent"),
        Service(
            "user-service",
            "Customer accounts and sessions.",
            owner="user-agent",
            depends_on=["tenant-service", "billing-service"],
        ),
        Service("tenant-service", "Odoo instance lifecycle per tenant.", owner="tenant-agent"),
        Service("instance-service", "Provisions Odoo instances.", owner="instance-agent"),
        Service("billing-service", "Subscriptions and payments.", owner="billing-agent"),
        Service("api-gateway", "Routes public traffic to the services.", kind="gateway"),
        Service("policy-service", "Policy documents.", owner="policy-agent"),
    ]


def sample_history() -> list[IssueDraft]:
    """Resolved issues from the real logs, with their original dates."""
    from passmuster.core.issues import (
        FileChange,
        IssueDraft,
        IssueType,
        Severity,
        Status,
    )

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    return [
        IssueDraft(
            title="Authentication logout does not invalidate the session",
            type=IssueType.SECURITY,
            severity=Severity.CRITICAL,
            status=Status.RESOLVED,
            services=["user-service"],
            component="auth",
            reporter="System Testing",
            reported_at=at("2025-06-02T09:00"),
            acknowledged_at=at("2025-06-02T09:20"),
            resolved_at=at("2025-06-02T12:30"),
            description="After logout, session tokens stayed valid and could be reused.",
            root_cause="`logout_customer()` logged the logout but left the row in `user_sessions`.",
            resolution="Delete the session on logout: `invalidate_customer_session()` in "
            "`CustomerDatabase`, called from the logout route.",
            test_results="Reuse token after logout: 401 Unauthorized (expected)",
            files_changed=[
                FileChange("services/user-service/app/utils/database.py", "invalidation"),
                FileChange("services/user-service/app/routes/auth.py", "logout route"),
            ],
            labels=["security", "auth"],
        ),
        IssueDraft(
            title="/auth/me crashes: customer id is a UUID, the schema wants a string",
            type=IssueType.BUG,
            severity=Severity.HIGH,
            status=Status.RESOLVED,
            services=["user-service"],
            reporter="User Testing",
            reported_at=at("2025-06-02T13:00"),
            resolved_at=at("2025-06-02T16:45"),
            error_details=[
                "UserProfileSchema\nid\n  Input should be a valid string [type=string_type, "
                "input_value=UUID('5ad2f360-32b2-428b-b90b-6ddbcad8bf9d'), input_type=UUID]"
            ],
            root_cause="The profile passed `customer['id']` (a UUID) where the schema wants str.",
            resolution="Convert with `str(customer['id'])` in `get_customer_profile()` and "
            "`update_customer_profile()`.",
            workaround="Instance count and subscription return safe defaults until tenant- and "
            "billing-service exist.",
        ),
        IssueDraft(
            title="Shared requirements duplicated instead of `-r ../requirements.shared.txt`",
            type=IssueType.COORDINATION,
            severity=Severity.HIGH,
            status=Status.RESOLVED,
            services=["identity-service"],
            reporter="Services Coordinator",
            reported_at=at("2025-09-09T08:00"),
            resolved_at=at("2025-09-09T10:00"),
            description="The identity service copied the shared requirements.",
            impact="Breaks centralised dependency management; versions drift.",
            resolution="Use `-r ../requirements.shared.txt` and list only service-specific "
            "dependencies below it.",
        ),
        IssueDraft(
            title="Database driver conflicts in shared requirements",
            type=IssueType.BUG,
            severity=Severity.CRITICAL,
            status=Status.RESOLVED,
            services=["identity-service"],
            reporter="Identity Service Agent",
            reported_at=at("2025-09-09T11:00"),
            resolved_at=at("2025-09-09T13:10"),
            description="Shared requirements pinned both asyncpg and psycopg2-binary.",
            impact="Blocks all service upgrades; identity-service cannot install dependencies.",
            error_details=[
                'psycopg2-binary fails with "pg_config executable not found"\n'
                "grpcio compilation failures on some systems"
            ],
            resolution="Database drivers are service-specific: asyncpg for identity, "
            "psycopg2-binary for the others; removed from requirements.shared.txt.",
            files_changed=[
                FileChange("requirements.shared.txt", "removed conflicting drivers"),
                FileChange("identity-service/requirements.txt", "asyncpg==0.29.0"),
            ],
        ),
        IssueDraft(
            title="Services fail to start: HTTPStatus imported from fastapi",
            type=IssueType.DEPLOYMENT,
            severity=Severity.HIGH,
            status=Status.RESOLVED,
            services=["api-gateway", "policy-service"],
            reporter="Deployment",
            reported_at=at("2025-10-14T07:30"),
            resolved_at=at("2025-10-14T11:00"),
            description="15+ services failed to start with an import error.",
            error_details=["ImportError: cannot import name 'HTTPStatus' from 'fastapi'"],
            root_cause="FastAPI does not export HTTPStatus; it lives in the `http` module.",
            resolution="`from http import HTTPStatus` instead of importing it from fastapi.",
            prevention="fix-all-services.sh rewrites the import; a platform check flags it.",
        ),
    ]


def sample_current(now: datetime) -> list[IssueDraft]:
    """Active issues, reported hours ago, so SLA clocks are running."""
    from passmuster.core.issues import IssueDraft, IssueType, Priority, Severity, Task

    return [
        IssueDraft(
            title="Missing tenant service: customer statistics endpoint",
            type=IssueType.COORDINATION,
            severity=Severity.HIGH,
            priority=Priority.SHORT_TERM,
            services=["tenant-service", "user-service"],
            reporter="user-agent",
            reported_at=now - timedelta(hours=3),
            description="user-service returns default instance counts until tenant-service "
            "offers `/api/v1/tenants/customer/{customer_id}/stats`.",
            tasks=[
                Task("Create the stats endpoint in tenant-service"),
                Task("Call it from user-service instead of returning defaults"),
                Task("Test the customer profile end to end with real tenant data"),
            ],
        ),
        IssueDraft(
            title="Remove the instance-count workaround in user-service",
            type=IssueType.TECH_DEBT,
            severity=Severity.MEDIUM,
            priority=Priority.SHORT_TERM,
            services=["user-service"],
            reporter="user-agent",
            reported_at=now - timedelta(hours=2),
            description="`_get_customer_instance_count()` returns 0 until tenant-service answers.",
        ),
        IssueDraft(
            title="Service coordination overhead of 10-20 ms per operation",
            type=IssueType.PERFORMANCE,
            severity=Severity.MEDIUM,
            priority=Priority.MEDIUM_TERM,
            services=["api-gateway"],
            reporter="coordinator",
            reported_at=now - timedelta(days=2),
            description="Coordinated operations across services add latency.",
            impact="Every cross-service call pays the overhead.",
        ),
        IssueDraft(
            title="Instance creation returns 500: asyncpg wants JSON text for JSONB",
            type=IssueType.BUG,
            severity=Severity.CRITICAL,
            priority=Priority.IMMEDIATE,
            services=["instance-service"],
            reporter="instance-agent",
            reported_at=now - timedelta(hours=5),
            error_details=[
                "invalid input for query argument $12: ['sale'] (expected str, got list)"
            ],
        ),
        IssueDraft(
            title="Port standardisation: every service listens on 5000 inside its container",
            type=IssueType.TECH_DEBT,
            severity=Severity.LOW,
            priority=Priority.LONG_TERM,
            services=["user-service", "tenant-service"],
            reporter="Development Team",
            reported_at=now - timedelta(days=9),
            tasks=[
                Task("Listen on port 5000 in every service"),
                Task("EXPOSE 5000 in the Dockerfiles"),
                Task("Map external:5000 in docker-compose"),
            ],
        ),
    ]
