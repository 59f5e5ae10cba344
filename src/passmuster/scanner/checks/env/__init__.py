"""Environment and secret rules (ENV): variables, env files and credentials across services."""
