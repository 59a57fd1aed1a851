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
        rows = [{"trial_id": tid, "name": "loss", "step": 0, "value": 1.0}] * 2  # one key twice
        with pytest.raises(IntegrityError), engine.begin() as conn:
            bulk_insert(conn, pg, TABLE, [{"trial_id": tid, "name": "loss", "step": 9, "value": 0.0}])
            bulk_insert(conn, pg, TABLE, rows)
        with engine.begin() as conn:  # rolled back as a whole; the pooled connection still works
            assert _stored(conn, tid) == []
            bulk_insert(conn, pg, TABLE, rows[:1])
            assert _stored(conn, tid) == [(0, 1.0)]
    finally:
        engine.dispose()


def test_an_upsert_batch_replaces_stored_keys_and_adds_new_ones(store_url: str, backend: str) -> None:
    tid = _setup(store_url)
    pg = backend == "postgresql"
    keys = ("trial_id", "name", "step")
    engine = create_engine(_sa_url(store_url))
    try:
        with engine.begin() as conn:
            first = [{"trial_id": tid, "name": "loss", "step": s, "value": 1.0} for s in (0, 1)]
            bulk_insert(conn, pg, TABLE, first, keys)  # all new
            again = [{"trial_id": tid, "name": "loss", "step": s, "value": 0.5} for s in (1, 2)]
            bulk_insert(conn, pg, TABLE, again, keys)  # step 1 is stored already
            assert _stored(conn, tid) == [(0, 1.0), (1, 0.5), (2, 0.5)]
    finally:
        engine.dispose()
