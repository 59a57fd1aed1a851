"""Store benchmark: how fast the driver records trials, and how fast the leaderboard's top-10 comes back.

Recording: N trials (10,000; quick: 1,000), each with 5 params, 3 final metrics and a 20-step history,
written through the ``Store`` API as the driver does (per batch of 100: ``create_trials``, one
``add_reports`` with the batch's history, one ``finish_trials``), by one writer (the median of 5 runs)
and by 4 writer processes at once (each its own study, one store). Query: top-10 by objective of one study of 10k and 100k trials
(quick: 1k and 10k), filled by bulk insert (the same ``create_trials``/``finish_trials`` calls with
batches of 5,000, no history); on PostgreSQL the database is ``ANALYZE``d after the fill (autovacuum
does so within a minute of a bulk load; before that the plans depend on whether it has run yet).

Peers, with the same data, when importable: Optuna's ``RDBStorage`` (one storage call per param,
intermediate value and attribute, as Optuna records a trial; top-10 = ``get_all_trials`` of complete
trials sorted by value, as Optuna offers no ranked query) and MLflow's SQL tracking store (``create_run``,
one ``log_batch`` per run, ``update_run_info``; top-10 = ``search_runs(order_by=..., max_results=10)``).
A peer whose recording would take over ~2 minutes at a size is measured at a smaller size and its rate
extrapolated; such rows say so.

Backends: SQLite (a temporary file) always; PostgreSQL too when ``HYPERSWEEP_BENCH_POSTGRES_URL`` or
``HYPERSWEEP_TEST_POSTGRES_URL`` is set (hypersweep only; a throwaway schema, dropped afterwards).

``python -m benchmarks.bench_store [--quick]`` prints the Markdown section.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._common import analyze, bench_study, pg_url
from hypersweep.records import MetricPoint, NewTrial, TrialOutcome, TrialState
from hypersweep.store import open_store

BATCH = 100
REPEAT = 5  # one-writer runs per backend; the median is reported (this VM varies ±20% run to run)
STEPS = 20
PEER_BUDGET_S = 120.0
TARGET_RATE = 1000.0
TARGET_TOP10_MS = 50.0


def _params(rng: random.Random) -> dict[str, Any]:
    return {
        "lr": 10 ** rng.uniform(-5, -1),
        "batch_size": rng.choice([16, 32, 64, 128]),
        "optimizer": rng.choice(["adam", "sgd", "rmsprop"]),
        "dropout": rng.uniform(0, 0.5),
        "layers": rng.randint(1, 8),
    }


# -- hypersweep -----------------------------------------------------------------------------------------
def _record(
    url: str, study_name: str, n: int, seed: int, history: bool = True, batch: int = BATCH
) -> tuple[float, float]:
    """Record ``n`` trials; returns (start, end) wall-clock times of the recording itself."""
    rng = random.Random(seed)
    store = open_store(url, create=True)
    try:
        sid = store.create_study(bench_study(study_name, "val_accuracy")).study_id
        start = time.time()
        for done in range(0, n, batch):
            k = min(batch, n - done)
            trials = store.create_trials(sid, [NewTrial(params=_params(rng), seed=i) for i in range(k)])
            if history:
                store.add_reports(
                    (t.trial_id, MetricPoint("val_loss", s, rng.random()))
                    for t in trials
                    for s in range(STEPS)
                )
            outs = []
            for t in trials:
                acc = rng.random()
                outs.append(
                    TrialOutcome(
                        trial_id=t.trial_id,
                        state=TrialState.COMPLETE,
                        objective=acc,
                        metrics={
                            "val_accuracy": acc,
                            "val_loss": rng.random(),
                            "train_time": rng.random() * 100,
                        },
                    )
                )
            store.finish_trials(outs)
        return start, time.time()
    finally:
        store.close()


def _record_worker(args: tuple[str, str, int, int]) -> tuple[float, float]:
    return _record(*args)


def _top10_ms(query: Callable[[], Any], repeat: int = 15) -> float:
    t = time.perf_counter()
    query()  # warm caches and the connection pool
    if time.perf_counter() - t > 2.0:  # a slow peer: one more run is enough
        repeat = 1
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        query()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench_hypersweep(url: str, n: int, query_sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # The median of REPEAT runs (each a study of its own): a shared VM's rate varies ~20% run to run.
    spans = sorted(e - s for s, e in (_record(url, f"one-writer-{i}", n, 1 + i) for i in range(REPEAT)))
    secs = spans[len(spans) // 2]
    rows.append(
        {
            "case": "record, 1 writer",
            "trials": n,
            "seconds": secs,
            "rate": n / secs,
            "runs": [n / x for x in spans],
        }
    )
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        spans = pool.map(_record_worker, [(url, f"writer-{w}", n // 4, 10 + w) for w in range(4)])
    wall = max(e for _, e in spans) - min(s for s, _ in spans)
    rows.append({"case": "record, 4 writer processes", "trials": n, "seconds": wall, "rate": n / wall})
    for size in query_sizes:
        name = f"query-{size}"
        _record(url, name, size, 99, history=False, batch=5000)
        if url.startswith("postgresql"):
            analyze(url)
        with open_store(url) as store:
            sid = store.get_study(name).study_id
            ms = _top10_ms(lambda sid=sid, store=store: store.top_trials([sid], limit=10))
        rows.append({"case": "top-10 by objective", "trials": size, "ms": ms})
    return rows


# -- Optuna RDBStorage ----------------------------------------------------------------------------------
def _optuna_record(storage: Any, n: int, rng: random.Random) -> None:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.trial import TrialState as OTS

    dists = {
        "lr": FloatDistribution(1e-5, 1e-1, log=True),
        "batch_size": CategoricalDistribution([16, 32, 64, 128]),
        "optimizer": CategoricalDistribution(["adam", "sgd", "rmsprop"]),
        "dropout": FloatDistribution(0, 0.5),
        "layers": IntDistribution(1, 8),
    }
    study_id = storage.create_new_study([optuna.study.StudyDirection.MAXIMIZE], f"s{uuid.uuid4().hex[:6]}")
    for _ in range(n):
        tid = storage.create_new_trial(study_id)
        for name, value in _params(rng).items():
            storage.set_trial_param(tid, name, dists[name].to_internal_repr(value), dists[name])
        for s in range(STEPS):
            storage.set_trial_intermediate_value(tid, s, rng.random())
        storage.set_trial_user_attr(tid, "val_loss", rng.random())
        storage.set_trial_user_attr(tid, "train_time", rng.random() * 100)
        storage.set_trial_state_values(tid, OTS.COMPLETE, [rng.random()])


def bench_optuna(workdir: Path, n: int, query_sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    import logging

    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    rows: list[dict[str, Any]] = []
    storage = optuna.storages.RDBStorage(f"sqlite:///{workdir / 'optuna.db'}")
    rng = random.Random(1)
    probe = min(n, 200)
    t = time.perf_counter()
    _optuna_record(storage, probe, rng)
    rate = probe / (time.perf_counter() - t)
    size = n if n / rate <= PEER_BUDGET_S else probe
    if size > probe:
        t = time.perf_counter()
        _optuna_record(storage, size, rng)
        rate = size / (time.perf_counter() - t)
    rows.append(
        {"case": "record, 1 writer", "trials": n, "rate": rate, "seconds": n / rate, "measured_at": size}
    )
    for qsize in query_sizes:
        sid = _optuna_bulk_fill(storage, qsize, rng)

        def top10(sid: int = sid) -> list[Any]:
            trials = storage.get_all_trials(sid, deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            return sorted(trials, key=lambda tr: (-tr.values[0], tr.number))[:10]

        rows.append({"case": "top-10 by objective", "trials": qsize, "ms": _top10_ms(top10, repeat=5)})
    return rows


def _optuna_bulk_fill(storage: Any, n: int, rng: random.Random) -> int:
    """Fill a study by bulk insert into Optuna's own tables."""
    import optuna
    from sqlalchemy import text

    study_id = storage.create_new_study([optuna.study.StudyDirection.MAXIMIZE], f"q{uuid.uuid4().hex[:6]}")
    engine = storage.engine
    with engine.begin() as conn:
        base = conn.execute(text("SELECT COALESCE(MAX(trial_id), 0) FROM trials")).scalar_one()
        now = "2025-01-01 00:00:00"
        conn.execute(
            text(
                "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete) "
                "VALUES (:id, :n, :s, 'COMPLETE', :t, :t)"
            ),
            [{"id": base + i + 1, "n": i, "s": study_id, "t": now} for i in range(n)],
        )
        conn.execute(
            text(
                "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (:id, 0, :v, 'FINITE')"
            ),
            [{"id": base + i + 1, "v": rng.random()} for i in range(n)],
        )
        dist = json.dumps(
            {"name": "FloatDistribution", "attributes": {"low": 0.0, "high": 1.0, "log": False, "step": None}}
        )
        conn.execute(
            text(
                "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES (:id, :p, :v, :d)"
            ),
            [
                {"id": base + i + 1, "p": p, "v": rng.random(), "d": dist}
                for i in range(n)
                for p in ("a", "b", "c", "d", "e")
            ],
        )
    return study_id


# -- MLflow ---------------------------------------------------------------------------------------------
def bench_mlflow(workdir: Path, n: int, query_sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    import logging

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from mlflow.entities import Metric, Param, RunStatus
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{workdir / 'mlflow.db'}", str(workdir / "mlruns"))
    rng = random.Random(1)

    def record(exp: str, count: int, history: bool = True) -> tuple[str, float]:
        exp_id = store.create_experiment(exp)
        t = time.perf_counter()
        for _ in range(count):
            ms = int(time.time() * 1000)
            run = store.create_run(exp_id, "bench", ms, [], None)
            rid = run.info.run_id
            acc = rng.random()
            metrics = [Metric("val_accuracy", acc, ms, 0), Metric("val_loss", rng.random(), ms, 0)]
            metrics.append(Metric("train_time", rng.random() * 100, ms, 0))
            if history:
                metrics += [Metric("val_loss_step", rng.random(), ms, s) for s in range(STEPS)]
            params = [Param(k, str(v)) for k, v in _params(rng).items()]
            store.log_batch(rid, metrics=metrics, params=params, tags=[])
            store.update_run_info(rid, RunStatus.FINISHED, ms, None)
        return exp_id, time.perf_counter() - t

    rows: list[dict[str, Any]] = []
    probe = min(n, 200)
    _, secs = record("probe", probe)
    rate = probe / secs
    size = n if n / rate <= PEER_BUDGET_S else probe
    if size > probe:
        _, secs = record("record", size)
        rate = size / secs
    rows.append(
        {"case": "record, 1 writer", "trials": n, "rate": rate, "seconds": n / rate, "measured_at": size}
    )
    for qsize in query_sizes:
        fill = qsize if qsize / (rate * 1.5) <= PEER_BUDGET_S else max(probe, int(rate * PEER_BUDGET_S / 2))
        exp_id, _ = record(f"query-{qsize}", fill, history=False)
        from mlflow.entities import ViewType

        def top10(exp_id: str = exp_id) -> Any:
            return store.search_runs(
                [exp_id], "", ViewType.ACTIVE_ONLY, 10, ["metrics.val_accuracy DESC"], None
            )

        rows.append(
            {
                "case": "top-10 by objective",
                "trials": qsize,
                "ms": _top10_ms(top10, repeat=5),
                "measured_at": fill,
            }
        )
    return rows


# -- entry points ---------------------------------------------------------------------------------------
def _pg_schema(url: str, schema: str, drop: bool) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    engine = create_engine(u)
    with engine.begin() as conn:
        conn.execute(
            text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' if drop else f'CREATE SCHEMA "{schema}"')
        )
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def run(quick: bool = False) -> dict[str, Any]:
    """Run the benchmark; JSON-able results."""
    n = 1_000 if quick else 10_000
    sizes = (1_000, 10_000) if quick else (10_000, 100_000)
    results: dict[str, Any] = {"trials": n, "query_sizes": list(sizes), "quick": quick, "systems": {}}
    with tempfile.TemporaryDirectory(prefix="hs-bench-") as tmp:
        work = Path(tmp)
        results["systems"]["hypersweep (SQLite)"] = bench_hypersweep(f"sqlite:///{work / 'hs.db'}", n, sizes)
        pg = pg_url()
        if pg:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            try:
                url = _pg_schema(pg, schema, drop=False)
                results["systems"]["hypersweep (PostgreSQL)"] = bench_hypersweep(url, n, sizes)
            finally:
                _pg_schema(pg, schema, drop=True)
        for name, fn in (
            ("Optuna RDBStorage (SQLite)", bench_optuna),
            ("MLflow tracking store (SQLite)", bench_mlflow),
        ):
            try:
                results["systems"][name] = fn(work, n, sizes)
            except ImportError as e:
                results["systems"][name] = [{"case": "skipped", "note": f"not installed: {e.name}"}]
            except Exception as e:  # a peer's failure must not lose the other measurements
                results["systems"][name] = [
                    {"case": "skipped", "note": f"failed: {type(e).__name__}: {e}"[:200]}
                ]
    return results


def render(results: dict[str, Any]) -> str:
    """A Markdown section with one table of every measurement."""
    lines = [
        "## Store: recording trials and the top-10 query",
        "",
        f"{results['trials']:,} trials, each with 5 params, 3 final metrics and a {STEPS}-step history, "
        f"recorded in batches of {BATCH} (one writer: the median of {REPEAT} runs); top-10 by objective of one study, median of repeated queries "
        "(PostgreSQL: after `ANALYZE` of the bulk-loaded study). "
        f"Targets: ≥{TARGET_RATE:,.0f} trials/s recorded, top-10 under {TARGET_TOP10_MS:.0f} ms at 100k trials.",
        "",
        "| system | case | trials | trials/s | time | note |",
        "|---|---|---:|---:|---:|---|",
    ]
    for system, rows in results["systems"].items():
        for r in rows:
            if r["case"] == "skipped":
                lines.append(f"| {system} | skipped | | | | {r['note']} |")
                continue
            note = ""
            if r.get("measured_at") is not None and r["measured_at"] != r["trials"]:
                note = (
                    f"measured at {r['measured_at']:,}, extrapolated"
                    if "rate" in r
                    else f"measured at {r['measured_at']:,} trials"
                )
            rate = f"{r['rate']:,.0f}" if "rate" in r else ""
            took = f"{r['seconds']:.1f} s" if "seconds" in r else f"{r['ms']:.1f} ms"
            lines.append(f"| {system} | {r['case']} | {r['trials']:,} | {rate} | {took} | {note} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "store.json").write_text(json.dumps(res, indent=2))
    print(render(res))
