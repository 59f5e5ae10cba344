"""An agent that connects through MCP, says "ready", claims one issue when it reads a line
on stdin, says which, then works on it (never renewing) until killed.

python agent.py stdio CWD DATABASE_URL NAME LEASE
python agent.py http BASE_URL SECRET LEASE
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

# Run as a script: the repository's root makes `tests` importable, as it is under pytest.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.mcp_server.helpers import call, http_agent, stdio_agent


async def main(argv: list[str]) -> None:
    if argv[0] == "stdio":
        cwd, url, name, lease = argv[1:]
        agent = stdio_agent(Path(cwd), url, name)
    else:
        base, secret, lease = argv[1:]
        agent = http_agent(base, secret)
    async with agent as client:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        claimed = await call(client, "claim", lease=lease)
        print(json.dumps({"number": claimed["number"], "until": claimed["lease"]["until"]}))
        sys.stdout.flush()
        await asyncio.sleep(600)  # "working": never renews, until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
