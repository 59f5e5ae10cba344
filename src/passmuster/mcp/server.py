"""One MCP server for a desk: the tools, the `issue://` and `service://` resources, the
`coordinate` prompt.

Built on the official SDK's `MCPServer`. Two things are added to it:

- **Strict inputs.** An argument a tool does not take is refused with a message naming it and
  the ones it does take (the SDK would drop it silently), and every schema says
  `additionalProperties: false`.
- **Small schemas.** The whole `tools/list` answer is what an agent carries in its context on
  every turn: titles pydantic adds to every property are dropped and an optional value is
  described by its type alone, which keeps the answer under 8,000 characters (a test measures).

Where the desk and the caller come from is the transport's business: `build_server` takes a
function from the request's context to a `Session` (stdio: one desk and one agent for the
process; HTTP: the server's desk and the token of the request).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, Tool
from pydantic import Field, ValidationError

from passmuster import __version__
from passmuster.core.visible import escape_controls
from passmuster.errors import PassmusterError
from passmuster.mcp import tools
from passmuster.mcp.tools import Caller, Move
from passmuster.mcp.workflow import COORDINATE, INSTRUCTIONS

if TYPE_CHECKING:
    from passmuster.usecases.desk import Desk
    from passmuster.usecases.health import HealthView


@dataclass(frozen=True, slots=True)
class Session:
    """What one tool call works with."""

    desk: Desk
    caller: Caller
    health: HealthView


Resolve = Callable[[Context[Any, Any]], Session]

Number = Annotated[int, Field(ge=1, description="Issue number (7 for #007)")]
Lease = Annotated[str | None, Field(description="Claim length: 90s, 30m, 2h; default 30m")]
Limit = Annotated[int, Field(ge=1, le=200)]
Text = Annotated[str | None, Field(max_length=100_000)]
Names = list[str] | None
Reason = Annotated[str | None, Field(description="close: wont_fix|duplicate|invalid")]


class DeskServer(MCPServer[Any]):
    """MCPServer with strict tool inputs and compact tool schemas."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arguments: dict[str, tuple[str, ...]] = {}

    def register(self, fn: Callable[..., Any], description: str) -> None:
        name = fn.__name__.removeprefix("tool_")
        taken = [p for p in inspect.signature(fn).parameters if p != "ctx"]
        self.arguments[name] = tuple(taken)
        self.add_tool(fn, name=name, description=description, structured_output=False)

    async def list_tools(self) -> list[Tool]:
        listed = await super().list_tools()
        return [
            tool.model_copy(update={"input_schema": _slim(tool.input_schema)}) for tool in listed
        ]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> Any:
        taken = self.arguments.get(name)
        if taken is not None:
            unknown = sorted(set(arguments) - set(taken))
            if unknown:
                accepted = ", ".join(taken) or "no arguments"
                raise ToolError(
                    f"{name}: unknown argument {', '.join(map(repr, unknown))}; it takes {accepted}"
                )
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(_invalid(name, exc.__cause__)) from None
            raise


def _invalid(tool: str, error: ValidationError) -> str:
    """The first problem with the arguments, one line, naming the argument."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "arguments"
    return f"{tool}: invalid {where}: {first['msg']}"


def _slim(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` without titles, with `X | None = None` written as X, closed to other keys."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items() if k != "title"}
        options = out.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            if len(rest) == 1 and out.get("default", ...) is None:
                out.pop("anyOf")
                out.pop("default")
                out = {**rest[0], **out}
        return out

    slim: dict[str, Any] = walk(schema)
    if slim.get("type") == "object":
        slim["additionalProperties"] = False
    return slim


def _answer(work: Callable[[], Any]) -> Any:
    """Run one tool's work: its answer as compact JSON, or the desk's own message as the error
    (the line the CLI prints after `error:`)."""
    try:
        result = work()
    except PassmusterError as exc:
        text = f"error: {escape_controls(exc.message)}"
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=str)


def build_server(resolve: Resolve) -> DeskServer:
    """The desk's MCP server; `resolve` gives each call its desk, caller and health view."""
    server = DeskServer(
        name="passmuster",
        version=__version__,
        instructions=INSTRUCTIONS,
        # The desk's messages go back to the agent; the server's own log stays quiet.
        log_level="WARNING",
    )

    def session(ctx: Context[Any, Any], tool: str) -> Session:
        found = resolve(ctx)
        tools.check_role(found.caller, tool)
        return found

    def tool_ready(ctx: Context[Any, Any], limit: Limit = 20) -> Any:
        s = session(ctx, "ready")
        return _answer(lambda: tools.ready(s.desk, limit))

    def tool_claim(
        ctx: Context[Any, Any],
        number: Annotated[int | None, Field(ge=1)] = None,
        lease: Lease = None,
    ) -> Any:
        def work() -> Any:
            s = session(ctx, "claim")
            return tools.claim(s.desk, s.caller, number, lease)

        return _answer(work)

    def tool_renew(ctx: Context[Any, Any], number: Number, lease: Lease = None) -> Any:
        def work() -> Any:
            s = session(ctx, "renew")
            return tools.renew(s.desk, s.caller, number, lease)

        return _answer(work)

    def tool_release(ctx: Context[Any, Any], number: Number) -> Any:
        def work() -> Any:
            s = session(ctx, "release")
            return tools.release(s.desk, s.caller, number)

        return _answer(work)

    def tool_show(ctx: Context[Any, Any], number: Number) -> Any:
        return _answer(lambda: tools.show(session(ctx, "show").desk, number))

    def tool_file(
        ctx: Context[Any, Any],
        title: Annotated[str, Field(min_length=1)],
        type: str | None = None,
        severity: str | None = None,
        priority: str | None = None,
        services: Names = None,
        component: str | None = None,
        description: Text = None,
        impact: Text = None,
        error_details: Names = None,
        attempted_solutions: Text = None,
        labels: Names = None,
    ) -> Any:
        given = locals()

        def work() -> Any:
            s = session(ctx, "file")
            fields = {name: given[name] for name in tools.DRAFT_FIELDS}
            return tools.file(s.desk, s.caller, title, fields)

        return _answer(work)

    def tool_update(
        ctx: Context[Any, Any],
        number: Number,
        version: Annotated[int, Field(ge=1, description="The version you read (compare-and-set)")],
        title: str | None = None,
        severity: str | None = None,
        priority: str | None = None,
        type: str | None = None,
        services: Names = None,
        labels: Names = None,
        assignee: str | None = None,
        description: Text = None,
        impact: Text = None,
        root_cause: Text = None,
        workaround: Text = None,
    ) -> Any:
        given = locals()

        def work() -> Any:
            s = session(ctx, "update")
            changes = {name: given[name] for name in tools.UPDATE_FIELDS}
            return tools.update(s.desk, s.caller, number, version, changes)

        return _answer(work)

    def tool_transition(
        ctx: Context[Any, Any],
        number: Number,
        to: Move,
        version: int | None = None,
        note: Text = None,
        reason: Reason = None,
        resolution: Text = None,
        root_cause: Text = None,
        prevention: Text = None,
    ) -> Any:
        def work() -> Any:
            s = session(ctx, "transition")
            fields = {"resolution": resolution, "root_cause": root_cause, "prevention": prevention}
            return tools.transition(s.desk, s.caller, number, to, version, note, reason, fields)

        return _answer(work)

    def tool_comment(
        ctx: Context[Any, Any], number: Number, body: Annotated[str, Field(min_length=1)]
    ) -> Any:
        def work() -> Any:
            s = session(ctx, "comment")
            return tools.comment(s.desk, s.caller, number, body)

        return _answer(work)

    def tool_link(
        ctx: Context[Any, Any],
        number: Number,
        kind: Annotated[
            str, Field(description="duplicate_of|blocks|relates_to|regression_of|caused_by")
        ],
        target: Number,
    ) -> Any:
        def work() -> Any:
            s = session(ctx, "link")
            return tools.link(s.desk, s.caller, number, kind, target)

        return _answer(work)

    def tool_search(
        ctx: Context[Any, Any], text: Annotated[str, Field(min_length=1)], limit: Limit = 20
    ) -> Any:
        return _answer(lambda: tools.search(session(ctx, "search").desk, text, limit))

    def tool_list(
        ctx: Context[Any, Any],
        status: Names = None,
        service: str | None = None,
        assignee: str | None = None,
        include_done: bool = False,
        limit: Limit = 50,
    ) -> Any:
        def work() -> Any:
            desk = session(ctx, "list").desk
            return tools.list_issues(
                desk,
                status=status or [],
                service=service,
                assignee=assignee,
                include_done=include_done,
                limit=limit,
            )

        return _answer(work)

    def tool_services(ctx: Context[Any, Any]) -> Any:
        def work() -> Any:
            s = session(ctx, "services")
            return tools.services(s.desk, s.health)

        return _answer(work)

    def tool_findings(ctx: Context[Any, Any], service: str, limit: Limit = 50) -> Any:
        return _answer(lambda: tools.findings(session(ctx, "findings").desk, service, limit))

    def tool_incidents(
        ctx: Context[Any, Any], include_done: bool = False, limit: Limit = 50
    ) -> Any:
        return _answer(lambda: tools.incidents(session(ctx, "incidents").desk, include_done, limit))

    for fn, description in (
        (tool_ready, "Unblocked, unclaimed issues, most urgent first."),
        (tool_claim, "Claim the next ready issue (or `number`) for you, with a lease."),
        (tool_renew, "Extend your claim on an issue."),
        (tool_release, "Give a claimed issue back to the ready queue."),
        (tool_show, "One issue: every field and its comments."),
        (
            tool_file,
            "File an issue. Returns it with known fixes: resolved look-alikes, try them first.",
        ),
        (tool_update, "Change fields; fails if the issue's version moved on since you read it."),
        (
            tool_transition,
            "Move an issue: ack, start, block, resolve (with resolution, root cause, "
            "prevention), close (with reason), reopen. `note` is kept as a comment.",
        ),
        (tool_comment, "Comment on an issue (Markdown)."),
        (tool_link, "Link an issue to another."),
        (tool_search, "Full-text search over issues, best match first."),
        (tool_list, "Issues, most urgent first; only active ones unless include_done."),
        (tool_services, "Services with health and count of open issues."),
        (tool_findings, "A service's open scanner findings with their rule codes."),
        (tool_incidents, "Incident issues, most urgent first."),
    ):
        server.register(fn, description)

    @server.resource(
        "issue://{number}", name="issue", mime_type="application/json", description="One issue."
    )
    def issue_resource(number: str, ctx: Context[Any, Any]) -> str:
        s = session(ctx, "show")
        return _resource(lambda: tools.show(s.desk, _number(number)))

    @server.resource(
        "service://{name}",
        name="service",
        mime_type="application/json",
        description="A service: health and open issues.",
    )
    def service_resource(name: str, ctx: Context[Any, Any]) -> str:
        s = session(ctx, "services")
        return _resource(lambda: tools.service(s.desk, s.health, name))

    @server.prompt(name="coordinate", description="How to work this desk as an agent.")
    def coordinate() -> str:
        return COORDINATE

    return server


def _number(text: str) -> int:
    digits = text.strip().lstrip("#")
    if not digits.isdigit() or int(digits) < 1:
        from passmuster.errors import InvalidValue

        raise InvalidValue("issue number", text, ["a number such as 7 or 007"])
    return int(digits)


def _resource(work: Callable[[], Any]) -> str:
    from mcp.server.mcpserver.exceptions import ResourceError

    try:
        return json.dumps(work(), ensure_ascii=False, separators=(",", ":"), default=str)
    except PassmusterError as exc:
        raise ResourceError(escape_controls(exc.message)) from None
