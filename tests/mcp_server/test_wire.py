"""`passmuster mcp` on the wire: what a client that writes a bad line gets back (JSON-RPC 2.0
asks for an error answer; a silent server leaves the client waiting for ever)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from mcp_server.helpers import PASSMUSTER
from passmuster.usecases.desk import Desk
from tests.child_process import passmuster_env

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "wire-test", "version": "1"},
    },
}


def _answers(tmp_path: Path, lines: list[str]) -> list[dict[str, Any]]:
    Desk.init(tmp_path).close()
    done = subprocess.run(
        [*PASSMUSTER, "mcp", "--as", "wire-agent"],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=passmuster_env(),
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_line_that_is_not_json_gets_a_parse_error_and_the_session_goes_on(
    tmp_path: Path,
) -> None:
    first, second = _answers(tmp_path, ["{not json", json.dumps(INITIALIZE)])
    assert first == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32700, "message": "Parse error: the line is not JSON"},
    }
    assert second["id"] == 1
    assert second["result"]["serverInfo"]["name"] == "passmuster"


def test_json_that_is_no_message_gets_invalid_request_with_its_id(tmp_path: Path) -> None:
    answers = _answers(
        tmp_path,
        [
            json.dumps({"jsonrpc": "2.0", "id": 7}),  # neither a method nor a result
            json.dumps({"jsonrpc": "2.0", "id": "abc", "method": 5}),
            json.dumps([1, 2]),
            json.dumps(INITIALIZE),
        ],
    )
    assert [(a.get("id"), a.get("error", {}).get("code")) for a in answers] == [
        (7, -32600),
        ("abc", -32600),
        (None, -32600),
        (1, None),
    ]
