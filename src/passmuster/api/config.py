"""What a `serve` process needs beyond the desk: from `PASSMUSTER_*` variables or `serve` flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from passmuster.env_settings import Settings


class ServeSettings(Settings):
    """Settings for the API and the pages."""

    # Send the session cookie only over HTTPS; turn on behind a TLS-terminating proxy.
    cookie_secure: bool = False
    # The platform repository `POST /api/v1/scans/run` scans; None disables that route.
    platform_root: Path | None = None
    # Request bodies: every body, and an uploaded scan report (POST /api/v1/scans); bytes.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # Runtime errors sent by Sentry SDKs: the body as sent, and again once decompressed.
    max_ingest_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Envelopes per second per DSN key once a burst of `ingest_burst` is spent (0: no limit).
    ingest_rate: float = Field(default=100.0, ge=0)
    ingest_burst: int = Field(default=1000, ge=1)
    # Whole events kept per runtime-error issue (counts stay exact beyond them).
    error_events_kept: int = Field(default=50, ge=1, le=100_000)
    # Limits of a scan `POST /api/v1/scans/run` starts (it runs in a child process): seconds,
    # and bytes of memory (address space).
    scan_timeout: float = Field(default=300.0, gt=0)
    scan_memory: int = Field(default=2 * 1024 * 1024 * 1024, ge=64 * 1024 * 1024)
    # How often the live feed looks for new events when nothing wakes it (seconds).
    live_poll_interval: float = 1.0
    # How often lapsed claims go back to the ready queue (seconds); None: `[leases]
    # sweep_interval` of passmuster.toml (10 s by default).
    lease_sweep_interval: float | None = Field(default=None, gt=0)
    # Run the health monitor inside the server process.
    monitor: bool = False
    # The monitor's configuration file (default: passmuster.toml found from platform_root or
    # the working folder) and service -> base URL overrides, as `passmuster monitor` takes them.
    monitor_config: Path | None = None
    base_urls: dict[str, str] = Field(default_factory=dict)
    # Catalog services the monitor leaves out (the demo's services it does not run here).
    monitor_skip: list[str] = Field(default_factory=list)


def serve_settings(settings: Settings | None) -> ServeSettings:
    """Accept plain `Settings` too, keeping the web's own fields at their defaults."""
    if settings is None:
        return ServeSettings()
    if isinstance(settings, ServeSettings):
        return settings
    return ServeSettings.model_validate(settings.model_dump())
