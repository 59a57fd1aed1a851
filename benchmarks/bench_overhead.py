"""Orchestration overhead: trials/s end to end on a trivial objective, hypersweep and its peers side by side.

The objective is ``(x - 3) ** 2``, 1 CPU per trial, on one local Ray started here with ``num_cpus=2`` and
shared by every system of the run (so at most 2 trials run at once). Systems, in the order they run:

- hypersweep, Python API ``run_sweep`` with the Ray executor and a fresh SQLite store per run, ``parallel: 2``,
  random and TPE; every trial is checked to be recorded as complete afterwards;
- Optuna ``study.optimize`` with a seeded ``RandomSampler``, on RDBStorage/SQLite and in memory (reference);
  it runs trials one at a time in the driver and does not use Ray;
- Ray Tune ``Tuner`` with its defaults (a new actor per trial) and with ``reuse_actors=True`` (its fastest).

Each system first runs a warm-up of a few trials (imports, worker processes; not reported), which also
estimates its rate. Sizes: 200 and 2,000 trials (``--quick``: 100 and 400). A peer whose run would take
more than ~2 minutes (``--quick``: 30 s) is measured at the largest size that fits and its rate
extrapolated; such rows say so. Per-trial overhead is the mean wall time between trial completions over
the first and the last 10 % of a run.

Parallel efficiency: 64 hypersweep trials that each sleep 0.5 s with ``resources: {cpus: 0.1}`` and
``parallel: 16``, run twice on the same Ray; the second run (workers warm) is the one compared with the
ideal 64 * 0.5 / 16 = 2 s.

``run()`` also draws the throughput comparison to ``docs/benchmark_overhead.png``.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import DOCS, window_ms
from benchmarks._overhead_systems import Run, Runner, hypersweep_runner, optuna_runner, tune_runner

SIZES = (200, 2_000)
QUICK_SIZES = (100, 400)
PEER_BUDGET_S = 120.0
QUICK_PEER_BUDGET_S = 30.0
WARMUP = 10
MIN_MEASURED = 10
RAY_CPUS = 2
PLOT = DOCS / "benchmark_overhead.png"

HS_RANDOM = "hypersweep random"
HS_TPE = "hypersweep TPE"
TUNE_DEFAULT = "Ray Tune, defaults"
TUNE_REUSE = "Ray Tune, reuse_actors=True"
OPTUNA_SQL = "Optuna random, SQLite"
OPTUNA_MEM = "Optuna random, in-memory"

TARGET_RATE = 500.0
TARGET_VS_TUNE = 10.0
TARGET_VS_OPTUNA = 20.0
FLAT_RATIO = 1.5
PARALLEL = {"trials": 64, "sleep_s": 0.5, "parallel": 16, "cpus": 0.1, "target_s": 2.5}


# -- measuring ------------------------------------------------------------------------------------------
def _row(run: Run, n: int) -> dict[str, Any]:
    first, last = window_ms(run.done)
    return {
        "trials": n,
        "measured_at": n,
        "seconds": run.seconds,
        "rate": n / run.seconds,
        "first_ms": first,
        "last_ms": last,
        "startup_s": min(run.done) - run.t0 if run.done else None,
    }


def _series(name: str, runner: Runner, sizes: tuple[int, ...], budget_s: float | None) -> dict[str, Any]:
    """Warm up, then measure each size; with a budget, sizes that would exceed it are extrapolated from
    the largest size that fits."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower())
    warm = _row(runner(WARMUP, f"{slug}-warmup"), WARMUP)
    rate, measured, rows = warm["rate"], [], []
    for n in sizes:
        if budget_s is None or n / rate <= budget_s:
            row = _row(runner(n, f"{slug}-{n}"), n)
            measured.append(row)
            rate = row["rate"]
            rows.append(row)
            continue
        m = max(MIN_MEASURED, int(rate * budget_s))
        prior = max(measured, key=lambda r: r["trials"], default=None)
        if prior is None or prior["trials"] * 2 < m:
            prior = _row(runner(m, f"{slug}-{m}"), m)
            measured.append(prior)
            rate = prior["rate"]
        rows.append({**prior, "trials": n, "seconds": n / prior["rate"], "extrapolated": True})
    return {"warmup": warm, "rows": rows}


def _parallel(work: Path) -> dict[str, Any]:
    p = PARALLEL
    runner = hypersweep_runner(work, "random", function="sleep", cpus=p["cpus"], parallel=p["parallel"])
    cold = runner(p["trials"], "parallel-cold")
    warm = runner(p["trials"], "parallel-warm")
    return {
        **p,
        "ideal_s": p["trials"] * p["sleep_s"] / p["parallel"],
        "cold_s": cold.seconds,
        "warm_s": warm.seconds,
        "warm_span_s": max(warm.done) - min(warm.started) if warm.started else None,
        "cold_workers": cold.workers,
        "warm_workers": warm.workers,
    }


def _systems(work: Path) -> list[tuple[str, bool, Runner]]:
    """(name, is hypersweep, runner) in the order they run."""
    return [
        (HS_RANDOM, True, hypersweep_runner(work, "random")),
        (HS_TPE, True, hypersweep_runner(work, "tpe")),
        (OPTUNA_SQL, False, optuna_runner(work, sqlite=True)),
        (OPTUNA_MEM, False, optuna_runner(work, sqlite=False)),
        (TUNE_REUSE, False, tune_runner(work, reuse_actors=True)),
        (TUNE_DEFAULT, False, tune_runner(work, reuse_actors=False)),
    ]


def run(quick: bool = False) -> dict[str, Any]:
    """Run every system at every size, then the parallel-efficiency check; JSON-able results."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    sizes = QUICK_SIZES if quick else SIZES
    budget = QUICK_PEER_BUDGET_S if quick else PEER_BUDGET_S
    started_ray = not ray.is_initialized()
    if started_ray:
        ray.init(num_cpus=RAY_CPUS, include_dashboard=False, log_to_driver=False, configure_logging=False)
    results: dict[str, Any] = {
        "quick": quick,
        "sizes": list(sizes),
        "peer_budget_s": budget,
        "warmup": WARMUP,
        "ray": f"one local Ray for all systems, ray.init(num_cpus={RAY_CPUS}), not restarted between systems",
        "systems": {},
    }
    try:
        with tempfile.TemporaryDirectory(prefix="hs-bench-overhead-") as tmp:
            for name, ours, runner in _systems(Path(tmp)):
                print(f"   {name} ...", flush=True)
                t = time.perf_counter()
                try:
                    results["systems"][name] = _series(name, runner, sizes, None if ours else budget)
                except Exception as e:  # one system's failure must not lose the other measurements
                    results["systems"][name] = {"skipped": f"failed: {type(e).__name__}: {e}"[:300]}
                print(f"   {name}: {time.perf_counter() - t:.0f} s", flush=True)
                if name == HS_TPE:
                    try:
                        results["parallel"] = _parallel(Path(tmp))
                    except Exception as e:
                        results["parallel"] = {"skipped": f"failed: {type(e).__name__}: {e}"[:300]}
    finally:
        if started_ray:
            ray.shutdown()
    results["plot"] = plot(results, PLOT)
    return results


# -- reporting ------------------------------------------------------------------------------------------
def _rate(results: dict[str, Any], system: str, n: int) -> float | None:
    for r in results["systems"].get(system, {}).get("rows", []):
        if r["trials"] == n:
            return r["rate"]
    return None


def _fmt(v: float | None, spec: str = ",.0f") -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def plot(results: dict[str, Any], path: Path) -> str | None:
    """A grouped bar chart of trials/s per system and size (log scale); the path, or None without
    matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = [n for n, s in results["systems"].items() if "rows" in s]
    sizes = results["sizes"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(sizes)
    for i, n in enumerate(sizes):
        rows = [next(r for r in results["systems"][s]["rows"] if r["trials"] == n) for s in names]
        xs = [j + (i - (len(sizes) - 1) / 2) * width for j in range(len(names))]
        bars = ax.bar(xs, [r["rate"] for r in rows], width, label=f"{n:,} trials")
        for bar, r in zip(bars, rows, strict=True):
            if r.get("extrapolated"):
                bar.set_hatch("//")
                bar.set_alpha(0.6)
    ax.axhline(TARGET_RATE, color="grey", linestyle="--", linewidth=1, label=f"target {TARGET_RATE:.0f}/s")
    ax.set_yscale("log")
    ax.set_ylabel("trials/s (log scale)")
    ax.set_xticks(range(len(names)), [n.replace(", ", ",\n") for n in names], fontsize=8)
    quick = " (--quick)" if results["quick"] else ""
    ax.set_title(
        f"Orchestration throughput, trivial objective, {RAY_CPUS} CPUs{quick}; hatched: extrapolated"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path.relative_to(DOCS.parent)) if path.is_relative_to(DOCS.parent) else str(path)


def _ratio(x: float) -> str:
    return f"{x:,.1f}x" if x >= 1 else f"{x:.2g}x"


def _table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| system | trials | trials/s | wall | first result | ms/trial, first 10% | ms/trial, last 10% "
        "| last/first | hypersweep random ÷ system | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in results["systems"].items():
        if "skipped" in s:
            lines.append(f"| {name} | | | | | | | | | skipped: {s['skipped']} |")
            continue
        for r in s["rows"]:
            ours = _rate(results, HS_RANDOM, r["trials"])
            ratio = _ratio(ours / r["rate"]) if ours and name != HS_RANDOM else ""
            flat = r["last_ms"] / r["first_ms"] if r["first_ms"] and not math.isnan(r["first_ms"]) else None
            note = f"measured at {r['measured_at']:,}, extrapolated" if r.get("extrapolated") else ""
            lines.append(
                f"| {name} | {r['trials']:,} | {_fmt(r['rate'], ',.1f')} | {r['seconds']:.1f} s "
                f"| {_fmt(r['startup_s'], '.2f')} s "
                f"| {_fmt(r['first_ms'], '.1f')} | {_fmt(r['last_ms'], '.1f')} | {_fmt(flat, '.2f')} "
                f"| {ratio} | {note} |"
            )
    return lines


def _targets(results: dict[str, Any]) -> list[str]:
    n = max(results["sizes"])
    ours = _rate(results, HS_RANDOM, n)
    tune = _rate(results, TUNE_REUSE, n)
    optuna = _rate(results, OPTUNA_SQL, n)
    rows = next((r for r in results["systems"].get(HS_RANDOM, {}).get("rows", []) if r["trials"] == n), None)
    flat = rows["last_ms"] / rows["first_ms"] if rows and rows["first_ms"] else None
    par = results.get("parallel") or {"skipped": "not run"}
    if "skipped" in par:
        par_line = f"not measured ({par['skipped']})"
        par_ok = None
    else:
        par_line = (
            f"{par['warm_s']:.2f} s (first trial start to last finish {_fmt(par['warm_span_s'], '.2f')} s, "
            f"{par.get('warm_workers', '?')} worker processes; first, cold run {par['cold_s']:.2f} s, "
            f"{par.get('cold_workers', '?')} worker processes)"
        )
        par_ok = par["warm_s"] < PARALLEL["target_s"]

    def mark(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "**missed**")

    vs_tune = ours / tune if ours and tune else None
    vs_optuna = ours / optuna if ours and optuna else None
    return [
        f"Targets at {n:,} trials:",
        "",
        f"- hypersweep random ≥ {TARGET_RATE:.0f} trials/s end to end: {_fmt(ours, ',.0f')} trials/s, "
        f"{mark(ours >= TARGET_RATE if ours else None)}.",
        f"- over {TARGET_VS_TUNE:.0f}x Ray Tune's fastest ({TUNE_REUSE}): {_fmt(vs_tune, ',.1f')}x, "
        f"{mark(vs_tune > TARGET_VS_TUNE if vs_tune else None)}.",
        f"- over {TARGET_VS_OPTUNA:.0f}x Optuna on SQLite: {_fmt(vs_optuna, ',.1f')}x, "
        f"{mark(vs_optuna > TARGET_VS_OPTUNA if vs_optuna else None)}.",
        f"- flat per-trial overhead (last 10% within {FLAT_RATIO}x of the first 10%): {_fmt(flat, '.2f')}x, "
        f"{mark(flat <= FLAT_RATIO if flat else None)}.",
        f"- parallel efficiency ({PARALLEL['trials']} trials x {PARALLEL['sleep_s']} s sleep, parallel "
        f"{PARALLEL['parallel']}, cpus {PARALLEL['cpus']}; ideal "
        f"{PARALLEL['trials'] * PARALLEL['sleep_s'] / PARALLEL['parallel']:.1f} s) < {PARALLEL['target_s']} s "
        f"with warm workers: {par_line}, {mark(par_ok)}.",
    ]


def render(results: dict[str, Any]) -> str:
    """The Markdown section: the throughput table, the targets, and the plot."""
    lines = [
        "## Orchestration overhead",
        "",
        "Trivial objective `(x-3)^2`, 1 CPU per trial, 2 trials at a time; "
        f"{results['ray']}; each system warmed up with {results['warmup']} trials first. "
        "hypersweep: `hypersweep.run_sweep` with the Ray executor and a fresh SQLite store, every trial checked "
        "recorded. Optuna: `study.optimize`, one trial at a time in the driver, `RandomSampler`. Ray Tune: "
        "`Tuner` with a function trainable, 1 CPU per trial. Wall time is the whole call, start-up included; "
        "first result is the time from the call to the first trial's completion; "
        "ms/trial is the mean spacing of trial completions in the first and last 10% of the run (the inverse "
        f"of the throughput there). Peers that would run over {results['peer_budget_s']:.0f} s are measured "
        "at a smaller size and extrapolated.",
        "",
        *_table(results),
        "",
        *_targets(results),
        "",
    ]
    if results.get("plot"):
        lines += [f"![trials/s per system and size]({Path(results['plot']).name})", ""]
    return "\n".join(lines)
