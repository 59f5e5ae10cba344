"""Tokens: shown once, stored hashed, checked, listed and revoked, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from passmuster.errors import AuthError, Conflict, Forbidden, InvalidValue, NotFound
from passmuster.storage.auth_tables import api_tokens
from passmuster.storage.engine import create_desk_engine, normalise_url
from passmuster.storage.schema import load_all_tables
from passmuster.usecases.tokens import Role, TokenStore


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_desk_engine(normalise_url(database_url))
    load_all_tables().create_all(engine, tables=[api_tokens])
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> TokenStore:
    return TokenStore(engine)


def test_it_stores_only_a_hash_of_the_secret(store: TokenStore, engine: Engine) -> None:
    info, secret = store.create("ci", "reporter", created_by="alice")
    assert secret.startswith("pm_") and len(secret) > 40
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens)).one()._mapping
    assert secret not in [str(v) for v in row.values()]
    assert row["token_hash"] != secret
    assert info.role is Role.REPORTER and info.created_by == "alice"


def test_it_authenticates_the_secret_and_nothing_else(store: TokenStore) -> None:
    info, secret = store.create("agent", Role.COORDINATOR, created_by="alice")
    assert store.authenticate(secret).id == info.id
    with pytest.raises(AuthError):
        store.authenticate(secret + "x")
    with pytest.raises(AuthError):
        store.authenticate(None)


def test_a_revoked_token_no_longer_authenticates(store: TokenStore) -> None:
    _, secret = store.create("old", "admin", created_by="alice")
    revoked = store.revoke("old")
    assert revoked.revoked_at is not None
    with pytest.raises(AuthError, match="revoked"):
        store.authenticate(secret)
    with pytest.raises(Conflict, match="already revoked"):
        store.revoke("old")
    with pytest.raises(NotFound):
        store.revoke("never")
    assert store.by_id(revoked.id) is None


def test_it_lists_tokens_without_their_secrets(store: TokenStore) -> None:
    store.create("a", "reader", created_by="x")
    store.create("b", "admin", created_by="x")
    store.revoke("a")
    assert [t.name for t in store.tokens()] == ["a", "b"]
    assert [t.name for t in store.tokens(include_revoked=False)] == ["b"]


def test_names_are_unique_and_roles_are_checked(store: TokenStore) -> None:
    store.create("dup", "reader", created_by="x")
    with pytest.raises(Conflict, match="already exists"):
        store.create("dup", "reader", created_by="x")
    with pytest.raises(InvalidValue, match="reader, reporter, coordinator, admin"):
        store.create("new", "boss", created_by="x")


def test_roles_form_a_ladder(store: TokenStore) -> None:
    info, _ = store.create("r", "reporter", created_by="x")
    info.require(Role.READER)
    info.require(Role.REPORTER)
    with pytest.raises(Forbidden, match="needs coordinator"):
        info.require(Role.COORDINATOR)
