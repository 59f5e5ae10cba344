"""Alembic migrations of the desk schema."""
