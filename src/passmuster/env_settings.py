"""Per-process settings from `PASSMUSTER_*` environment variables (pydantic-settings).

Kept apart from `passmuster.settings` so that reading the project's configuration, or one
variable through `passmuster.settings.process_setting`, does not load pydantic.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from passmuster.settings import ENV_PREFIX, acting_user


class Settings(BaseSettings):
    """Per-process settings, from `PASSMUSTER_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str | None = None
    actor: str | None = None

    def resolved_actor(self) -> str:
        """Who is acting: PASSMUSTER_ACTOR, else the login name."""
        return acting_user(self.actor)
