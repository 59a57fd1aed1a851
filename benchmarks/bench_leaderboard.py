"""Leaderboard latency: top 10 across 3 studies, with and without a filter, hypersweep vs MLflow ``search_runs``.

Data: 3 studies (MLflow: 3 experiments) that together hold 1k, 10k and 100k complete trials (``--quick``: 1k
and 10k); the same stores grow from one size to the next. Every trial has 4 params (``x`` uniform in [0, 1),
``lr`` log-uniform, ``optimizer`` one of adam/sgd/rmsprop, ``layers`` 1..8) and 3 final metrics (``m1``, the
objective, maximised; ``m2``; ``m3``). Both systems get exactly the same values, filled by bulk insert:

- hypersweep: the store's own ``create_trials`` + ``finish_trials`` in batches of 5,000
  (``hypersweep.store.open_store(url, create=True)``);
- MLflow: its SQLite schema made by its own ``SqlAlchemyStore``, experiments made through it, then multi-row
  inserts into ``runs``, ``params``, ``metrics`` and ``latest_metrics`` through SQLAlchemy (one row per metric,
  step 0, as ``log_batch`` writes them). Every query's top-10 objective values are checked to be equal in both
  systems, so the data and the filters are the same.

Queries (each the median of several repetitions on a warm connection, after one warm-up call):

- hypersweep ``leaderboard_rows(st, ["lb-*"], top=10, where=...)`` (a glob over the 3 studies, ranked by
  the shared objective); also timed including ``store.opened`` of the store, as one CLI call does;
- MLflow ``MlflowClient.search_runs([3 experiments], filter_string, order_by=["metrics.m1 DESC"],
  max_results=10)``.

Filters: none; ``params.optimizer = 'adam' and metrics.m2 > 0.1`` (both systems); and the numeric
``params.x < 0.5 and metrics.m2 > 0.1`` (hypersweep only: MLflow stores params as strings and accepts only
``=``, ``!=``, ``LIKE`` and ``ILIKE`` on them).

Backends: SQLite (a temporary file) always; PostgreSQL too when ``HYPERSWEEP_BENCH_POSTGRES_URL`` or
``HYPERSWEEP_TEST_POSTGRES_URL`` is set: a throwaway database (or, without CREATEDB, a throwaway schema) per
system, dropped at the end. Targets: hypersweep under 50 ms at 100k trials, growing sub-linearly, at least
10x faster than MLflow.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import analyze, bench_study, pg_url

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
STUDIES = ("lb-a", "lb-b", "lb-c")
GLOB = "lb-*"
BATCH = 5_000
REPEAT = 15
SLOW_REPEAT = 3
SLOW_S = 0.5
VERY_SLOW_S = 5.0
PEER_QUERY_BUDGET_S = 15.0  # a peer's query predicted (linearly) slower than this is extrapolated instead
TARGET_MS = 50.0
TARGET_VS_MLFLOW = 10.0
OPTIMIZERS = ("adam", "sgd", "rmsprop")

NO_FILTER = "none"
FILTER_EQ = "params.optimizer = 'adam' and metrics.m2 > 0.1"
FILTER_NUM = "params.x < 0.5 and metrics.m2 > 0.1"
FILTERS = (NO_FILTER, FILTER_EQ, FILTER_NUM)
MLFLOW_FILTERS = (NO_FILTER, FILTER_EQ)


@dataclass(frozen=True)
class Trial:
    study: int
    params: dict[str, Any]
    metrics: dict[str, float]


def _trials(rng: random.Random, start: int, n: int) -> list[Trial]:
    """Trials ``start .. start+n-1`` of the whole data set, dealt round-robin to the 3 studies."""
    out = []
    for i in range(start, start + n):
        params = {
            "x": rng.random(),
            "lr": 10 ** rng.uniform(-5, -1),
            "optimizer": rng.choice(OPTIMIZERS),
            "layers": rng.randint(1, 8),
        }
        metrics = {"m1": rng.random(), "m2": rng.random(), "m3": rng.random() * 100}
        out.append(Trial(i % len(STUDIES), params, metrics))
    return out


def _median_ms(query: Callable[[], Any], repeat: int = REPEAT) -> tuple[float, int]:
    """Median wall time (ms) of ``query`` after a warm-up call, and how many repetitions it took."""
    t = time.perf_counter()
    query()
    first = time.perf_counter() - t
    if first > VERY_SLOW_S:
        repeat = 1
    elif first > SLOW_S:
        repeat = SLOW_REPEAT
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        query()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), repeat


# -- hypersweep -----------------------------------------------------------------------------------------
class HypersweepSystem:
    name = "hypersweep"

    def __init__(self, url: str) -> None:
        from hypersweep.store import open_store

        self.url = url
        self.store = open_store(url, create=True)
        self.ids = [self.store.create_study(bench_study(name, "m1")).study_id for name in STUDIES]

    def fill(self, trials: list[Trial]) -> None:
        from hypersweep.records import NewTrial, TrialOutcome, TrialState

        for s, sid in enumerate(self.ids):
            mine = [t for t in trials if t.study == s]
            for i in range(0, len(mine), BATCH):
                chunk = mine[i : i + BATCH]
                made = self.store.create_trials(sid, [NewTrial(params=t.params, seed=0) for t in chunk])
                self.store.finish_trials(
                    [
                        TrialOutcome(
                            trial_id=rec.trial_id,
                            state=TrialState.COMPLETE,
                            objective=t.metrics["m1"],
                            metrics=t.metrics,
                        )
                        for rec, t in zip(made, chunk, strict=True)
                    ]
                )

    def query(self, where: str | None) -> list[float]:
        from hypersweep.query import leaderboard_rows

        rows = leaderboard_rows(self.store, [GLOB], top=10, where=where)
        return [r["objective"] for r in rows]

    def query_cold(self, where: str | None) -> list[float]:
        """As one CLI call: open the store, query, close."""
        from hypersweep.query import leaderboard_rows
        from hypersweep.store import opened

        with opened(self.url) as st:
            rows = leaderboard_rows(st, [GLOB], top=10, where=where)
        return [r["objective"] for r in rows]

    def analyze(self) -> None:
        analyze(self.url)

    def close(self) -> None:
        self.store.close()


# -- MLflow ---------------------------------------------------------------------------------------------
class MlflowSystem:
    name = "MLflow"

    def __init__(self, url: str, artifacts: str) -> None:
        import logging

        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
        from mlflow.tracking import MlflowClient

        self.store = SqlAlchemyStore(url, artifacts)  # creates MLflow's schema
        self.ids = [self.store.create_experiment(name) for name in STUDIES]
        self.locations = [self.store.get_experiment(i).artifact_location for i in self.ids]
        self.client = MlflowClient(tracking_uri=url)

    def fill(self, trials: list[Trial]) -> None:
        now = int(time.time() * 1000)
        runs, params, metrics = [], [], []
        for t in trials:
            rid = uuid.uuid4().hex
            exp = int(self.ids[t.study])
            runs.append(
                (rid, f"run-{rid[:8]}", "LOCAL", "bench", "", "bench", "FINISHED", now, now, "", "active")
                + (f"{self.locations[t.study]}/{rid}/artifacts", exp)
            )
            params += [(k, str(v), rid) for k, v in t.params.items()]
            metrics += [(k, v, now, rid, 0, False) for k, v in t.metrics.items()]
        with self.store.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, "
                "status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
                f"VALUES ({self._marks(13)})",
                runs,
            )
            conn.exec_driver_sql(
                f"INSERT INTO params (key, value, run_uuid) VALUES ({self._marks(3)})", params
            )
            for table in ("metrics", "latest_metrics"):
                conn.exec_driver_sql(
                    f"INSERT INTO {table} (key, value, timestamp, run_uuid, step, is_nan) "
                    f"VALUES ({self._marks(6)})",
                    metrics,
                )

    def _marks(self, n: int) -> str:
        """``n`` positional placeholders in the driver's own style (``?`` for sqlite3, ``%s`` for psycopg)."""
        mark = "?" if self.store.engine.dialect.paramstyle == "qmark" else "%s"
        return ", ".join([mark] * n)

    def query(self, where: str | None) -> list[float]:
        runs = self.client.search_runs(
            self.ids, filter_string=where or "", order_by=["metrics.m1 DESC"], max_results=10
        )
        return [r.data.metrics["m1"] for r in runs]

    def analyze(self) -> None:
        with self.store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")

    def close(self) -> None:
        self.store.engine.dispose()


# -- PostgreSQL -----------------------------------------------------------------------------------------
@contextmanager
def _pg_throwaway(base: str, label: str) -> Iterator[str]:
    """A URL to a new, empty database (or, without CREATEDB, schema) on ``base``'s server, dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(base)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    name = f"hs_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(u, isolation_level="AUTOCOMMIT")
    kind = "database"
    try:
        with admin.connect() as conn:
            try:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                url = u.set(database=name)
            except Exception:  # no CREATEDB: a schema in the given database instead
                kind = "schema"
                conn.execute(text(f'CREATE SCHEMA "{name}"'))
                url = u.update_query_dict({"options": f"-csearch_path={name}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            import gc

            gc.collect()  # connection pools of the systems above
            drop = (
                f'DROP DATABASE IF EXISTS "{name}"'
                if kind == "database"
                else f'DROP SCHEMA IF EXISTS "{name}" CASCADE'
            )
            try:
                with admin.connect() as conn:
                    conn.execute(text(drop))
            except Exception as e:  # a peer's pool still connected: the measurements must not be lost
                print(
                    f"   could not drop {kind} {name} ({type(e).__name__}); drop it by hand", file=sys.stderr
                )
    finally:
        admin.dispose()


# -- running --------------------------------------------------------------------------------------------
def _extrapolate(prior: list[dict[str, Any]], size: int) -> dict[str, Any] | None:
    """A row for ``size`` extrapolated from the measured rows before it, when the last one predicts (at
    linear growth) a query over the budget: ms ~ trials^k with the measured k (at least 1)."""
    measured = [r for r in prior if not r.get("extrapolated")]
    if not measured:
        return None
    last = measured[-1]
    if last["ms"] / 1000 * size / last["trials"] <= PEER_QUERY_BUDGET_S:
        return None
    k = 1.0
    if len(measured) > 1 and measured[-2]["ms"] > 0:
        a, b = measured[-2], measured[-1]
        k = max(1.0, math.log(b["ms"] / a["ms"]) / math.log(b["trials"] / a["trials"]))
    ms = last["ms"] * (size / last["trials"]) ** k
    return {"trials": size, "ms": ms, "extrapolated": True, "measured_at": last["trials"], "exponent": k}


def _measure(
    systems: dict[str, Any], sizes: tuple[int, ...], analyze: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Fill every system to each size in turn and time every query there. ``analyze``: refresh the
    planner's statistics after each fill (PostgreSQL's autovacuum does so soon after a bulk load)."""
    rng = random.Random(0)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in systems}
    done = 0
    for size in sizes:
        new = _trials(rng, done, size - done)
        done = size
        tops: dict[str, list[float]] = {}
        for name, system in systems.items():
            t = time.perf_counter()
            system.fill(new)
            if analyze:
                system.analyze()
            fill_s = time.perf_counter() - t
            print(f"   {name}: filled to {size:,} ({fill_s:.1f} s)", flush=True)
            for f in FILTERS:
                if isinstance(system, MlflowSystem) and f not in MLFLOW_FILTERS:
                    continue
                prior = [r for r in rows[name] if r["filter"] == f]
                guess = _extrapolate(prior, size) if isinstance(system, MlflowSystem) else None
                if guess is not None:
                    rows[name].append({**guess, "filter": f, "fill_s": fill_s})
                    print(f"   {name}: {f}: extrapolated to {guess['ms'] / 1000:,.0f} s", flush=True)
                    continue
                where = None if f == NO_FILTER else f
                top = system.query(where)
                ms, reps = _median_ms(lambda s=system, w=where: s.query(w))
                row: dict[str, Any] = {
                    "trials": size,
                    "filter": f,
                    "ms": ms,
                    "repeat": reps,
                    "fill_s": fill_s,
                }
                if isinstance(system, HypersweepSystem):
                    row["ms_with_open"], _ = _median_ms(lambda s=system, w=where: s.query_cold(w))
                ref = tops.setdefault(f, top)
                row["same_top10"] = [round(v, 12) for v in top] == [round(v, 12) for v in ref]
                row["top1"] = top[0] if top else None
                rows[name].append(row)
    return rows


def _sqlite(work: Path, sizes: tuple[int, ...]) -> dict[str, Any]:
    systems: dict[str, Any] = {"hypersweep (SQLite)": HypersweepSystem(f"sqlite:///{work / 'hs.db'}")}
    skipped: dict[str, str] = {}
    try:
        systems["MLflow (SQLite)"] = MlflowSystem(f"sqlite:///{work / 'mlflow.db'}", str(work / "mlruns"))
    except ImportError as e:
        skipped["MLflow (SQLite)"] = f"not installed: {e.name}"
    try:
        return {"rows": _measure(systems, sizes), "skipped": skipped}
    finally:
        for s in systems.values():
            s.close()


def _postgres(base: str, work: Path, sizes: tuple[int, ...]) -> dict[str, Any]:
    skipped: dict[str, str] = {}
    with _pg_throwaway(base, "hs") as hs_url, _pg_throwaway(base, "mlflow") as ml_url:
        systems: dict[str, Any] = {"hypersweep (PostgreSQL)": HypersweepSystem(hs_url)}
        try:
            systems["MLflow (PostgreSQL)"] = MlflowSystem(ml_url, str(work / "mlruns-pg"))
        except Exception as e:  # MLflow's own migrations on this server; hypersweep is still measured
            skipped["MLflow (PostgreSQL)"] = f"{type(e).__name__}: {e}"[:200]
        try:
            return {"rows": _measure(systems, sizes, analyze=True), "skipped": skipped}
        finally:
            for s in systems.values():
                s.close()


def run(quick: bool = False) -> dict[str, Any]:
    """Fill and query every system at every size; JSON-able results."""
    sizes = QUICK_SIZES if quick else SIZES
    results: dict[str, Any] = {
        "quick": quick,
        "sizes": list(sizes),
        "studies": len(STUDIES),
        "filters": list(FILTERS),
        "mlflow_filters": list(MLFLOW_FILTERS),
        "repeat": REPEAT,
        "systems": {},
        "skipped": {},
    }
    with tempfile.TemporaryDirectory(prefix="hs-bench-leaderboard-") as tmp:
        work = Path(tmp)
        part = _sqlite(work, sizes)
        results["systems"].update(part["rows"])
        results["skipped"].update(part["skipped"])
        pg = pg_url()
        if pg:
            try:
                part = _postgres(pg, work, sizes)
                results["systems"].update(part["rows"])
                results["skipped"].update(part["skipped"])
            except Exception as e:  # the SQLite numbers stay
                results["skipped"]["PostgreSQL"] = f"failed: {type(e).__name__}: {e}"[:300]
        else:
            results["skipped"]["PostgreSQL"] = (
                "HYPERSWEEP_BENCH_POSTGRES_URL / HYPERSWEEP_TEST_POSTGRES_URL not set"
            )
    return results


# -- reporting ------------------------------------------------------------------------------------------
def _row(results: dict[str, Any], system: str, size: int, f: str) -> dict[str, Any] | None:
    for r in results["systems"].get(system, []):
        if r["trials"] == size and r["filter"] == f:
            return r
    return None


def _growth(results: dict[str, Any], system: str, f: str) -> float | None:
    """Exponent k of ms ~ trials^k between the smallest and largest size (1 = linear)."""
    lo, hi = min(results["sizes"]), max(results["sizes"])
    a, b = _row(results, system, lo, f), _row(results, system, hi, f)
    if not a or not b or a["ms"] <= 0:
        return None
    return math.log(b["ms"] / a["ms"]) / math.log(hi / lo)


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _label(f: str) -> str:
    return "no filter" if f == NO_FILTER else f"`{f}`"


def _peer(system: str) -> str:
    return system.replace("hypersweep", "MLflow")


def render(results: dict[str, Any]) -> str:
    """The Markdown section: one table per backend, then the targets."""
    sizes = results["sizes"]
    lines = [
        "## Leaderboard latency: top 10 across 3 studies",
        "",
        f"Top 10 by the objective `m1` over {results['studies']} studies (a glob, `lb-*`; MLflow: 3 experiments) "
        "holding the sizes below together, every system filled with the same trials by bulk insert; median of "
        f"{results['repeat']} repetitions on a warm connection after a warm-up call (3 when one call takes over "
        f"{SLOW_S} s). hypersweep: `leaderboard_rows(st, ['lb-*'], top=10, where=...)`; \"with open\" adds "
        "`store.opened` of the store, as one CLI call does. MLflow: `MlflowClient.search_runs(order_by=['metrics.m1 "
        "DESC'], max_results=10)` with the same filter string. MLflow compares params only as strings (`=`, "
        "`LIKE`), so the numeric `params.x < 0.5` filter is hypersweep only. ✓ = the same top-10 values as "
        "hypersweep on the same data. On PostgreSQL every database is `ANALYZE`d after each fill (autovacuum "
        "does so soon after a bulk load; without it the plans, and the times, depend on whether it has run "
        "yet); SQLite stores are not analysed (neither system does it). A peer query that would take over "
        f"{PEER_QUERY_BUDGET_S:.0f} s at a size (at linear growth from the size before) is extrapolated with "
        "the growth exponent measured between the two sizes before it (at least 1), marked as such.",
        "",
    ]
    systems = results["systems"]
    ours_names = [s for s in systems if s.startswith("hypersweep")]
    header = "| backend | filter | " + " | ".join(f"{n:,} trials" for n in sizes) + " | growth exponent |"
    lines += [header, "|---|---|" + "---:|" * (len(sizes) + 1)]
    for ours in ours_names:
        for f in results["filters"]:
            for system in (ours, _peer(ours)):
                if system not in systems:
                    continue
                cells = []
                for n in sizes:
                    r = _row(results, system, n, f)
                    if r is None:
                        cells.append("")
                        continue
                    cell = f"{r['ms']:,.1f} ms"
                    if r.get("extrapolated"):
                        mine = _row(results, ours, n, f)
                        ratio = f", {r['ms'] / mine['ms']:,.0f}x" if mine else ""
                        base = _row(results, system, r["measured_at"], f)
                        linear = (
                            f"; ≥{base['ms'] * n / base['trials'] / 1000:,.0f} s at linear growth"
                            if base
                            else ""
                        )
                        cells.append(
                            f"~{r['ms'] / 1000:,.0f} s (extrapolated from {r['measured_at']:,} trials as "
                            f"trials^{r['exponent']:.2f}{ratio}{linear})"
                        )
                        continue
                    if "ms_with_open" in r:
                        cell += f" ({r['ms_with_open']:,.1f} with open)"
                    else:
                        mine = _row(results, ours, n, f)
                        if mine:
                            cell += f" ({r['ms'] / mine['ms']:,.0f}x)"
                        cell += " ✓" if r.get("same_top10") else " ✗ differs"
                    cells.append(cell)
                if not any(cells):
                    continue
                g = _growth(results, system, f)
                gs = "" if g is None else f"{g:.2f}"
                lines.append(f"| {system} | {_label(f)} | " + " | ".join(cells) + f" | {gs} |")
    lines += [
        "",
        "Growth exponent k: time ∝ trials^k between the smallest and the largest size (1 = linear). "
        "(Nx) = MLflow's time ÷ hypersweep's.",
        "",
    ]
    for what, why in results.get("skipped", {}).items():
        lines.append(f"- {what}: skipped ({why}).")
    if results.get("skipped"):
        lines.append("")
    big = max(sizes)
    lines.append(f"Targets (hypersweep, at {big:,} trials):")
    lines.append("")
    for ours in ours_names:
        worst = max((_row(results, ours, big, f) or {"ms": math.nan})["ms"] for f in results["filters"])
        growth = [g for f in results["filters"] if (g := _growth(results, ours, f)) is not None]
        ratios, linear, extrapolated = [], [], False
        for f in results["mlflow_filters"]:
            a, b = _row(results, ours, big, f), _row(results, _peer(ours), big, f)
            if a and b:
                ratios.append(b["ms"] / a["ms"])
                base = _row(results, _peer(ours), b["measured_at"], f) if b.get("extrapolated") else b
                extrapolated = extrapolated or bool(b.get("extrapolated"))
                if base:
                    linear.append(base["ms"] * big / base["trials"] / a["ms"])
        lines.append(
            f"- {ours}: under {TARGET_MS:.0f} ms: slowest query {worst:,.1f} ms, {_mark(worst < TARGET_MS)}; "
            f"sub-linear growth: exponent {max(growth):.2f} at most, {_mark(max(growth) < 1)}"
            if growth
            else f"- {ours}: slowest query {worst:,.1f} ms"
        )
        if ratios:
            lines[-1] += (
                f"; ≥{TARGET_VS_MLFLOW:.0f}x faster than MLflow: {min(ratios):,.0f}x at least, "
                f"{_mark(min(ratios) >= TARGET_VS_MLFLOW)}"
            )
            if extrapolated and linear:
                lines[-1] += (
                    f" (MLflow's times extrapolated; assuming only linear growth from the largest measured "
                    f"size: {min(linear):,.0f}x at least, {_mark(min(linear) >= TARGET_VS_MLFLOW)})"
                )
            lines[-1] += "."
        else:
            lines[-1] += "; vs MLflow: not measured."
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "leaderboard.json").write_text(json.dumps(res, indent=2))
    print(render(res))
