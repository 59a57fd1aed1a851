"""The plain-SQL queries shown in docs/store.md answer their question on every backend, run through the
database's own driver (no hypersweep, no SQLAlchemy)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from hypersweep.records import EnvironmentRecord, MetricPoint, NewTrial, TrialOutcome, TrialState
from hypersweep.store import open_store

from .conftest import _sa_url, new_study

DOC = Path(__file__).parents[2] / "docs" / "store.md"


def doc_queries() -> dict[str, str]:
    """The ``-- plain-sql: NAME`` SQL blocks of docs/store.md."""
    blocks = re.findall(r"```sql\n-- plain-sql: (\w+)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return {name: sql.strip().rstrip(";") for name, sql in blocks}


def _fill(url: str) -> None:
    env = EnvironmentRecord(
        hash="9" * 64,
        python_version="3.11.7",
        python_implementation="CPython",
        os="Debian",
        kernel="Linux",
        cpu_model="EPYC",
        cpu_count=4,
        ml_packages={"numpy": "2.1.0", "torch": "2.5.1"},
        packages={"numpy": "2.1.0", "torch": "2.5.1"},
    )
    with open_store(url, create=True) as store:
        s = store.create_study(new_study("digits-svc"))
        other = store.create_study(new_study("other"))
        store.create_trials(other.study_id, [NewTrial(params={"C": -1.0}, seed=0) for _ in range(9)])
        trials = store.create_trials(
            s.study_id,
            [
                NewTrial(params={"C": float(i), "kernel": "rbf", "shrinking": i % 2 == 0}, seed=i)
                for i in range(9)
            ],
        )
        store.finish_trials(
            [
                TrialOutcome(
                    trial_id=t.trial_id,
                    state=TrialState.COMPLETE,
                    objective=i / 10,
                    metrics={"val_accuracy": i / 10, "fit_time": float(i)},
                    environment=env,
                )
                for i, t in enumerate(trials)
            ]
        )


def _run(url: str, sql: str) -> list[tuple]:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return [tuple(r) for r in conn.execute(sql)]
        finally:
            conn.close()
    import psycopg

    u = _sa_url(url)
    kwargs = {
        "host": u.host,
        "port": u.port,
        "user": u.username,
        "password": u.password,
        "dbname": u.database,
    }
    kwargs.update(dict(u.query))
    with psycopg.connect(**{k: v for k, v in kwargs.items() if v is not None}) as conn:
        return [tuple(r) for r in conn.execute(sql)]


def test_doc_has_the_queries() -> None:
    assert set(doc_queries()) == {"params", "metrics", "environment"}


def test_plain_sql_answers_which_params_metrics_and_versions(store_url: str) -> None:
    _fill(store_url)
    q = doc_queries()
    assert _run(store_url, q["params"]) == [
        ("C", 7.0, None),
        ("kernel", None, "rbf"),
        ("shrinking", 0.0, "false"),
    ]
    assert _run(store_url, q["metrics"]) == [("fit_time", 7.0), ("val_accuracy", 0.7)]
    ((impl, version, os_name, cuda, ml),) = _run(store_url, q["environment"])
    assert (impl, version, os_name, cuda) == ("CPython", "3.11.7", "Debian", None)
    assert (json.loads(ml) if isinstance(ml, str) else ml) == {"numpy": "2.1.0", "torch": "2.5.1"}


def test_child_rows_reference_live_trials_only(store_url: str) -> None:
    """params, metrics and history carry no declared foreign key (revision 0003): the store keeps the
    reference itself. Reports for an unknown or finished trial write nothing, and deleting a study
    leaves no row behind in any table."""
    with open_store(store_url, create=True) as store:
        keep = store.create_study(new_study("keep")).study_id
        gone = store.create_study(new_study("gone")).study_id
        kept = store.create_trials(keep, [NewTrial(params={"x": 1}, seed=0)])[0]
        doomed = store.create_trials(gone, [NewTrial(params={"x": i}, seed=i) for i in range(3)])
        store.add_reports(
            [(t.trial_id, MetricPoint("loss", s, 1.0 / (s + 1))) for t in [kept, *doomed] for s in range(4)]
        )
        store.finish_trials(
            [
                TrialOutcome(
                    trial_id=t.trial_id, state=TrialState.COMPLETE, objective=0.5, metrics={"acc": 0.5}
                )
                for t in [kept, doomed[0]]
            ]
        )
        unknown = max(t.trial_id for t in doomed) + 1000
        store.add_reports(
            [(unknown, MetricPoint("loss", 0, 1.0)), (kept.trial_id, MetricPoint("loss", 9, 0.0))]
        )
        store.delete_study(gone)
    counts = {
        table: _run(store_url, f"SELECT trial_id, count(*) FROM {table} GROUP BY trial_id ORDER BY trial_id")
        for table in ("trial_params", "metrics", "metric_history")
    }
    assert counts == {
        "trial_params": [(kept.trial_id, 1)],
        "metrics": [(kept.trial_id, 1)],
        "metric_history": [(kept.trial_id, 4)],  # step 9 came after it finished: not written
    }
