"""Failures surface as the StoreError tree, with the fix in the message and never the password."""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from hypersweep.errors import (
    SchemaVersionError,
    StoreError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from hypersweep.records import NewTrial
from hypersweep.store import mask_url, open_store, upgrade_store
from hypersweep.store._sql import _engine

from .conftest import _sa_url, fresh_pg_schema, new_study

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+psycopg://ana:pw@db.example:5432/hs", "postgresql+psycopg://ana:***@db.example:5432/hs"),
        ("postgresql://ana:p%40ss@db/hs?sslmode=require", "postgresql://ana:***@db/hs?sslmode=require"),
        ("postgresql://ana:p@ss@db/hs", "postgresql://ana:***@db/hs"),
        ("postgresql://ana@db/hs", "postgresql://ana@db/hs"),
        ("postgresql://db/hs?user=ana&password=pw", "postgresql://db/hs?user=ana&password=***"),
        ("sqlite:///runs/hs.db", "sqlite:///runs/hs.db"),
        ("sqlite:///file:x.db?mode=ro&uri=true", "sqlite:///file:x.db?mode=ro&uri=true"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_missing_sqlite_file_is_not_created(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "nope" / "hs.db"
    with pytest.raises(StoreUnavailableError, match=str(path)):
        open_store(f"sqlite:///{path}")
    assert not path.exists() and not path.parent.exists()
    with pytest.raises(StoreUnavailableError):
        upgrade_store(f"sqlite:///{path}")


def test_server_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"postgresql://ana:{SECRET}@127.0.0.1:1/hs"
    with pytest.raises(StoreUnavailableError) as info:
        open_store(url, create=True)
    assert SECRET not in str(info.value) and "ana:***@127.0.0.1:1" in str(info.value)
    assert isinstance(info.value.__cause__, Exception)  # raised from the driver's error


def test_unsupported_url_does_not_leak() -> None:
    with pytest.raises(StoreError) as info:
        open_store(f"mysql://ana:{SECRET}@db/hs")
    assert SECRET not in str(info.value)
    assert "unsupported store URL" in str(info.value)  # and what to use instead (docs/store.md says why)
    assert "sqlite:///" in str(info.value) and "postgresql+psycopg://" in str(info.value)


def test_sqlite_locked_past_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hs.db"
    open_store(f"sqlite:///{path}", create=True).close()
    store = open_store(f"sqlite:///{path}?busy_timeout=0.2")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailableError, match="locked"):
            store.create_study(new_study())
        assert store.list_studies() == []  # WAL: readers are not blocked by a writer
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.create_study(new_study())
    store.close()
    kw = open_store(f"sqlite:///{path}", busy_timeout_s=0.1)
    assert kw._surl.busy_timeout_s == 0.1
    kw.close()


def _stamp(url: str, revision: str | None) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(_sa_url(url))
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {_engine.VERSION_TABLE}"))
        if revision is not None:
            conn.execute(
                text(f"INSERT INTO {_engine.VERSION_TABLE} (version_num) VALUES (:r)"), {"r": revision}
            )
    engine.dispose()


def test_unknown_revision(store_url: str) -> None:
    open_store(store_url, create=True).close()
    _stamp(store_url, "9999")
    with pytest.raises(SchemaVersionError, match="newer hypersweep"):
        open_store(store_url)
    with pytest.raises(SchemaVersionError):
        open_store(store_url, create=True)  # create never touches an existing database
    with pytest.raises(SchemaVersionError):
        upgrade_store(store_url)


def test_older_revision_names_the_upgrade_command(store_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    open_store(store_url, create=True).close()
    current = _engine.HEAD_REVISION
    monkeypatch.setattr(_engine, "KNOWN_REVISIONS", (*_engine.KNOWN_REVISIONS, "9999"))
    monkeypatch.setattr(_engine, "HEAD_REVISION", "9999")
    with pytest.raises(SchemaVersionError) as info:
        open_store(store_url)
    assert f"hypersweep db upgrade --store {mask_url(store_url)}" in str(info.value)
    assert f"revision {current}" in str(info.value)


def test_no_version_table(store_url: str) -> None:
    open_store(store_url, create=True).close()
    _stamp(store_url, None)
    with pytest.raises(SchemaVersionError, match="not a hypersweep store"):
        open_store(store_url)
    with pytest.raises(SchemaVersionError, match="not a hypersweep store"):
        upgrade_store(store_url)  # never touches a database it did not make


def test_missing_table_at_runtime(store: object, store_url: str) -> None:
    from sqlalchemy import create_engine, text

    s = store.create_study(new_study())  # type: ignore[attr-defined]
    engine = create_engine(_sa_url(store_url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE trial_params"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="hypersweep db upgrade"):
        store.create_trials(s.study_id, [NewTrial(params={"a": 1}, seed=0)])  # type: ignore[attr-defined]


def test_upgrade_creates_empty_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hs.db"
    sqlite3.connect(path).close()  # an empty file
    with pytest.raises(SchemaVersionError, match="hypersweep db upgrade"):
        open_store(f"sqlite:///{path}")
    assert upgrade_store(f"sqlite:///{path}") == (None, _engine.HEAD_REVISION)
    assert upgrade_store(f"sqlite:///{path}") == (_engine.HEAD_REVISION, _engine.HEAD_REVISION)
    open_store(f"sqlite:///{path}").close()


def test_sqlite_read_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "hs.db"
    with open_store(f"sqlite:///{path}", create=True) as s:
        s.create_study(new_study())
        s.check_writable()
    ro = open_store(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert [x.name for x in ro.list_studies()] == ["digits-svc"]
        with pytest.raises(StoreReadOnlyError):
            ro.check_writable()
        with pytest.raises(StoreReadOnlyError):
            ro.create_study(new_study("other"))
    finally:
        ro.close()
    with pytest.raises(StoreUnavailableError):
        open_store(f"sqlite:///file:{tmp_path / 'missing.db'}?mode=ro&uri=true", create=True)


@pytest.mark.postgres
def test_postgres_select_only_role(pg_database: str) -> None:
    """A role that may only SELECT: reads work, writes are StoreReadOnlyError (needs CREATEROLE)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    with open_store(pg_database, create=True) as s:
        s.create_study(new_study(f"ro-{uuid.uuid4().hex[:6]}"))
    role = f"hs_ro_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_sa_url(pg_database), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'"))
            conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
            conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
        url = _sa_url(pg_database).set(username=role, password=SECRET).render_as_string(hide_password=False)
    except ProgrammingError:  # no CREATEROLE: a read-only session is the same refusal to the store
        url = _sa_url(pg_database).render_as_string(hide_password=False)
        url += "?options=-cdefault_transaction_read_only%3Don"
        role = ""
    try:
        ro = open_store(url)
        try:
            assert ro.list_studies()
            with pytest.raises(StoreReadOnlyError) as info:
                ro.check_writable()
            assert SECRET not in str(info.value)
            with pytest.raises(StoreReadOnlyError):
                ro.create_study(new_study("x"))
        finally:
            ro.close()
    finally:
        if role:
            with admin.connect() as conn:
                conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"))
                conn.execute(text(f"REVOKE ALL ON SCHEMA public FROM {role}"))
                conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def test_postgres_connection_lost_during_a_batch(pg_database: str) -> None:
    """The server drops the connection in the middle of a batch write (a trigger makes the backend
    terminate itself while the batch's rows arrive): the driver gets StoreUnavailableError, nothing of
    the batch is stored, and the same call succeeds once the server is reachable again."""
    from sqlalchemy import create_engine, text

    from hypersweep.records import MetricPoint

    store_url = fresh_pg_schema(pg_database)
    admin = create_engine(_sa_url(store_url))
    with open_store(store_url, create=True) as store:
        s = store.create_study(new_study())
        (t,) = store.create_trials(s.study_id, [NewTrial(params={"x": 1}, seed=0)])
        reports = [(t.trial_id, MetricPoint("loss", step, 1.0 / (step + 1))) for step in range(50)]
        with admin.begin() as conn:
            conn.execute(
                text(
                    "CREATE FUNCTION hs_drop_me() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER hs_drop BEFORE INSERT ON metric_history FOR EACH ROW EXECUTE FUNCTION hs_drop_me()"
                )
            )
        with pytest.raises(StoreUnavailableError, match="unavailable"):
            store.add_reports(reports)
        with admin.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM metric_history")).scalar() == 0
            conn.execute(text("DROP TRIGGER hs_drop ON metric_history"))
        store.add_reports(reports)  # the pool reconnects
        assert [p.step for p in store.get_history(t.trial_id)] == list(range(50))
    admin.dispose()
