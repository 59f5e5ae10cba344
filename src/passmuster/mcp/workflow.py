"""The desk's workflow for an agent, in one place: the MCP server's instructions, the
`coordinate` prompt and `passmuster prime` all say it from here."""

from __future__ import annotations

import json

INSTRUCTIONS = (
    "passmuster is the coordination desk of a multi-service platform. Take work with `ready` "
    "and `claim`, keep your claim alive with `renew`, check known fixes before fixing, and "
    "resolve with a resolution, root cause and prevention so the next agent finds your fix."
)

STEPS = """\
1. ready: unblocked, unclaimed work, most urgent first.
2. claim: take the next ready issue (or a named one). The claim is a lease (30m unless
   asked): renew it while you work, release it if you stop. A lapsed claim goes back to
   the queue by itself; so does the claim of an agent that died.
3. show the issue; search for look-alikes. Known fixes first: file returns resolved
   look-alikes with their resolution; try those before anything new.
4. Work. comment what you find; link related issues (caused_by, blocks, duplicate_of);
   transition to block with a note when you wait on someone.
5. transition to resolve with resolution, root cause and prevention: they are what the
   next agent is offered as a known fix. Found another problem? file it.
6. Edits are compare-and-set: update takes the version you read, and fails (conflict)
   if someone changed the issue meanwhile: show it again, then retry."""

COORDINATE = f"""\
You work on a platform whose issues live on a passmuster desk. Follow this workflow:

{STEPS}

Report to the desk, not only to the person you talk to: every finding, blocker and fix
goes on the issue, where the other agents and people see it. Never work an issue
claimed by someone else; claim it or pick another."""

# One line per command: what `passmuster prime` lists.
COMMANDS = """\
passmuster ready                      # what to work on
passmuster claim [N] [--lease 45m] [--as NAME]
passmuster renew N | release N        # keep or give back your claim
passmuster agents                     # who holds what, until when
passmuster show N | search WORDS | list --service NAME
passmuster new "TITLE" --service S --error-details "..."   # prints known fixes
passmuster comment N "text" | link N caused_by M
passmuster resolve N -m "resolution" --root-cause "..." --prevention "..."
passmuster mcp [--as NAME]            # this desk as an MCP server over stdio"""


def client_config(command: list[str], *, url: str | None = None) -> str:
    """The MCP configuration for common clients; `command` starts passmuster (argv)."""
    program, *rest = command
    args = json.dumps([*rest, "mcp"])
    shell = " ".join(command)
    http = url or "http://HOST:8000/mcp"
    bearer = '"headers": {"Authorization": "Bearer <token>"}'
    return f"""\
Claude Code:  claude mcp add passmuster -- {shell} mcp
Cursor (.cursor/mcp.json), Claude Desktop, Windsurf:
  {{"mcpServers": {{"passmuster": {{"command": "{program}", "args": {args}}}}}}}
VS Code (.vscode/mcp.json):
  {{"servers": {{"passmuster": {{"type": "stdio", "command": "{program}", "args": {args}}}}}}}
The client starts it in the project folder (the desk is found from there); otherwise
add "--database-url", "URL" before "mcp". A team desk over HTTP (`passmuster serve`),
with a token from `passmuster token create --name AGENT --role coordinator`:
  {{"mcpServers": {{"passmuster": {{"url": "{http}", {bearer}}}}}}}"""


def prime(command: list[str], *, desk: str, url: str | None = None) -> str:
    """What an agent needs to work this desk, in at most 60 lines."""
    return f"""\
# passmuster desk: {desk}

## Workflow
{STEPS}

## Commands (add --json for JSON)
{COMMANDS}

## MCP: tools ready claim renew release show file update transition comment link
## search list services findings incidents; resources issue://N, service://NAME;
## prompt coordinate
{client_config(command, url=url)}
"""
