"""Schema revisions: the Alembic scripts, the models and the stores made by released revisions agree."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hypersweep.errors import SchemaVersionError
from hypersweep.records import Direction, NewTrial, StudyStatus, TrialKind, TrialState
from hypersweep.store import open_store, upgrade_store
from hypersweep.store._sql import _engine
from hypersweep.store._sql._models import Base

from .conftest import _sa_url

ASSETS = Path(__file__).parents[1] / "data" / "stores"

# One row per released revision: a store made by that release (tests/data/stores/make_store_asset.py).
# A new revision adds its row; the data each asset holds is the same, so one check reads them all.
RELEASED_STORES = [
    ("0001", "rev0001.db"),
    ("0002", "rev0002.db"),
    ("0003", "rev0003.db"),
    ("0004", "rev0004.db"),
    ("0005", "rev0005.db"),
    ("0006", "rev0006.db"),
]


def _script_revisions() -> list[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(_engine.MIGRATIONS_DIR))
    return [s.revision for s in reversed(list(ScriptDirectory.from_config(cfg).walk_revisions()))]


def test_known_revisions_match_alembic_scripts() -> None:
    assert tuple(_script_revisions()) == _engine.KNOWN_REVISIONS
    assert _engine.KNOWN_REVISIONS[-1] == _engine.HEAD_REVISION
    assert [rev for rev, _ in RELEASED_STORES] == list(_engine.KNOWN_REVISIONS)


def test_models_match_head(store_url: str) -> None:
    """The declarative models and the migrations (run from an empty database) describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    _migrate_from_scratch(store_url)
    engine = create_engine(_sa_url(store_url))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(ctx, Base.metadata) if not _is_version_table(d)]
    engine.dispose()
    assert diff == []


def _migrate_from_scratch(url: str) -> None:
    """Every revision in turn, from an empty database (``db upgrade`` wants a SQLite file to exist)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).touch()
    assert upgrade_store(url) == (None, _engine.HEAD_REVISION)


def _schema(url: str) -> dict[str, object]:
    """Everything the database says about its tables: columns, keys, indexes, constraints, and the
    version rows."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(_sa_url(url))
    insp = inspect(engine)
    out: dict[str, object] = {}
    for t in sorted(insp.get_table_names()):
        out[t] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")), c.get("autoincrement"))
                for c in insp.get_columns(t)
            ],
            "pk": (insp.get_pk_constraint(t).get("name"), insp.get_pk_constraint(t)["constrained_columns"]),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)),
            "foreign_keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(t)
            ),
        }
    with engine.connect() as conn:
        out["versions"] = sorted(r for (r,) in conn.execute(text(f"SELECT * FROM {_engine.VERSION_TABLE}")))
    engine.dispose()
    return out


def test_a_new_store_has_the_schema_the_migrations_build(store_url: str, request, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A new store is built at head at once (the models' tables, then the version row) instead of by
    running every revision; it is the same database, and Alembic reads it as head."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from .conftest import fresh_pg_schema

    open_store(store_url, create=True).close()
    if store_url.startswith("sqlite"):
        migrated = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        migrated = fresh_pg_schema(request.getfixturevalue("pg_database"))
    _migrate_from_scratch(migrated)
    assert _schema(store_url) == _schema(migrated)
    engine = create_engine(_sa_url(store_url))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": _engine.VERSION_TABLE})
        assert ctx.get_current_heads() == (_engine.HEAD_REVISION,)
    engine.dispose()
    cfg = Config()
    cfg.set_main_option("script_location", str(_engine.MIGRATIONS_DIR))
    cfg.set_main_option(
        "sqlalchemy.url", _sa_url(store_url).render_as_string(hide_password=False).replace("%", "%%")
    )
    command.upgrade(cfg, "head")  # nothing to do
    assert _schema(store_url) == _schema(migrated)


def _is_version_table(diff: object) -> bool:
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == _engine.VERSION_TABLE


def test_downgrade_and_upgrade_roundtrip(store_url: str) -> None:
    """Every revision goes down and up again on both backends, a filled store keeping its rows."""
    from alembic import command
    from alembic.config import Config

    from hypersweep.records import MetricPoint

    from .conftest import new_study

    with open_store(store_url, create=True) as store:
        sid = store.create_study(new_study()).study_id
        (trial,) = store.create_trials(sid, [NewTrial(params={"C": 1.0}, seed=1)])
        store.add_reports([(trial.trial_id, MetricPoint("loss", 0, 0.5))])
    cfg = Config()
    cfg.set_main_option("script_location", str(_engine.MIGRATIONS_DIR))
    cfg.set_main_option(
        "sqlalchemy.url", _sa_url(store_url).render_as_string(hide_password=False).replace("%", "%%")
    )
    command.downgrade(cfg, _engine.KNOWN_REVISIONS[-2])
    with pytest.raises(SchemaVersionError):
        open_store(store_url)
    assert upgrade_store(store_url) == (_engine.KNOWN_REVISIONS[-2], _engine.HEAD_REVISION)
    with open_store(store_url) as store:
        assert store.get_trial_by_id(trial.trial_id).params == {"C": 1.0}
        assert [(p.step, p.value) for p in store.get_history(trial.trial_id)] == [(0, 0.5)]
    command.downgrade(cfg, "base")
    assert upgrade_store(store_url) == (None, _engine.HEAD_REVISION)
    open_store(store_url).close()


@pytest.mark.parametrize(("revision", "filename"), RELEASED_STORES)
def test_released_store_opens_and_reads_back(revision: str, filename: str, tmp_path: Path) -> None:
    path = tmp_path / filename
    shutil.copy(ASSETS / filename, path)
    url = f"sqlite:///{path}"
    if revision != _engine.HEAD_REVISION:
        with pytest.raises(SchemaVersionError, match="hypersweep db upgrade"):
            open_store(url)
        assert upgrade_store(url) == (revision, _engine.HEAD_REVISION)
    with open_store(url) as store:
        study = store.get_study("digits-svc")
        assert (study.strategy, study.direction, study.seed, study.status) == (
            "tpe",
            Direction.MAXIMIZE,
            42,
            StudyStatus.FINISHED,
        )
        assert study.tags == {"team": "vision"} and study.git_commit == "c" * 40
        trials = store.get_trials(study.study_id, include_reruns=True)
        assert [(t.number, t.state, t.kind) for t in trials] == [
            (0, TrialState.COMPLETE, TrialKind.SWEEP),
            (1, TrialState.FAILED, TrialKind.SWEEP),
            (None, TrialState.RUNNING, TrialKind.RERUN),
        ]
        best = trials[0]
        assert best.params == {"C": 1.0, "kernel": "rbf", "shrinking": True}
        assert best.metrics == {"val_accuracy": 0.97, "train_time": 1.5} and best.objective == 0.97
        assert best.started_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC) and best.duration_s == 30
        assert [(p.step, p.value) for p in store.get_history(best.trial_id)] == [(0, 0.9), (1, 0.97)]
        env = store.get_environment(best.environment_id)
        assert env.cuda_version == "12.4" and env.gpus[0]["name"] == "NVIDIA A100"
        assert [a.name for a in store.get_artifacts(best.trial_id)] == ["model.pkl"]
        assert trials[1].error == "ValueError: degree" and trials[2].retry_of == best.trial_id
        assert [t.number for t in store.top_trials([study.study_id])] == [0]


def test_upgrade_from_0003_backfills_values_directions_and_cursor(tmp_path: Path) -> None:
    """0004: ``values = [objective]``, ``directions = [direction]``, no feasibility or end reason, and a
    change cursor past every existing row (a first poll returns them all, a second nothing)."""
    path = tmp_path / "rev0003.db"
    shutil.copy(ASSETS / "rev0003.db", path)
    url = f"sqlite:///{path}"
    assert upgrade_store(url) == ("0003", _engine.HEAD_REVISION)
    with open_store(url) as store:
        study = store.get_study("digits-svc")
        assert study.directions == (Direction.MAXIMIZE,) and study.end_reason is None
        trials = store.get_trials(study.study_id, include_reruns=True)
        assert [t.values for t in trials] == [(0.97,), (), ()]
        assert [t.objective for t in trials] == [0.97, None, None]
        assert [t.feasible for t in trials] == [None, None, None]
        changed, cursor = store.trials_changed_since(study.study_id, 0)
        assert sorted(t.trial_id for t in changed) == sorted(t.trial_id for t in trials)
        assert cursor == max(t.trial_id for t in trials)
        assert store.trials_changed_since(study.study_id, cursor) == ([], cursor)
        (new,) = store.create_trials(study.study_id, [NewTrial(params={"C": 2.0}, seed=3)])
        changed, after = store.trials_changed_since(study.study_id, cursor)
        assert [t.trial_id for t in changed] == [new.trial_id] and after > cursor


def test_upgrade_from_0004_widens_history_steps(store_url: str) -> None:
    """0005: a step past 2**31 (PostgreSQL's INTEGER) is stored after the upgrade; on SQLite the table is
    the same before and after."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, inspect

    from hypersweep.records import MetricPoint

    from .conftest import new_study

    with open_store(store_url, create=True) as store:
        sid = store.create_study(new_study()).study_id
        (trial,) = store.create_trials(sid, [NewTrial(params={"C": 1.0}, seed=1)])
        store.add_reports([(trial.trial_id, MetricPoint("loss", 7, 0.5))])
    cfg = Config()
    cfg.set_main_option("script_location", str(_engine.MIGRATIONS_DIR))
    cfg.set_main_option(
        "sqlalchemy.url", _sa_url(store_url).render_as_string(hide_password=False).replace("%", "%%")
    )

    def step_type() -> str:
        engine = create_engine(_sa_url(store_url))
        try:
            cols = {c["name"]: c["type"] for c in inspect(engine).get_columns("metric_history")}
            return str(cols["step"]).upper()
        finally:
            engine.dispose()

    command.downgrade(cfg, "0004")
    before = step_type()
    assert upgrade_store(store_url) == ("0004", _engine.HEAD_REVISION)
    after = step_type()
    assert (before, after) == (
        ("INTEGER", "INTEGER") if store_url.startswith("sqlite") else ("INTEGER", "BIGINT")
    )
    with open_store(store_url) as store:
        store.add_reports([(trial.trial_id, MetricPoint("loss", 3_000_000_000, 0.25))])
        assert [(p.step, p.value) for p in store.get_history(trial.trial_id)] == [
            (7, 0.5),
            (3_000_000_000, 0.25),
        ]


def test_upgrade_from_0005_adds_the_covering_trial_indexes(store_url: str) -> None:
    """0006: the reads of a large study (state counts, best, history, totals) are answered from indexes
    that cover them; the data is the same before and after."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, inspect

    from .conftest import new_study

    with open_store(store_url, create=True) as store:
        sid = store.create_study(new_study()).study_id
        store.create_trials(sid, [NewTrial(params={"C": float(i)}, seed=i) for i in range(3)])
    cfg = Config()
    cfg.set_main_option("script_location", str(_engine.MIGRATIONS_DIR))
    cfg.set_main_option(
        "sqlalchemy.url", _sa_url(store_url).render_as_string(hide_password=False).replace("%", "%%")
    )

    def indexes() -> set[str]:
        engine = create_engine(_sa_url(store_url))
        try:
            return {ix["name"] for ix in inspect(engine).get_indexes("trials")}
        finally:
            engine.dispose()

    command.downgrade(cfg, "0005")
    assert "ix_trials_study_state_objective" in indexes()
    assert upgrade_store(store_url) == ("0005", _engine.HEAD_REVISION)
    after = indexes()
    assert {
        "ix_trials_study_kind_state_objective",
        "ix_trials_study_kind_number",
        "ix_trials_retry_of",
    } <= after
    assert "ix_trials_study_state_objective" not in after
    with open_store(store_url) as store:
        assert store.study_counts(sid)[TrialState.RUNNING] == 3
    if store_url.startswith("sqlite"):  # the plans read the indexes only
        import sqlite3

        con = sqlite3.connect(store_url.removeprefix("sqlite:///").partition("?")[0])
        try:
            for sql in (
                "SELECT state, count(*) FROM trials WHERE study_id = 1 AND kind = 'sweep' GROUP BY state",
                "SELECT min(started_at), sum(duration_s) FROM trials WHERE study_id = 1 AND kind = 'sweep'",
            ):
                plan = " ".join(row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql))
                assert "COVERING INDEX" in plan, (sql, plan)
        finally:
            con.close()
