"""The desk as a Model Context Protocol server, for coding agents.

`tools.py` holds what each tool does (calling the desk's use cases, nothing else),
`server.py` assembles them into one MCP server with strict inputs, `http.py` serves it at `/mcp`
of `passmuster serve` behind the API's bearer tokens, and `stdio.py` runs it as `passmuster mcp`.
`workflow.py` is the desk's workflow for an agent, shared by the `coordinate` prompt and
`passmuster prime`.
"""
