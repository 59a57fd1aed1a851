"""Engines, URLs, schema revisions and error translation for the SQL store.

* :func:`parse_store_url` turns a user's URL into a SQLAlchemy URL (``postgresql://`` becomes
  ``postgresql+psycopg://``) and pulls out hypersweep's own options (``busy_timeout`` in seconds).
* :func:`make_engine` builds an engine: SQLite gets WAL, ``busy_timeout``, foreign keys and
  ``BEGIN IMMEDIATE`` for write transactions; PostgreSQL gets ``pool_pre_ping``.
* :func:`ensure_schema` checks the database's Alembic revision against this release's and, when asked
  to create, builds a brand-new database at head under a lock (a file lock next to a SQLite file, an
  advisory lock on PostgreSQL) so racing first opens neither fail nor corrupt it.
* :func:`translate_error` maps SQLAlchemy/DBAPI errors onto the ``StoreError`` tree by error code
  (SQLite's ``sqlite_errorname``, PostgreSQL's SQLSTATE), never leaking the password.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from hypersweep.errors import (
    SchemaVersionError,
    StoreError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from hypersweep.store._sql._models import VERSION_TABLE, Base

__all__ = [
    "HEAD_REVISION",
    "KNOWN_REVISIONS",
    "StoreURL",
    "ensure_schema",
    "make_engine",
    "parse_store_url",
    "translate_error",
    "upgrade_schema",
]

KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006")
"""Every released schema revision, oldest first. A test checks it against the Alembic scripts; it is
kept here so opening a store does not have to load Alembic."""
HEAD_REVISION = KNOWN_REVISIONS[-1]
DEFAULT_BUSY_TIMEOUT_S = 30.0
_ADVISORY_LOCK_KEY = 0x68797065_72737770  # "hyperswp": serialises schema creation on PostgreSQL
_OUR_TABLES = frozenset(Base.metadata.tables)
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: what SQLAlchemy connects to, plus hypersweep's own options."""

    url: URL
    masked: str
    busy_timeout_s: float
    sqlite_path: Path | None  # the database file (None for PostgreSQL and in-memory SQLite)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def is_memory(self) -> bool:
        return self.is_sqlite and self.sqlite_path is None

    @property
    def read_only_uri(self) -> bool:
        return self.url.query.get("mode") == "ro"

    @property
    def password(self) -> str | None:
        return self.url.password if isinstance(self.url.password, str) else None


def parse_store_url(raw: str, busy_timeout_s: float | None = None) -> StoreURL:
    """Parse ``raw``; ``busy_timeout`` in the query (seconds) or the argument overrides the 30 s default."""
    from hypersweep.store._url import mask_url

    masked = mask_url(raw)
    try:
        url = make_url(raw)
    except ArgumentError:
        # not ``from e``: SQLAlchemy's message quotes the whole URL, password included
        raise StoreUnavailableError(f"not a valid store URL: {masked}") from None
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    query = dict(url.query)
    timeout = query.pop("busy_timeout", None)
    url = url.set(query=query)
    if busy_timeout_s is None:
        busy_timeout_s = float(timeout) if isinstance(timeout, str) else DEFAULT_BUSY_TIMEOUT_S
    path: Path | None = None
    if url.get_backend_name() == "sqlite":
        db = url.database or ""
        if db.startswith("file:"):
            db = urllib.parse.urlparse(db).path or db[len("file:") :]
        if db and db != ":memory:" and query.get("mode") != "memory":
            path = Path(db)
    elif url.get_backend_name() != "postgresql":
        raise StoreUnavailableError(
            f"unsupported store URL {masked}: use sqlite:///path.db or postgresql+psycopg://user:pass@host/db"
        )
    return StoreURL(url=url, masked=masked, busy_timeout_s=busy_timeout_s, sqlite_path=path)


def _writable(path: Path) -> bool:
    """Can this process write ``path`` and create files beside it (SQLite's -wal, -shm and lock)?"""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def for_reading(surl: StoreURL) -> StoreURL:
    """SQLite: the URL a reader opens. A file this process cannot write (a read-only mount, file or
    folder) or a ``?mode=ro`` URL is opened as a read-only URI (``file:...?mode=ro``), and with
    ``immutable=1`` when SQLite could not create the WAL index (``-shm``) beside it: a read-only
    folder or mount, where nobody changes the file while it is read. Other URLs are returned as they
    are."""
    path = surl.sqlite_path
    if path is None or not surl.is_sqlite or not path.exists():
        return surl
    if not surl.read_only_uri and _writable(path):
        return surl
    query = {k: v for k, v in surl.url.query.items() if k not in ("mode", "uri", "immutable")}
    query |= {"mode": "ro", "uri": "true"}
    shm = path.with_name(path.name + "-shm")
    if not os.access(path.parent, os.W_OK) and not shm.exists():
        query["immutable"] = "1"
    url = surl.url.set(database="file:" + urllib.parse.quote(str(path.resolve())), query=query)
    return StoreURL(url=url, masked=surl.masked, busy_timeout_s=surl.busy_timeout_s, sqlite_path=path)


def check_sqlite_writable(surl: StoreURL, action: str) -> None:
    """A writer's check before it touches a SQLite file: ``StoreReadOnlyError`` naming the path when
    the file or its folder cannot be written (SQLite writes -wal, -shm and lock files beside it), or
    when the URL says ``mode=ro``."""
    path = surl.sqlite_path
    if path is None:
        return
    if surl.read_only_uri:
        raise StoreReadOnlyError(
            f"store {surl.masked} refuses writes: it is opened read-only (mode=ro), so hypersweep cannot {action}"
        )
    if path.exists():
        bad = next((p for p in (path, path.parent) if not os.access(p, os.W_OK)), None)
    else:
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        bad = None if os.access(folder, os.W_OK) else folder
    if bad is not None:
        raise StoreReadOnlyError(
            f"store {surl.masked}: cannot {action}: {bad} is not writable (a read-only file, folder or "
            "mount; SQLite also writes -wal, -shm and lock files beside the database). Commands that "
            "only read still work; point --store at a writable path to write"
        )


def make_engine(surl: StoreURL) -> Engine:
    """An engine for ``surl``. SQLite connections run in driver autocommit mode and the ``begin`` event
    emits ``BEGIN IMMEDIATE`` for connections marked ``hs_write`` (so concurrent writers queue on the busy
    timeout instead of failing when a read transaction upgrades to a write)."""
    if not surl.is_sqlite:
        engine = create_engine(
            surl.url, pool_pre_ping=True, connect_args={"connect_timeout": 10}, pool_size=2, max_overflow=4
        )
        # Batch executemany INSERTs into multi-row VALUES statements (as the psycopg2 dialect does):
        # psycopg 3's own executemany sends one statement per row, ~5x slower for history rows.
        engine.dialect.use_insertmanyvalues_wo_returning = True
        return engine
    kwargs: dict[str, Any] = {
        "connect_args": {"timeout": surl.busy_timeout_s, "check_same_thread": False},
    }
    if surl.is_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(surl.url, **kwargs)
    busy_ms = max(int(surl.busy_timeout_s * 1000), 0)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cur.execute("PRAGMA foreign_keys = ON")
            if not surl.read_only_uri and not surl.is_memory:
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("hs_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


# -- errors -------------------------------------------------------------------------------------------
_SQLITE_UNAVAILABLE = {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_FULL"}
_PG_UNAVAILABLE = {"57P01", "57P02", "57P03", "53300", "55P03", "53100"}
_PG_READ_ONLY = {"42501", "25006"}
_PG_SCHEMA = {"42P01", "42703"}


def _scrub(message: str, surl: StoreURL) -> str:
    pw = surl.password
    if pw:
        message = message.replace(pw, "***")
        quoted = urllib.parse.quote(pw, safe="")
        if quoted != pw:
            message = message.replace(quoted, "***")
    return message


def translate_error(exc: SQLAlchemyError, surl: StoreURL, action: str = "") -> StoreError:
    """The ``StoreError`` for a SQLAlchemy error; the caller raises it ``from exc``."""
    orig = getattr(exc, "orig", None)
    detail = str(orig if orig is not None else exc).strip().splitlines()
    first = _scrub(detail[0] if detail else type(exc).__name__, surl)
    where = f"store {surl.masked}" + (f" ({action})" if action else "")
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlite_name, str):
        if sqlite_name.startswith("SQLITE_READONLY"):
            return StoreReadOnlyError(f"{where} refuses writes: {first}")
        if sqlite_name in ("SQLITE_BUSY", "SQLITE_LOCKED") or sqlite_name.startswith("SQLITE_BUSY"):
            return StoreUnavailableError(
                f"{where} is locked by another process for longer than the busy timeout "
                f"({surl.busy_timeout_s:g} s): {first}"
            )
        if sqlite_name in _SQLITE_UNAVAILABLE or sqlite_name.startswith("SQLITE_IOERR"):
            return StoreUnavailableError(f"{where} is unavailable: {first}")
        # SQLite has no error code of its own for a missing table or column.
        if "no such table" in first or "no such column" in first:
            return _schema_mismatch(surl, first)
    if isinstance(sqlstate, str):
        if sqlstate in _PG_READ_ONLY:
            return StoreReadOnlyError(f"{where} refuses writes: {first}")
        if sqlstate in _PG_SCHEMA:
            return _schema_mismatch(surl, first)
        if sqlstate.startswith("08") or sqlstate in _PG_UNAVAILABLE:
            return StoreUnavailableError(f"{where} is unavailable: {first}")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return StoreUnavailableError(f"{where} is unavailable (connection lost): {first}")
    if isinstance(exc, OperationalError) and sqlstate is None and sqlite_name is None:
        return StoreUnavailableError(f"{where} is unavailable: {first}")  # connection refused and kin
    return StoreError(f"{where} failed: {first}")


def _schema_mismatch(surl: StoreURL, detail: str) -> SchemaVersionError:
    return SchemaVersionError(
        f"store {surl.masked} does not have this release's schema ({detail}); "
        f"run `hypersweep db upgrade --store {surl.masked}`"
    )


# -- schema revisions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _SchemaState:
    revision: str | None  # the database's Alembic revision; None when it has no version table
    has_tables: bool  # any table at all (a foreign or half-made database when revision is None)


def _schema_state(conn: Connection) -> _SchemaState:
    names = set(inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        revs = sorted(r for (r,) in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")))
        revision = ",".join(revs) or None
    return _SchemaState(revision=revision, has_tables=bool(names & _OUR_TABLES))


def _check_revision(state: _SchemaState, surl: StoreURL) -> None:
    rev = state.revision
    if rev == HEAD_REVISION:
        return
    upgrade = f"hypersweep db upgrade --store {surl.masked}"
    if rev is None and not state.has_tables:
        raise SchemaVersionError(
            f"store {surl.masked} has no hypersweep schema yet; create it with `{upgrade}`"
        )
    if rev is None:
        raise SchemaVersionError(
            f"store {surl.masked} has tables named like hypersweep's but no hypersweep schema version: it is "
            "not a hypersweep store; point --store at another database"
        )
    if rev in KNOWN_REVISIONS:
        raise SchemaVersionError(
            f"store {surl.masked} is at schema revision {rev}, this release needs {HEAD_REVISION}: "
            f"back it up, then run `{upgrade}`"
        )
    raise SchemaVersionError(
        f"store {surl.masked} is at schema revision {rev}, unknown to this release (head {HEAD_REVISION}): "
        "it was made by a newer hypersweep; upgrade hypersweep to use it"
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if needed), held across processes."""
    with open(path, "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # Windows
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
            try:
                yield
            finally:
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def _schema_lock(engine: Engine, surl: StoreURL) -> Iterator[Connection]:
    """A write connection in a transaction, holding the schema lock; commits on success."""
    lock: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if surl.sqlite_path is not None:
        lock = _file_lock(surl.sqlite_path.with_name(surl.sqlite_path.name + ".lock"))
    with lock, engine.connect() as conn:
        conn.execution_options(hs_write=True)
        with conn.begin():
            if not surl.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
            yield conn


def _run_alembic(conn: Connection, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)


def _create_at_head(conn: Connection) -> None:
    """Build an empty database at head as Alembic's cookbook does ("building an up to date database from
    scratch": ``create_all``, then stamp head), the stamp being the one row ``alembic stamp head`` writes
    into a version table of Alembic's layout. Neither Alembic (0.4 s to import) nor the revisions one
    after another are needed for a store that has nothing to migrate: a first run starts sooner. The tests
    check that this gives the schema the revisions give, and that Alembic reads it as head and migrates
    it down and up again."""
    Base.metadata.create_all(conn)
    version = Table(
        VERSION_TABLE,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )
    version.create(conn)
    conn.execute(version.insert().values(version_num=HEAD_REVISION))


def ensure_schema(engine: Engine, surl: StoreURL, *, create: bool) -> None:
    """Check the schema revision; with ``create``, build an empty database at head first."""
    try:
        with engine.connect() as conn:
            state = _schema_state(conn)
            conn.rollback()
        if state.revision == HEAD_REVISION:
            return
        if create and state.revision is None and not state.has_tables:
            with _schema_lock(engine, surl) as conn:
                state = _schema_state(conn)  # another process may have made it meanwhile
                if state.revision is None and not state.has_tables:
                    _create_at_head(conn)
                    return
        _check_revision(state, surl)
    except SQLAlchemyError as e:
        raise translate_error(e, surl, "opening") from e


def upgrade_schema(engine: Engine, surl: StoreURL, target: str = "head") -> tuple[str | None, str]:
    """Upgrade to ``target`` (an empty database is created); returns (revision before, revision after)."""
    try:
        with _schema_lock(engine, surl) as conn:
            before = _schema_state(conn)
            if before.revision is None and before.has_tables:
                _check_revision(before, surl)  # a foreign database: refuse to touch it
            if before.revision is not None and before.revision not in KNOWN_REVISIONS:
                _check_revision(before, surl)
            _run_alembic(conn, target)
            after = _schema_state(conn)
    except SQLAlchemyError as e:
        raise translate_error(e, surl, "upgrading") from e
    return before.revision, after.revision or ""


def sqlite_file_missing(surl: StoreURL) -> bool:
    return surl.sqlite_path is not None and not os.path.exists(surl.sqlite_path)
