"""Helpers shared by the benchmark modules: the machine's description, timing windows, quiet output.

Nothing here imports Ray, Optuna or hypersweep's heavy parts; the runner and every module may use it.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import sys
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
VERSIONED = ("hypersweep", "ray", "optuna", "mlflow", "sqlalchemy")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        import psutil

        return round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        return None


def versions() -> dict[str, str | None]:
    """Installed versions of the packages the benchmarks compare (None when absent)."""
    out: dict[str, str | None] = {}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine() -> dict[str, Any]:
    """What the numbers depend on: CPU, cores, memory, OS, Python and package versions."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions(),
    }


def describe_machine(m: dict[str, Any]) -> str:
    """One Markdown paragraph for a :func:`machine` dict."""
    mem = f"{m['memory_gib']} GiB" if m.get("memory_gib") is not None else "unknown memory"
    vers = ", ".join(f"{k} {v or 'not installed'}" for k, v in m["versions"].items())
    return (
        f"{m['cpu']}, {m['cores_usable']} usable cores ({m['cores']} online), {mem}; "
        f"{m['os']}; Python {m['python']}; {vers}."
    )


def window_ms(done: Sequence[float], frac: float = 0.1, least: int = 5) -> tuple[float, float]:
    """Mean wall time per trial (ms) over the first and the last ``frac`` of trial completions.

    ``done`` are the wall-clock times at which trials finished. The mean is the spacing between
    consecutive completions within the window (at least ``least`` completions, at most half the run),
    so it is the inverse of the throughput there and excludes the start-up before the first result.
    """
    t = sorted(done)
    k = min(max(least, int(len(t) * frac)), len(t) // 2)
    if k < 2:
        return math.nan, math.nan
    return (t[k - 1] - t[0]) / (k - 1) * 1000, (t[-1] - t[-k]) / (k - 1) * 1000


@contextlib.contextmanager
def quiet(log: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors, so child output too) to ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "ab") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


# -- stores ---------------------------------------------------------------------------------------------
def pg_url() -> str | None:
    """The PostgreSQL server benchmarks may use (``HYPERSWEEP_BENCH_POSTGRES_URL``, else the tests' one)."""
    return os.environ.get("HYPERSWEEP_BENCH_POSTGRES_URL") or os.environ.get("HYPERSWEEP_TEST_POSTGRES_URL")


def analyze(url: str) -> None:
    """``ANALYZE`` a PostgreSQL database: after a bulk load of many trials in seconds its statistics are
    stale until autovacuum's next round (up to a minute), and plans depend on whether it has run yet."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url)
    engine = create_engine(u.set(drivername="postgresql+psycopg") if u.drivername == "postgresql" else u)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def bench_study(name: str, objective: str) -> Any:
    """A ``NewStudy`` for benchmark data: random strategy, maximize ``objective``."""
    from hypersweep.records import Direction, NewStudy

    return NewStudy(
        name=name,
        spec_text="bench",
        spec_hash="0" * 64,
        spec_format="native",
        strategy="random",
        objective_metric=objective,
        direction=Direction.MAXIMIZE,
        budget_trials=None,
        seed=0,
        workdir=".",
    )
