"""What a transaction leaves behind when it rolls back, and how many transactions and statements the
batch reads cost, on every backend (statements are counted with SQLAlchemy's event listeners on the
store's own engine)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, text

from hypersweep.errors import StoreError
from hypersweep.records import MetricPoint, TrialOutcome, TrialState
from hypersweep.store import Store, open_store

from .conftest import _sa_url, new_study
from .test_contract import ENV, _complete, _trials


@contextmanager
def _failing_inserts(store_url: str, table: str) -> Iterator[None]:
    """A trigger makes every insert into ``table`` fail while the block runs (the database refuses the
    row, so the writing transaction rolls back)."""
    admin = create_engine(_sa_url(store_url))
    sqlite = store_url.startswith("sqlite")
    with admin.begin() as conn:
        if sqlite:
            conn.execute(
                text(
                    f"CREATE TRIGGER hs_fail BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION hs_fail() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER hs_fail BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION hs_fail()"
                )
            )
    try:
        yield
    finally:
        with admin.begin() as conn:
            conn.execute(text("DROP TRIGGER hs_fail" if sqlite else f"DROP TRIGGER hs_fail ON {table}"))
        admin.dispose()


def test_environment_of_a_rolled_back_write_is_written_again(store: Store, store_url: str) -> None:
    """finish_trials inserts the trial's environment, then a later statement of the same transaction
    fails: the environment row is rolled back with it, so the retry must insert it again (before the
    fix its id stayed cached and the retry wrote a dangling ``environment_id``: a foreign-key error)."""
    s = store.create_study(new_study())
    (t, other) = _trials(store, s.study_id, 2)
    outcome = _complete(t.trial_id, 0.5, environment=ENV)
    with _failing_inserts(store_url, "metrics"), pytest.raises(StoreError, match="refused"):
        store.finish_trials([outcome])
    assert store.get_trial_by_id(t.trial_id).state is TrialState.RUNNING  # nothing of it was kept
    assert store.finish_trials([outcome]) == []
    done = store.get_trial_by_id(t.trial_id)
    assert done.state is TrialState.COMPLETE and done.environment_id is not None
    assert store.get_environment(done.environment_id) == ENV
    store.finish_trials([_complete(other.trial_id, 0.1, environment=ENV)])  # cached now: same row
    assert store.get_trial_by_id(other.trial_id).environment_id == done.environment_id


@contextmanager
def _counting(store: Store) -> Iterator[dict[str, int]]:
    """Counts the statements (queries and writes) and transactions the store runs on its engine while the
    block runs."""
    counts = {"statements": 0, "transactions": 0}
    engine = store._engine  # type: ignore[attr-defined]

    def on_statement(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN is a statement of its own
            counts["statements"] += 1

    def on_begin(*_: object) -> None:
        counts["transactions"] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "begin", on_begin)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "begin", on_begin)


def _finished_with_history(store: Store, study_id: int, n: int, steps: int = 3) -> list[int]:
    trials = _trials(store, study_id, n)
    outcomes = [
        TrialOutcome(
            trial_id=t.trial_id,
            state=TrialState.PRUNED if i % 2 else TrialState.COMPLETE,
            objective=float(i),
            metrics={"val_accuracy": float(i)},
            history=tuple(MetricPoint("val_accuracy", step, float(i + step)) for step in range(steps)),
        )
        for i, t in enumerate(trials)
    ]
    store.finish_trials(outcomes)
    return [t.trial_id for t in trials]


def test_histories_of_many_trials_in_one_read(store: Store) -> None:
    s = store.create_study(new_study())
    ids = _finished_with_history(store, s.study_id, 40)
    (empty,) = _trials(store, s.study_id, 1)
    with _counting(store) as counts:
        histories = store.get_histories([*ids, empty.trial_id])
    assert counts == {"statements": 1, "transactions": 1}
    assert histories[empty.trial_id] == []
    for i, tid in enumerate(ids):
        assert histories[tid] == store.get_history(tid)
        assert [(p.step, p.value) for p in histories[tid]] == [(step, float(i + step)) for step in range(3)]
    assert store.get_histories([]) == {}


def test_study_summaries_in_a_fixed_number_of_reads(store: Store) -> None:
    """Counts and best objectives of every study cost the same few statements for 2 studies as for 6."""
    from hypersweep.records import Direction

    def cost() -> dict[str, int]:
        with _counting(store) as counts:
            ids = [s.study_id for s in store.list_studies()]
            store.studies_counts(ids)
            store.best_objectives(ids)
        return counts

    for k in range(6):
        direction = Direction.MINIMIZE if k % 2 else Direction.MAXIMIZE
        s = store.create_study(new_study(f"s{k}", direction=direction))
        _finished_with_history(store, s.study_id, 3 + k, steps=1)
        if k == 1:
            few = cost()
    assert cost() == few
    studies = {s.name: s.study_id for s in store.list_studies()}
    counts = store.studies_counts(list(studies.values()))
    best = store.best_objectives(list(studies.values()))
    for k in range(6):
        sid = studies[f"s{k}"]
        assert counts[sid] == store.study_counts(sid)
        complete = [float(i) for i in range(3 + k) if i % 2 == 0]
        assert best[sid] == (min(complete) if k % 2 else max(complete))


def test_history_and_summaries_across_store_instances(store_url: str) -> None:
    with open_store(store_url, create=True) as a, open_store(store_url) as b:
        s = a.create_study(new_study())
        ids = _finished_with_history(a, s.study_id, 3)
        assert b.get_histories(ids) == {i: a.get_history(i) for i in ids}
        assert b.best_objectives([s.study_id, 987654]) == {s.study_id: 2.0, 987654: None}


def test_studies_listing_costs_the_same_for_any_number_of_studies(store: Store) -> None:
    """``hypersweep studies`` reads every study's counts and best objective in one query each (before:
    two reads per study, each in its own transaction)."""
    from hypersweep.query._rows import study_rows

    def cost() -> dict[str, int]:
        with _counting(store) as counts:
            rows = study_rows(store)
        assert len(rows) == len(store.list_studies())
        return counts

    for k in range(5):
        s = store.create_study(new_study(f"s{k}"))
        _finished_with_history(store, s.study_id, 2 + k, steps=1)
        if k == 1:
            two = cost()
    assert cost() == two
    rows = {r["name"]: r for r in study_rows(store)}
    assert rows["s4"]["best_objective"] == 4.0 and rows["s4"]["trials_pruned"] == 3
    assert rows["s0"]["trials_complete"] == 1 and rows["s0"]["best_objective"] == 0.0
