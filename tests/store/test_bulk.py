"""Batch writes (store/_sql/_bulk.py) on both backends: PostgreSQL's COPY path behaves like SQLite's
executemany: a bad batch raises SQLAlchemy's error and leaves nothing behind; an upsert batch that
repeats stored keys replaces their values and inserts the new ones."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import IntegrityError

from hypersweep.records import NewTrial
from hypersweep.store import open_store
from hypersweep.store._sql._bulk import bulk_insert
from hypersweep.store._sql._models import MetricHistory

from .conftest import _sa_url, new_study

TABLE = MetricHistory.__table__
COLS = ("trial_id", "name", "step", "value")


def _setup(store_url: str) -> int:
    with open_store(store_url, create=True) as store:
        s = store.create_study(new_study())
        (t,) = store.create_trials(s.study_id, [NewTrial(params={"x": 1}, seed=0)])
    return t.trial_id


def _stored(conn, tid: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    q = select(TABLE.c.step, TABLE.c.value).where(TABLE.c.trial_id == tid).order_by(TABLE.c.step)
    return [tuple(r) for r in conn.execute(q)]


def test_a_bad_batch_raises_and_leaves_nothing(store_url: str, backend: str) -> None:
    tid = _setup(store_url)
    pg = backend == "postgresql"
    engine = create_engine(_sa_url(store_url))
    try:
        rows = [(tid, "loss", 0, 1.0)] * 2  # one key twice
        with pytest.raises(IntegrityError), engine.begin() as conn:
            bulk_insert(conn, pg, TABLE, COLS, [(tid, "loss", 9, 0.0)])
            bulk_insert(conn, pg, TABLE, COLS, rows)
        with engine.begin() as conn:  # rolled back as a whole; the pooled connection still works
            assert _stored(conn, tid) == []
            bulk_insert(conn, pg, TABLE, COLS, rows[:1])
            assert _stored(conn, tid) == [(0, 1.0)]
    finally:
        engine.dispose()


def test_an_upsert_batch_replaces_stored_keys_and_adds_new_ones(store_url: str, backend: str) -> None:
    tid = _setup(store_url)
    pg = backend == "postgresql"
    keys = COLS[:3]
    engine = create_engine(_sa_url(store_url))
    try:
        with engine.begin() as conn:
            bulk_insert(conn, pg, TABLE, COLS, [(tid, "loss", s, 1.0) for s in (0, 1)], keys)  # all new
            again = [(tid, "loss", 1, 0.5), (tid, "loss", 2, 0.5)]  # step 1 is stored already
            bulk_insert(conn, pg, TABLE, COLS, again, keys)
            assert _stored(conn, tid) == [(0, 1.0), (1, 0.5), (2, 0.5)]
            twice = [(tid, "loss", 3, 0.3), (tid, "loss", 3, 0.25), (tid, "loss", 0, 0.9)]  # repeats itself
            bulk_insert(conn, pg, TABLE, COLS, twice, keys)
            assert _stored(conn, tid) == [(0, 0.9), (1, 0.5), (2, 0.5), (3, 0.25)]
    finally:
        engine.dispose()
