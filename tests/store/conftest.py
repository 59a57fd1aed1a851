"""Fixtures of the store contract suite: every test runs against SQLite and, when
``HYPERSWEEP_TEST_POSTGRES_URL`` is set, PostgreSQL.

PostgreSQL isolation: the session creates a throwaway database (the role needs CREATEDB) and drops it
at the end; each test gets its own schema in it (``options=-csearch_path=...`` in the URL).
"""

from __future__ import annotations

import os
import urllib.parse
import uuid
from collections.abc import Iterator

import pytest

from hypersweep.records import Direction, NewStudy
from hypersweep.store import open_store

PG_ENV = "HYPERSWEEP_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def with_query(url: str, **items: str) -> str:
    sep = "&" if "?" in url else "?"
    return url + sep + urllib.parse.urlencode(items)


def replace_database(url: str, database: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + database))


def _sa_url(url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a throwaway PostgreSQL database for this test session."""
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://user:pass@localhost/db)")
    from sqlalchemy import create_engine, text

    name = f"hs_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(_sa_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _sa_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A URL of an empty store: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return fresh_pg_schema(request.getfixturevalue("pg_database"))


def fresh_pg_schema(base: str) -> str:
    """The URL of a new, empty schema in the PostgreSQL database at ``base``."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(_sa_url(base))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return with_query(base, options=f"-csearch_path={schema}")


@pytest.fixture
def backend(store_url: str) -> str:
    return "sqlite" if store_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    s = open_store(store_url, create=True)
    yield s
    s.close()


def new_study(name: str = "digits-svc", **kw) -> NewStudy:  # type: ignore[no-untyped-def]
    fields = dict(
        name=name,
        spec_text="name: digits-svc\n",
        spec_hash="0" * 64,
        spec_format="native",
        strategy="tpe",
        objective_metric="val_accuracy",
        direction=Direction.MAXIMIZE,
        budget_trials=20,
        seed=42,
        workdir="/tmp/sweeps",
    )
    fields.update(kw)
    return NewStudy(**fields)  # type: ignore[arg-type]
