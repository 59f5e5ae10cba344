"""Engines for a desk: URL handling, SQLite pragmas, and the one way to run a transaction.

SQLite runs in WAL mode (readers never wait for the writer) with a long busy timeout, and every
write transaction starts with `BEGIN IMMEDIATE`: the write lock is taken up front, so two writers
queue on the busy handler instead of one failing half-way with "database is locked" when it tries
to upgrade a read lock. PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

T = TypeVar("T")

# Long enough that 16 processes filing flat out never hit it; a stuck writer still ends one day.
SQLITE_BUSY_TIMEOUT_S = 120.0
WRITE_OPTION = "passmuster_write"


def normalise_url(location: str | Path) -> str:
    """A SQLAlchemy URL for a URL or a path to a SQLite file; PostgreSQL goes through psycopg 3."""
    text = str(location)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    for plain in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if text.startswith(plain):
            text = "postgresql+psycopg://" + text[len(plain) :]
            break
    _check_supported(text, shown=str(location))
    return text


def _check_supported(url: str, *, shown: str) -> None:
    """Refuse anything but SQLite or PostgreSQL before SQLAlchemy fails on it with a traceback."""
    from sqlalchemy.exc import ArgumentError

    from passmuster.errors import ConfigError

    shown = re.sub(r"://([^:/@]*):[^@/]*@", r"://\1:***@", shown)
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        parsed.port  # noqa: B018 - parsing the port is what fails for 'host:notaport'
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(
            f"database URL {shown!r} cannot be read: {exc}", field="database_url"
        ) from None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"database URL {shown!r}: passmuster keeps desks in SQLite (sqlite:///path) or "
            f"PostgreSQL (postgresql://user@host/db), not {backend}",
            field="database_url",
        )


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create_private_file(path: Path) -> None:
    """Create a desk file readable by its owner only (0600, in a 0700 folder when the folder
    is new), before SQLite would create it with the umask's 0644. SQLite gives the -wal and
    -shm files the database file's permissions. An existing file is left as it is."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def is_read_only(path: Path) -> bool:
    """Whether a desk file cannot be written: a read-only file system (a mounted backup, a
    read-only container volume) or no write permission on the file or its folder (where
    SQLite keeps the -wal and -shm files)."""
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return path.exists() and not (os.access(path, os.W_OK) and os.access(folder, os.W_OK))


def create_desk_engine(url: str, **kwargs: Any) -> Engine:
    """An engine set up for the desk: WAL, busy timeout and BEGIN IMMEDIATE on SQLite.

    A SQLite desk that cannot be written is opened read-only: reading works (a WAL desk would
    otherwise fail to open, unable to create its -shm file), and a write fails with SQLite's
    "readonly database", which the commands report as a read-only desk.
    """
    from passmuster.storage.json_text import dumps

    parsed = make_url(url)
    kwargs.setdefault("json_serializer", dumps)
    # The most recently used connection has the warmest page cache (SQLite keeps one per
    # connection), so hand that one out again.
    kwargs.setdefault("pool_use_lifo", True)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        read_only = path is not None and is_read_only(path)
        if read_only and path is not None:
            kwargs["creator"] = _read_only_connector(path)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine, read_only=read_only)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _read_only_connector(path: Path) -> Any:
    import sqlite3

    # Without a -wal file the database file holds everything and cannot change under us:
    # `immutable` then lets SQLite read it without the -shm file it could not create.
    wal = path.with_name(path.name + "-wal")
    query = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    uri = f"{path.resolve().as_uri()}?{query}"

    def connect() -> Any:
        return sqlite3.connect(
            uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False
        )

    return connect


def _configure_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself instead of pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal" and not read_only:
                cursor.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL loses at most the last commits on power loss, never integrity.
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            # 32 MB of page cache per connection keeps a 100k-issue desk's indexes in memory.
            cursor.execute("PRAGMA cache_size = -32768")
            cursor.execute("PRAGMA temp_store = MEMORY")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class _WriteQueue:
    """Per engine: the connection each thread is writing through, and (SQLite) the lock that
    lets one writer of this process in at a time."""

    def __init__(self, serialise: bool) -> None:
        self.lock: threading.RLock | None = threading.RLock() if serialise else None
        self.local = threading.local()

    def current(self) -> Connection | None:
        connection: Connection | None = getattr(self.local, "connection", None)
        return connection


_queues: weakref.WeakKeyDictionary[Engine, _WriteQueue] = weakref.WeakKeyDictionary()
_queues_lock = threading.Lock()


def _queue(engine: Engine) -> _WriteQueue:
    queue = _queues.get(engine)
    if queue is None:
        with _queues_lock:
            queue = _queues.get(engine)
            if queue is None:
                queue = _WriteQueue(serialise=engine.dialect.name == "sqlite")
                _queues[engine] = queue
    return queue


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed on success, rolled back on error.

    The one way anything writes to a desk. Inside another write transaction of this thread on
    the same engine it joins that one (the outer block commits or rolls back the lot). On SQLite
    the writers of this process queue on a lock before `BEGIN IMMEDIATE`: SQLite admits one
    writer at a time, and its busy handler sleeps in growing steps (up to 100 ms) between
    tries, so under a burst of writes from many threads the sleeping, not the writing, is what
    costs; the lock hands the write on at once. Other processes still meet the busy handler.
    """
    queue = _queue(engine)
    current = queue.current()
    if current is not None:
        yield current
        return
    with queue.lock or nullcontext(), engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            queue.local.connection = connection
            try:
                yield connection
            finally:
                queue.local.connection = None


def run_write(engine: Engine, work: Callable[[Connection], T], *, retries: int = 5) -> T:
    """`work(connection)` in a write transaction (or the one this thread is in). A SQLite that
    is still busy after its timeout (a checkpoint, a crashed writer's recovery) gets the whole
    of `work` tried again a few times before the error reaches the user."""
    if _queue(engine).current() is not None:
        with write_transaction(engine) as connection:
            return work(connection)
    for attempt in range(retries):
        try:
            with write_transaction(engine) as connection:
                return work(connection)
        except OperationalError as exc:
            if not _is_busy(exc) or attempt == retries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "database is locked" in text or "database is busy" in text


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection for reading one consistent snapshot (or this thread's write transaction)."""
    current = _queue(engine).current()
    if current is not None:
        yield current
        return
    with engine.connect() as connection, connection.begin():
        yield connection
