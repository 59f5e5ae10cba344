"""The MCP tools against a real desk, through the SDK's client connected in-process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from mcp import Client

from mcp_server.helpers import call, refused
from passmuster.core.issues import IssueDraft, IssueType
from passmuster.mcp.server import Session, build_server
from passmuster.mcp.tools import Caller
from passmuster.usecases.desk import Desk
from passmuster.usecases.health import StoreHealth
from passmuster.usecases.tokens import Role

TOOLS = {
    "ready",
    "claim",
    "renew",
    "release",
    "show",
    "file",
    "update",
    "transition",
    "comment",
    "link",
    "search",
    "list",
    "services",
    "findings",
    "incidents",
}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """On SQLite only: these tests are about the tools, which the desk tests cover on both."""
    return sqlite_url


def run_as(desk: Desk, caller: Caller, script: Callable[[Client], Awaitable[Any]]) -> Any:
    server = build_server(lambda _ctx: Session(desk, caller, StoreHealth(desk.engine)))

    async def main() -> Any:
        async with Client(server) as client:
            return await script(client)

    return asyncio.run(main())


def test_the_whole_tool_list_fits_in_8000_characters_and_is_closed(desk: Desk) -> None:
    async def script(client: Client) -> Any:
        return await client.list_tools()

    listed = run_as(desk, Caller("agent-1"), script)
    text = json.dumps(listed.model_dump(mode="json", by_alias=True, exclude_none=True))
    assert len(text) <= 8000, f"tools/list is {len(text)} characters"
    assert {t.name for t in listed.tools} == TOOLS
    for tool in listed.tools:
        assert tool.input_schema["additionalProperties"] is False, tool.name
        assert tool.description, tool.name


def test_an_unknown_argument_is_an_error_naming_it_and_nothing_happens(desk: Desk) -> None:
    desk.file(IssueDraft(title="Orders time out"), actor="someone")

    async def script(client: Client) -> Any:
        unknown = await refused(client, "claim", numbr=1)
        wrong_type = await refused(client, "show", number="seven")
        bad_move = await refused(client, "transition", number=1, to="finish")
        return unknown, wrong_type, bad_move

    unknown, wrong_type, bad_move = run_as(desk, Caller("agent-1"), script)
    assert "unknown argument 'numbr'" in unknown and "number, lease" in unknown
    assert "invalid number" in wrong_type
    assert "invalid to" in bad_move
    assert desk.get(1).assignee is None


def test_claims_carry_the_desks_messages(desk: Desk) -> None:
    desk.file(IssueDraft(title="Orders time out", services=["orders"]), actor="someone")

    async def first(client: Client) -> Any:
        return await call(client, "claim", number=1, lease="10m")

    async def second(client: Client) -> Any:
        taken = await refused(client, "claim", number=1)
        nothing = await refused(client, "claim")
        not_mine = await refused(client, "release", number=1)
        return taken, nothing, not_mine

    claimed = run_as(desk, Caller("agent-1"), first)
    assert claimed["assignee"] == "agent-1" and claimed["lease"]["holder"] == "agent-1"
    taken, nothing, not_mine = run_as(desk, Caller("agent-2"), second)
    assert taken.startswith("error: #001 is claimed by agent-1 until ")
    assert nothing == "error: nothing is ready to claim"
    assert not_mine == "error: #001 is claimed by agent-1, not by agent-2"

    async def give_back(client: Client) -> Any:
        renewed = await call(client, "renew", number=1, lease="20m")
        released = await call(client, "release", number=1)
        return renewed, released

    renewed, released = run_as(desk, Caller("agent-1"), give_back)
    assert renewed["claim"]["holder"] == "agent-1"
    assert released["status"] == "open" and "claim" not in released
    assert desk.held() == []


def test_update_is_compare_and_set_on_the_version(desk: Desk) -> None:
    desk.file(IssueDraft(title="Orders time out"), actor="someone")

    async def script(client: Client) -> Any:
        updated = await call(client, "update", number=1, version=1, severity="high")
        stale = await refused(client, "update", number=1, version=1, title="Other")
        bad = await refused(client, "update", number=1, version=2, severity="urgent")
        return updated, stale, bad

    updated, stale, bad = run_as(desk, Caller("agent-1"), script)
    assert updated["severity"] == "high" and updated["version"] == 2
    assert "changed meanwhile" in stale or "version" in stale
    assert "invalid severity 'urgent'" in bad
    assert desk.get(1).title == "Orders time out"


def test_transitions_ack_block_resolve_close_and_reopen(desk: Desk) -> None:
    for title in ("Orders time out", "Payments slow"):
        desk.file(IssueDraft(title=title), actor="someone")

    async def script(client: Client) -> Any:
        acked = await call(client, "transition", number=1, to="ack")
        blocked = await call(client, "transition", number=1, to="block", note="waits on DBA")
        resolved = await call(
            client,
            "transition",
            number=1,
            to="resolve",
            resolution="raised the pool",
            root_cause="pool of 5",
            prevention="alert on waits",
        )
        bare = await call(client, "transition", number=2, to="resolve")
        wrong_reason = await refused(client, "transition", number=2, to="reopen", reason="invalid")
        closed = await call(client, "transition", number=2, to="close", reason="wont_fix")
        reopened = await call(client, "transition", number=2, to="reopen", note="it came back")
        illegal = await refused(client, "transition", number=1, to="block")
        return acked, blocked, resolved, bare, wrong_reason, closed, reopened, illegal

    acked, blocked, resolved, bare, wrong_reason, closed, reopened, illegal = run_as(
        desk, Caller("agent-1"), script
    )
    assert acked["status"] == "open" and desk.get(1).acknowledged_at is not None
    assert blocked["status"] == "blocked"
    assert resolved["status"] == "resolved"
    issue = desk.get(1)
    assert (issue.resolution, issue.root_cause, issue.prevention) == (
        "raised the pool",
        "pool of 5",
        "alert on waits",
    )
    assert [c.body for c in desk.comments(1)] == ["waits on DBA"]
    assert "will not be offered as a known fix" in bare["warning"]
    assert "only with to=close" in wrong_reason
    assert closed["status"] == "closed" and reopened["status"] == "open"
    assert illegal.startswith("error: ") and "resolved" in illegal


def test_file_returns_known_fixes_and_show_comment_link_search_list(desk: Desk) -> None:
    desk.file(
        IssueDraft(
            title="Redis connection refused in orders worker",
            services=["orders"],
            resolution="Point REDIS_URL at the redis service, not localhost",
            root_cause="localhost inside the container",
            status="resolved",
        ),
        actor="someone",
    )

    async def script(client: Client) -> Any:
        filed = await call(
            client,
            "file",
            title="Redis connection refused in orders API",
            services=["orders"],
            severity="high",
            error_details=["redis.exceptions.ConnectionError: Connection refused"],
        )
        commented = await call(client, "comment", number=2, body="same as the worker?")
        linked = await call(client, "link", number=2, kind="relates_to", target=1)
        shown = await call(client, "show", number=2)
        found = await call(client, "search", text="redis refused")
        listed = await call(client, "list", service="orders")
        listed_all = await call(client, "list", service="orders", include_done=True)
        bad_kind = await refused(client, "link", number=2, kind="fixes", target=1)
        return filed, commented, linked, shown, found, listed, listed_all, bad_kind

    filed, commented, linked, shown, found, listed, listed_all, bad_kind = run_as(
        desk, Caller("agent-1"), script
    )
    assert filed["issue"]["ref"] == "#002" and filed["issue"]["severity"] == "high"
    assert [f["ref"] for f in filed["known_fixes"]] == ["#001"]
    assert "REDIS_URL" in filed["known_fixes"][0]["resolution"]
    assert desk.get(2).reporter == "agent-1"
    assert commented["author"] == "agent-1"
    assert linked["links"] == [{"kind": "relates_to", "target": 1}]
    assert shown["issue"]["title"] == "Redis connection refused in orders API"
    assert shown["comments"][0]["body"] == "same as the worker?"
    assert {i["ref"] for i in found} == {"#001", "#002"}
    assert [i["ref"] for i in listed] == ["#002"]
    assert {i["ref"] for i in listed_all} == {"#001", "#002"}
    assert "invalid link kind 'fixes'" in bad_kind


def test_file_warns_of_a_service_spelt_almost_like_a_known_one(desk: Desk) -> None:
    desk.file(IssueDraft(title="Billing totals off by a cent", services=["billing"]), actor="x")

    async def script(client: Client) -> Any:
        misspelt = await call(client, "file", title="Invoices missing", services=["bilingg"])
        new_one = await call(client, "file", title="Queue stalls", services=["notifications"])
        known = await call(client, "file", title="Refunds fail", services=["billing"])
        return misspelt, new_one, known

    misspelt, new_one, known = run_as(desk, Caller("agent-1"), script)
    assert misspelt["warnings"] == [
        "bilingg was not a service of this desk (did you mean billing?); it is one now, "
        "and the issue names it"
    ]
    # A name like no known service is a new service; a known one needs no word.
    assert "warnings" not in new_one and "warnings" not in known
    assert desk.get(misspelt["issue"]["number"]).services == ["bilingg"]


def test_services_findings_incidents_resources_and_the_prompt(desk: Desk) -> None:
    from passmuster.core.catalog import Service

    desk.ensure_service(Service(name="orders", depends_on=["redis"]))
    desk.file(
        IssueDraft(
            title="orders lacks REDIS_URL",
            type=IssueType.FINDING,
            services=["orders"],
            labels=["rule:ENV003"],
        ),
        actor="scanner",
    )
    desk.file(
        IssueDraft(title="orders down", type=IssueType.INCIDENT, services=["orders"]), actor="m"
    )

    async def script(client: Client) -> Any:
        services = await call(client, "services")
        findings = await call(client, "findings", service="orders")
        unknown = await refused(client, "findings", service="nope")
        incidents = await call(client, "incidents")
        issue = await client.read_resource("issue://2")
        service = await client.read_resource("service://orders")
        prompt = await client.get_prompt("coordinate")
        return services, findings, unknown, incidents, issue, service, prompt

    services, findings, unknown, incidents, issue, service, prompt = run_as(
        desk, Caller("agent-1"), script
    )
    assert services == [
        {
            "name": "orders",
            "kind": "service",
            "depends_on": ["redis"],
            "health": "unknown",
            "open_issues": 2,
        }
    ]
    assert [(f["ref"], f["rules"]) for f in findings] == [("#001", ["ENV003"])]
    assert "no service" in unknown or "nope" in unknown
    assert [i["ref"] for i in incidents] == ["#002"]
    assert json.loads(issue.contents[0].text)["issue"]["title"] == "orders down"
    shown = json.loads(service.contents[0].text)
    assert shown["name"] == "orders" and len(shown["open_issues"]) == 2
    assert "claim" in prompt.messages[0].content.text


def test_a_reader_token_reads_but_its_writes_are_refused_by_name(desk: Desk) -> None:
    desk.file(IssueDraft(title="Orders time out"), actor="someone")

    async def script(client: Client) -> Any:
        ready = await call(client, "ready")
        claim = await refused(client, "claim")
        comment = await refused(client, "comment", number=1, body="hi")
        return ready, claim, comment

    ready, claim, comment = run_as(desk, Caller("watcher", Role.READER), script)
    assert [i["ref"] for i in ready] == ["#001"]
    assert claim == "error: token 'watcher' has role reader; claim needs coordinator"
    assert comment == "error: token 'watcher' has role reader; comment needs reporter"
    assert desk.get(1).assignee is None and desk.comments(1) == []
