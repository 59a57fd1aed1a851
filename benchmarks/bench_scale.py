"""Scale benchmark: the driver (the real engine and the real store) under a simulated 1,000-worker cluster.

``hypersweep.testing.FakeExecutor`` plays the cluster: 1,000 workers, so 1,000 trials in flight (plus
1,000 queued ahead, as on Ray), each finishing 0.5 s of *simulated* time after it starts. Simulated
time costs nothing, so the wall time is the driver's alone: asking the strategy, creating trials in the
store, building payloads, handling results and committing outcomes. A cluster of 1,000 workers with
0.5 s trials produces 2,000 results/s; the driver keeps up when it handles ≥ 2,000 results/s.

Studies of 100k and then 1M trials (``--quick``: 10k and 30k), one run each, on SQLite (a temporary
file) and on PostgreSQL when ``HYPERSWEEP_BENCH_POSTGRES_URL`` or ``HYPERSWEEP_TEST_POSTGRES_URL`` is set
(a throwaway schema). The strategy is a result-blind sequence registered for the benchmark (asking it
costs next to nothing), so the figures are the driver's; one extra row runs the built-in ``random``
(Optuna) at the smallest size, for the strategy's own cost (and its in-memory study's memory).

Reported per run: µs of driver wall time per trial over the whole run and over its first and last
tenth (flat cost: the two match), results/s, the process's RSS growth from the first tenth to the end,
and the tracemalloc peak of a separate run at the smallest size (bounded memory: RSS does not grow with
the study).

``python -m benchmarks.bench_scale [--quick]`` prints the Markdown section.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import textwrap
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from benchmarks._common import pg_url

WORKERS = 1_000
TRIAL_S = 0.5  # simulated seconds per trial: 1,000 workers then produce 2,000 results/s
TARGET_RATE = WORKERS / TRIAL_S


def _register() -> None:
    from hypersweep.spec import add_strategy_name
    from hypersweep.strategies import Strategy, StrategyTraits, Suggestion, register_strategy

    class Sequence(Strategy):
        """x = i * 1e-9, y = i % 100: distinct points, no model."""

        name = "bench-seq"

        def __init__(self, spec: Any, study_seed: int) -> None:
            self.i = 0

        def load_history(self, trials: Any) -> None:
            self.i = len(trials)

        def ask(self, n: int) -> list[Suggestion]:
            out = [Suggestion({"x": (self.i + k) * 1e-9, "y": (self.i + k) % 100}) for k in range(n)]
            self.i += n
            return out

        def tell(self, suggestion: Suggestion, state: Any, value: float | None) -> None:
            pass

    register_strategy("bench-seq", Sequence, StrategyTraits(adaptive=False))
    add_strategy_name("bench-seq")


def _spec(n: int, strategy: str) -> str:
    return textwrap.dedent(f"""
        name: scale
        objective: {{metric: loss, goal: minimize}}
        strategy: {strategy}
        seed: 1
        budget: {{trials: {n}, parallel: {WORKERS}}}
        trial: {{function: "bench:f"}}
        monitoring: false
        parameters:
          x: {{type: float, low: 0, high: 1}}
          y: {{type: int, low: 0, high: 100}}
    """)


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def one_run(url: str, n: int, strategy: str = "bench-seq", *, trace: bool = False) -> dict[str, Any]:
    """One study of ``n`` trials; the driver's wall time, its windows and memory."""
    from hypersweep.store import opened
    from hypersweep.testing import Complete, FakeExecutor, run_study

    samples: list[tuple[int, float, int]] = []  # (finished, wall, rss)

    def progress(p: Any) -> None:
        samples.append((p.finished, time.perf_counter(), _rss()))

    with opened(url, create=True) as st:
        ex = FakeExecutor(
            lambda t: Complete({"loss": float(t.params["x"])}, duration=TRIAL_S),
            workers=WORKERS,
            record=False,
        )
        gc.collect()
        if trace:
            tracemalloc.start()
        rss0 = _rss()
        t0 = time.perf_counter()
        summary = run_study(
            st,
            _spec(n, strategy),
            ex,
            name=f"scale-{uuid.uuid4().hex[:6]}",
            queue_ahead=WORKERS,
            on_progress=progress,
        )
        wall = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
    assert summary.progress.finished == n, summary
    tenth = [s for s in samples if s[0] <= n // 10]
    last = [s for s in samples if s[0] >= n - n // 10]

    def us(window: list[tuple[int, float, int]]) -> float | None:
        if len(window) < 2 or window[-1][0] == window[0][0]:
            return None
        return (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0]) * 1e6

    rss_tenth = tenth[-1][2] if tenth else rss0
    return {
        "trials": n,
        "strategy": strategy,
        "seconds": round(wall, 2),
        "us_per_trial": round(wall / n * 1e6, 1),
        "us_first_tenth": None if us(tenth) is None else round(us(tenth) or 0, 1),
        "us_last_tenth": None if us(last) is None else round(us(last) or 0, 1),
        "results_per_s": round(n / wall),
        "max_in_flight": ex.max_running,
        "rss_start_mib": round(rss0 / 2**20, 1),
        "rss_growth_after_first_tenth_mib": round((max(s[2] for s in samples) - rss_tenth) / 2**20, 1),
        "rss_end_mib": round(samples[-1][2] / 2**20, 1) if samples else None,
        "tracemalloc_peak_mib": None if peak is None else round(peak / 2**20, 1),
    }


def _backend(url: str, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    rows = [one_run(url, n) for n in sizes]
    traced = one_run(url, sizes[0], trace=True)
    rows[0]["tracemalloc_peak_mib"] = traced["tracemalloc_peak_mib"]
    rows[0]["traced_run_us_per_trial"] = traced["us_per_trial"]
    return rows


def _pg_schema(url: str, schema: str, drop: bool) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' if drop else f'CREATE SCHEMA "{schema}"')
            )
    finally:
        engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def run(quick: bool = False) -> dict[str, Any]:
    """Run the benchmark; JSON-able results."""
    import logging

    logging.getLogger("hypersweep").setLevel(logging.ERROR)
    _register()
    sizes = (10_000, 30_000) if quick else (100_000, 1_000_000)
    results: dict[str, Any] = {"sizes": list(sizes), "workers": WORKERS, "trial_s": TRIAL_S, "backends": {}}
    with tempfile.TemporaryDirectory(prefix="hs-scale-") as tmp:
        sqlite = f"sqlite:///{Path(tmp) / 'hs.db'}"
        results["backends"]["SQLite"] = _backend(sqlite, sizes)
        results["backends"]["SQLite"].append(one_run(sqlite, sizes[0], "random"))
        pg = pg_url()
        if pg:
            schema = f"scale_{uuid.uuid4().hex[:8]}"
            try:
                results["backends"]["PostgreSQL"] = _backend(_pg_schema(pg, schema, drop=False), sizes)
            except Exception as e:  # PostgreSQL's failure must not lose SQLite's figures
                results["backends"]["PostgreSQL"] = [{"skipped": f"{type(e).__name__}: {e}"[:200]}]
            finally:
                _pg_schema(pg, schema, drop=True)
    return results


def render(results: dict[str, Any]) -> str:
    """A Markdown section with one table of every run."""

    def f(v: Any, fmt: str = "{:,.0f}") -> str:
        return "" if v is None else fmt.format(v)

    lines = [
        "## Scale: the driver under a simulated 1,000-worker cluster",
        "",
        f"The real engine and store driven through `hypersweep.testing.FakeExecutor`: {results['workers']:,} "
        f"workers ({results['workers']:,} trials in flight, as many queued ahead), {results['trial_s']} s of "
        "simulated time per trial, so the cluster produces "
        f"{results['workers'] / results['trial_s']:,.0f} results/s and wall time is the driver's alone. "
        "Strategy: a result-blind sequence registered for the benchmark (no model cost), except the `random` "
        "row (Optuna's sampler and in-memory study). Cost per trial over the whole run and its first and last "
        "tenth (flat cost: they match); memory: RSS growth after the first tenth, tracemalloc peak of a "
        f"separate run at {results['sizes'][0]:,} trials. Goal: flat cost, bounded memory, "
        f"≥ {TARGET_RATE:,.0f} results/s.",
        "",
        "| store | strategy | trials | time | µs/trial | first tenth | last tenth | results/s | in flight "
        "| RSS growth | tracemalloc peak |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, rows in results["backends"].items():
        for r in rows:
            if "skipped" in r:
                lines.append(f"| {backend} | skipped: {r['skipped']} | | | | | | | | | |")
                continue
            lines.append(
                f"| {backend} | {r['strategy']} | {r['trials']:,} | {r['seconds']:.1f} s | "
                f"{f(r['us_per_trial'])} | {f(r['us_first_tenth'])} | {f(r['us_last_tenth'])} | "
                f"{f(r['results_per_s'])} | {f(r['max_in_flight'])} | "
                f"{f(r['rss_growth_after_first_tenth_mib'], '{:.1f} MiB')} | "
                f"{f(r.get('tracemalloc_peak_mib'), '{:.1f} MiB')} |"
            )
    growth = []
    for backend, rows in results["backends"].items():
        runs = sorted(
            (r for r in rows if "skipped" not in r and r["strategy"] != "random"), key=lambda r: r["trials"]
        )
        if len(runs) >= 2 and runs[0]["us_per_trial"]:
            a, b = runs[0], runs[-1]
            growth.append(
                f"{backend}: {b['trials'] // a['trials']:,}x the trials cost "
                f"{b['us_per_trial'] / a['us_per_trial']:.2f}x the µs per trial, RSS grew "
                f"{max(r['rss_growth_after_first_tenth_mib'] for r in runs):.1f} MiB at most"
            )
    if growth:
        lines += ["", "How cost and memory grow with the study: " + "; ".join(growth) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "scale.json").write_text(json.dumps(res, indent=2))
    print(render(res))
