"""`hypersweep stop`, then `resume`: the stop is spent by the run it stopped (the next lease clears it),
and a stop with no live driver records nothing. On SQLite and PostgreSQL (a throwaway schema)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from hypersweep.records import EndReason, StudyStatus, TrialState
from hypersweep.store import opened

ENV = dict(os.environ, RAY_AUTH_MODE="disabled")
SWEEP = """
    name: {name}
    objective: {{metric: loss, goal: minimize}}
    strategy: random
    budget: {{trials: 1000, parallel: 1}}
    trial: {{function: "fns:sleeper"}}
    parameters:
      x: {{type: float, low: 0, high: 1}}
      sleep: {{value: 1.5}}
"""


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hypersweep.cli", *args]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hs.db'}"
        return
    admin = os.environ.get("HYPERSWEEP_TEST_POSTGRES_URL")
    if not admin:
        pytest.skip("HYPERSWEEP_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    from sqlalchemy import create_engine, text

    schema = f"stop_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in admin else "?"
    try:
        yield f"{admin}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _study(url: str, name: str):  # type: ignore[no-untyped-def]
    with opened(url) as st:
        study = st.get_study(name)
        return study, st.study_counts(study.study_id)


def test_stop_then_resume_finishes_the_study(make_sweep, url, tmp_path):  # type: ignore[no-untyped-def]
    name = f"stopped-{uuid.uuid4().hex[:8]}"
    path = make_sweep(SWEEP.format(name=name))
    log = open(tmp_path / "driver.log", "w+")  # noqa: SIM115 - a file, not a pipe nobody drains
    proc = subprocess.Popen(
        _cli("run", str(path), "--store", url, "--executor", "local", "--quiet"),
        env=ENV,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        end = time.time() + 120
        while time.time() < end:
            try:
                study, counts = _study(url, name)
                if study.lease is not None and sum(counts.values()) >= 1:
                    break
            except Exception:  # noqa: BLE001 - the store or the study may not exist yet
                pass
            time.sleep(0.2)
        stop = subprocess.run(_cli("stop", name, "--store", url), env=ENV, capture_output=True, text=True)
        assert stop.returncode == 0, stop.stderr
        assert "asked the driver" in stop.stderr and str(proc.pid) in stop.stderr
        proc.wait(timeout=60)
        assert proc.returncode == 0, (tmp_path / "driver.log").read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    study, counts = _study(url, name)
    assert (study.status, study.end_reason) == (StudyStatus.INTERRUPTED, EndReason.STOP)
    total = counts[TrialState.COMPLETE] + 3
    # resume runs to its new budget (three 1.5 s trials: past the engine's 1 s stop poll), not stopping
    # again at once (before the fix it stopped within a second, every time)
    res = subprocess.run(
        _cli("resume", name, "--store", url, "--executor", "local", "--quiet", "--trials", str(total)),
        env=ENV,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    study, counts = _study(url, name)
    assert (study.status, study.end_reason, study.stop_requested) == (
        StudyStatus.FINISHED,
        EndReason.BUDGET,
        False,
    )
    assert counts[TrialState.COMPLETE] == total
    # no driver now: `stop` says so, exits 0 and records nothing
    idle = subprocess.run(_cli("stop", name, "--store", url), env=ENV, capture_output=True, text=True)
    assert idle.returncode == 0, idle.stderr
    assert "no live driver" in idle.stderr and "nothing recorded" in idle.stderr
    assert _study(url, name)[0].stop_requested is False
