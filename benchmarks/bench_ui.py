"""Dashboard speed: server time of the study page, the top-10 API and the history chart data at 100k trials,
beside optuna-dashboard's study API on the same trials in Optuna's RDB storage.

Data: one study of 100k complete trials (``--quick``: 10k), the trials of ``bench_leaderboard`` (4 params,
3 final metrics, ``m1`` the objective, maximised), each with a start and a finish time, filled by the store's
bulk ``create_trials`` + ``finish_trials``. Optuna: the same params and objective as ``FrozenTrial``s made by
``optuna.trial.create_trial`` and written with ``study.add_trials`` into ``RDBStorage``; filling stops after
``OPTUNA_FILL_BUDGET_S`` and the times at that size are extrapolated linearly to the full size (marked so).

Requests (median of ``REPEAT`` after one warm-up request, in-process, no response cache):

- hypersweep, through ``starlette.testclient.TestClient(hypersweep.ui.create_app(store))``: the study page
  ``/studies/NAME`` (HTML), ``/api/studies/NAME/leaderboard?top=10`` and ``/api/studies/NAME/history``;
- optuna-dashboard, through its WSGI app (``optuna_dashboard.wsgi(storage)``, called directly): the study
  API its study page polls, ``/api/studies/{id}?after=0`` (every trial), first call and warm median (it
  keeps finished trials in an in-memory cache after the first call).

Backends: SQLite always, PostgreSQL too when ``HYPERSWEEP_BENCH_POSTGRES_URL`` or
``HYPERSWEEP_TEST_POSTGRES_URL`` is set (a throwaway database per system). Target: every hypersweep route
at most 300 ms at 100k trials; the history payload is downsampled to ``MAX_POINTS`` points.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import analyze, bench_study, pg_url
from benchmarks.bench_leaderboard import BATCH, OPTIMIZERS, Trial, _pg_throwaway, _trials

SIZE = 100_000
QUICK_SIZE = 10_000
STUDY = "ui-bench"
REPEAT = 7
TARGET_MS = 300.0
OPTUNA_FILL_BUDGET_S = 60.0
OPTUNA_BATCH = 250  # the fill budget is checked between batches
ROUTES = {
    "study page (HTML)": f"/studies/{STUDY}",
    "top-10 API": f"/api/studies/{STUDY}/leaderboard?top=10",
    "history API": f"/api/studies/{STUDY}/history",
}


def _median_ms(call: Callable[[], int], repeat: int = REPEAT) -> tuple[float, float, int]:
    """(first call ms, median ms of ``repeat`` further calls, response bytes)."""
    t = time.perf_counter()
    size = call()
    first = (time.perf_counter() - t) * 1000
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1000)
    return first, statistics.median(times), size


# -- hypersweep -----------------------------------------------------------------------------------------
def _fill_hypersweep(url: str, trials: list[Trial]) -> float:
    from hypersweep.records import NewTrial, TrialOutcome, TrialState
    from hypersweep.store import open_store

    t0 = time.perf_counter()
    st = open_store(url, create=True)
    try:
        sid = st.create_study(bench_study(STUDY, "m1")).study_id
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(0, len(trials), BATCH):
            chunk = trials[i : i + BATCH]
            made = st.create_trials(sid, [NewTrial(params=t.params, seed=0) for t in chunk])
            st.finish_trials(
                [
                    TrialOutcome(
                        trial_id=rec.trial_id,
                        state=TrialState.COMPLETE,
                        objective=t.metrics["m1"],
                        metrics=t.metrics,
                        started_at=start + timedelta(seconds=i + j),
                        finished_at=start + timedelta(seconds=i + j + 1 + t.metrics["m3"] / 10),
                    )
                    for j, (rec, t) in enumerate(zip(made, chunk, strict=True))
                ]
            )
    finally:
        st.close()
    return time.perf_counter() - t0


def _measure_hypersweep(url: str) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from hypersweep.ui import create_app

    out: dict[str, Any] = {}
    with TestClient(create_app(url)) as client:

        def get(path: str) -> int:
            r = client.get(path)
            r.raise_for_status()
            return len(r.content)

        for label, path in ROUTES.items():
            first, ms, size = _median_ms(lambda p=path: get(p))
            out[label] = {"path": path, "first_ms": first, "ms": ms, "bytes": size}
        hist = client.get(ROUTES["history API"]).json()
        out["history"] = {
            "total": hist["total"],
            "points": len(hist["number"]),
            "downsampled": hist["downsampled"],
        }
    return out


# -- optuna-dashboard -----------------------------------------------------------------------------------
def _fill_optuna(url: str, trials: list[Trial], budget_s: float) -> tuple[int, float]:
    """Fill Optuna's storage until ``budget_s`` passes; (trials written, seconds)."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {
        "x": FloatDistribution(0, 1),
        "lr": FloatDistribution(1e-5, 1e-1, log=True),
        "optimizer": CategoricalDistribution(list(OPTIMIZERS)),
        "layers": IntDistribution(1, 8),
    }
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(study_name=STUDY, storage=storage, direction="maximize")
    start = datetime(2026, 1, 1)
    t0 = time.perf_counter()
    done = 0
    while done < len(trials) and time.perf_counter() - t0 < budget_s:
        chunk = trials[done : done + OPTUNA_BATCH]
        study.add_trials(
            [
                optuna.trial.create_trial(
                    params=t.params,
                    distributions=dists,
                    value=t.metrics["m1"],
                    user_attrs={"m2": t.metrics["m2"], "m3": t.metrics["m3"]},
                )
                for t in chunk
            ]
        )
        done += len(chunk)
    del start
    storage.engine.dispose()
    return done, time.perf_counter() - t0


def _wsgi_get(app: Any, path: str) -> int:
    from wsgiref.util import setup_testing_defaults

    p, _, q = path.partition("?")
    environ: dict[str, Any] = {"PATH_INFO": p, "QUERY_STRING": q, "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO(b"")
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    if not status or not status[0].startswith("200"):
        raise RuntimeError(f"optuna-dashboard {path}: {status[:1]} {body[:200]!r}")
    return len(body)


def _measure_optuna(url: str) -> dict[str, Any]:
    import optuna
    import optuna_dashboard

    storage = optuna.storages.RDBStorage(url)
    try:
        app = optuna_dashboard.wsgi(storage)
        sid = storage.get_study_id_from_name(STUDY)
        out: dict[str, Any] = {}
        for label, path in {
            "study API (every trial)": f"/api/studies/{sid}?after=0",
            "study list API": "/api/studies",
        }.items():
            first, ms, size = _median_ms(lambda p=path: _wsgi_get(app, p), repeat=3)
            out[label] = {"path": path, "first_ms": first, "ms": ms, "bytes": size}
        return out
    finally:
        storage.engine.dispose()


# -- running --------------------------------------------------------------------------------------------
def _backend(hs_url: str, op_url: str | None, trials: list[Trial], pg: bool) -> dict[str, Any]:
    res: dict[str, Any] = {}
    res["fill_s"] = _fill_hypersweep(hs_url, trials)
    if pg:
        analyze(hs_url)
    print(f"   hypersweep filled {len(trials):,} in {res['fill_s']:.1f} s", flush=True)
    res["hypersweep"] = _measure_hypersweep(hs_url)
    if op_url is None:
        return res
    try:
        n, secs = _fill_optuna(op_url, trials, OPTUNA_FILL_BUDGET_S)
        print(f"   optuna filled {n:,} in {secs:.1f} s", flush=True)
        if pg:
            analyze(op_url)
        got = _measure_optuna(op_url)
        scale = len(trials) / n
        for row in got.values():
            if n < len(trials):
                row["measured_ms"], row["measured_first_ms"] = row["ms"], row["first_ms"]
                row["ms"] *= scale
                row["first_ms"] *= scale
        res["optuna"] = {"trials": n, "fill_s": secs, "extrapolated": n < len(trials), "routes": got}
    except ImportError as e:
        res["optuna_skipped"] = f"not installed: {e.name}"
    except Exception as e:
        res["optuna_skipped"] = f"{type(e).__name__}: {e}"[:300]
    return res


def run(quick: bool = False) -> dict[str, Any]:
    size = QUICK_SIZE if quick else SIZE
    trials = _trials(random.Random(0), 0, size)
    results: dict[str, Any] = {
        "quick": quick,
        "trials": size,
        "repeat": REPEAT,
        "backends": {},
        "skipped": {},
    }
    from hypersweep.query import MAX_POINTS

    results["max_points"] = MAX_POINTS
    with tempfile.TemporaryDirectory(prefix="hs-bench-ui-") as tmp:
        work = Path(tmp)
        results["backends"]["SQLite"] = _backend(
            f"sqlite:///{work / 'hs.db'}", f"sqlite:///{work / 'optuna.db'}", trials, pg=False
        )
        base = pg_url()
        if base:
            try:
                with _pg_throwaway(base, "uihs") as hs_url, _pg_throwaway(base, "uiop") as op_url:
                    results["backends"]["PostgreSQL"] = _backend(hs_url, op_url, trials, pg=True)
            except Exception as e:
                results["skipped"]["PostgreSQL"] = f"failed: {type(e).__name__}: {e}"[:300]
        else:
            results["skipped"]["PostgreSQL"] = (
                "HYPERSWEEP_BENCH_POSTGRES_URL / HYPERSWEEP_TEST_POSTGRES_URL not set"
            )
    return results


# -- reporting ------------------------------------------------------------------------------------------
def _kib(n: int) -> str:
    return f"{n / 1024:,.0f} KiB" if n >= 10_240 else f"{n / 1024:,.1f} KiB"


def render(results: dict[str, Any]) -> str:
    n = results["trials"]
    lines = [
        "## Dashboard speed: the study page and its APIs at 100k trials",
        "",
        f"One study of {n:,} complete trials (4 params, 3 metrics), filled by bulk insert. Server time in process "
        "(Starlette's `TestClient` over `hypersweep.ui.create_app(store)`; no response cache), median of "
        f'{results["repeat"]} requests after a warm-up request; "first" is the warm-up request itself. '
        "optuna-dashboard: its WSGI app (`optuna_dashboard.wsgi(RDBStorage(url))`) called directly, on the "
        "same params and objective written with `optuna.trial.create_trial` + `study.add_trials`; its study "
        "page loads `/api/studies/{id}?after=0`, every trial of the study, and keeps finished trials in an "
        "in-memory cache after that first call (so its warm median is mostly serialisation). Where Optuna's "
        f"storage could not be filled to {n:,} trials in {OPTUNA_FILL_BUDGET_S:.0f} s, its times are measured "
        "at the size reached and scaled linearly to the full size, marked *extrapolated*.",
        "",
        "| backend | system | request | first | median | response |",
        "|---|---|---|---:|---:|---:|",
    ]
    verdicts = []
    for backend, res in results["backends"].items():
        for label, row in res["hypersweep"].items():
            if label == "history":
                continue
            lines.append(
                f"| {backend} | hypersweep | {label} `{row['path']}` | {row['first_ms']:,.1f} ms | "
                f"{row['ms']:,.1f} ms | {_kib(row['bytes'])} |"
            )
            verdicts.append((backend, label, row["ms"]))
        op = res.get("optuna")
        if op:
            for label, row in op["routes"].items():
                ext = (
                    f" (*extrapolated* from {op['trials']:,} trials: {row['measured_first_ms']:,.0f} / "
                    f"{row['measured_ms']:,.0f} ms)"
                    if op["extrapolated"]
                    else ""
                )
                size = _kib(row["bytes"]) + (f" at {op['trials']:,}" if op["extrapolated"] else "")
                lines.append(
                    f"| {backend} | optuna-dashboard | {label} `{row['path']}`{ext} | {row['first_ms']:,.1f} ms | "
                    f"{row['ms']:,.1f} ms | {size} |"
                )
    lines.append("")
    for backend, res in results["backends"].items():
        h = res["hypersweep"]["history"]
        op = res.get("optuna")
        fill = f"hypersweep filled in {res['fill_s']:.1f} s"
        if op:
            fill += f"; Optuna's storage took {op['fill_s']:.1f} s for {op['trials']:,} trials"
        elif res.get("optuna_skipped"):
            fill += f"; optuna-dashboard skipped ({res['optuna_skipped']})"
        lines.append(
            f"- {backend}: the history API sends {h['points']:,} of {h['total']:,} points "
            f"(downsampled: {'yes' if h['downsampled'] else 'no'}; limit {results['max_points']:,}); {fill}."
        )
    for what, why in results.get("skipped", {}).items():
        lines.append(f"- {what}: skipped ({why}).")
    lines += ["", f"Target (hypersweep, each request at most {TARGET_MS:.0f} ms at {n:,} trials):", ""]
    for backend, label, ms in verdicts:
        lines.append(f"- {backend}, {label}: {ms:,.1f} ms, {'met' if ms <= TARGET_MS else '**missed**'}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "ui.json").write_text(json.dumps(res, indent=2))
    print(render(res))
