"""Rolling a platform out: the plan's waves, each service's command in its own process group,
the monitor's probe as the health gate, and every attempt recorded through the desk.

This layer sits above the monitor (it probes with the monitor's prober) and below the web, the
API and the CLI, which only read what it recorded.
"""
