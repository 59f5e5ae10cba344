"""The bundled example platform deployed for real: its FastAPI services as local uvicorn
processes (the local runner), health-gated, in dependency order. Broken on purpose (an import
error, a taken port, a missing variable), fixed again, and the issues follow.

The platform is a git repository (made with dulwich), so attempts record versions and the
issue that resolves names the commit that fixed it.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.helpers import free_port
from passmuster.core.issues import IssueQuery, LinkKind, Status
from passmuster.usecases.desk import Desk
from tests.cli.helpers import run_cli as run

EXAMPLE = Path(__file__).parents[2] / "examples" / "platform"
WEB = ("gateway", "identity", "tenants", "instances", "billing", "notifications")
BAD_IMPORT = "from fastapi import FastAPI, HTTPException, HTTPStatus"
GOOD_IMPORT = "from http import HTTPStatus\n\nfrom fastapi import FastAPI, HTTPException"


def commit(root: Path, message: str) -> str:
    from dulwich import porcelain

    porcelain.add(str(root))
    return porcelain.commit(
        str(root),
        message=message.encode(),
        author=b"dev <dev@example.com>",
        committer=b"dev <dev@example.com>",
    ).decode()


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "platform"
    shutil.copytree(EXAMPLE, root)
    (root / ".gitignore").write_text(".passmuster/\n")
    ports = {name: free_port() for name in WEB}
    config = root / "passmuster.toml"
    config.write_text(
        config.read_text()
        + '\n[deploy]\nrunner = "local"\ntimeout = 30\nparallel = 6\n'
        + "".join(f"\n[deploy.services.{n}]\nport = {p}\n" for n, p in ports.items())
    )
    notifications = root / "services/notifications/app/main.py"
    notifications.write_text(
        notifications.read_text().replace(
            "@app.post(",
            '@app.get("/healthz")\nasync def healthz() -> dict[str, str]:\n'
            '    return {"status": "ok"}\n\n\n@app.post(',
            1,
        )
    )
    billing = root / "services/billing/app/main.py"
    billing.write_text(billing.read_text().replace(BAD_IMPORT, GOOD_IMPORT))
    from dulwich import porcelain

    porcelain.init(str(root))
    commit(root, "The platform, deployable")
    monkeypatch.chdir(root)
    monkeypatch.delenv("PASSMUSTER_DATABASE_URL", raising=False)
    monkeypatch.setenv("PASSMUSTER_ACTOR", "release-bot")
    run("init")
    yield root
    run("deploy", "stop")


def _attempts() -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for attempt in json.loads(run("deploy", "history", "--json", "--limit", "100").stdout):
        found.setdefault(str(attempt["service"]), attempt)  # newest first
    return found


def test_the_example_platform_deploys_breaks_and_recovers(example: Path) -> None:
    first = run("deploy")
    assert "wave 3/3: gateway" in first.stdout
    latest = _attempts()
    assert {s: latest[s]["result"] for s in WEB} == dict.fromkeys(WEB, "succeeded")
    assert latest["gateway"]["wave"] == 2
    assert latest["billing"]["service_commit"] == latest["billing"]["commit"]
    assert "instances-worker" in first.stdout  # left out, with the reason

    # An import error the scanner predicts: billing fails, the gateway that needs it is skipped.
    billing = example / "services/billing/app/main.py"
    billing.write_text(billing.read_text().replace(GOOD_IMPORT, BAD_IMPORT))
    commit(example, "billing: tidy imports")
    run("scan", ".", code=1)
    broken = run("deploy", "billing", "gateway", code=1)
    assert "import-error" in broken.stdout
    latest = _attempts()
    assert latest["billing"]["failure"] == "import-error"
    assert latest["gateway"]["result"] == "skipped"
    with Desk.open(example) as desk:
        issue = desk.issues(IssueQuery(source="deploy", active_only=True))[0]
        finding = next(
            i for i in desk.issues(IssueQuery(source="scan")) if i.title.startswith("CODE001")
        )
        assert issue.services == ["billing"]
        assert (LinkKind.CAUSED_BY, finding.number) in {(k.kind, k.target) for k in issue.links}

    # A port someone else holds.
    with socket.socket() as squatter:
        plan = json.loads(run("deploy", "-n", "identity", "--json").stdout)
        port = int(plan["waves"][0][0]["command"][-1])
        run("deploy", "stop", "identity")
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        run("deploy", "identity", code=1)
    assert _attempts()["identity"]["failure"] == "port-in-use"
    run("deploy", "identity")  # the port is free again

    # A variable the code needs and nobody sets.
    tenants = example / "services/tenants/app/main.py"
    tenants.write_text(
        tenants.read_text().replace(
            "app = FastAPI(", 'SIGNING_KEY = os.environ["TENANTS_SIGNING_KEY"]\napp = FastAPI(', 1
        )
    )
    run("deploy", "tenants", code=1)
    assert _attempts()["tenants"]["failure"] == "missing-env"

    # Fixed and deployed again: each class's issue resolves, naming the commit.
    billing.write_text(billing.read_text().replace(BAD_IMPORT, GOOD_IMPORT))
    tenants.write_text(
        tenants.read_text().replace('SIGNING_KEY = os.environ["TENANTS_SIGNING_KEY"]\n', "")
    )
    fixed = commit(example, "billing: HTTPStatus comes from http")
    run("deploy")
    with Desk.open(example) as desk:
        issues = desk.issues(IssueQuery(source="deploy"))
        assert {i.status for i in issues} == {Status.RESOLVED}
        resolved = next(i for i in issues if i.fingerprint == "deploy:import-error")
        assert fixed[:12] in resolved.resolution
        assert all(t.done for t in resolved.tasks)
