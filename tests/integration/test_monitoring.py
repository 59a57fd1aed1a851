"""System metrics sampled in the worker: a trial holding 200 MB shows it in its RSS series and peak."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from hypersweep.orchestrate import run_sweep
from hypersweep.query import leaderboard_rows
from hypersweep.store import opened
from hypersweep.trial._monitor import gpu_samples


@pytest.mark.usefixtures("ray_session")
def test_rss_series_and_peak_show_a_200_mb_trial(tmp_path):
    shutil.copy(Path(__file__).parent / "trials" / "mem.py", tmp_path / "mem.py")
    spec = tmp_path / "mem.yaml"
    spec.write_text(
        textwrap.dedent("""
        name: mem
        objective: {metric: loss, goal: minimize}
        strategy: grid
        trial: {function: "mem:hold"}
        monitoring: {interval: 0.5s}
        parameters:
          hold: {value: 3.0}
    """)
    )
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    run_sweep(spec, store=url)
    with opened(url) as st:
        study = st.get_study("mem")
        [t] = st.get_trials(study.study_id)
        hist = st.get_history(t.trial_id)
        lb = leaderboard_rows(st, ["mem"], sort="metrics.sys/peak_rss_mb", order="desc")
    rise = [p.value for p in hist if p.name == "sys/rss_rise_mb"]
    assert len(rise) >= 3  # sampled every 0.5 s for 3 s
    assert max(rise) > 180
    assert t.metrics["sys/rss_rise_mb"] > 180 and t.metrics["sys/peak_rss_mb"] > 200
    assert {p.name for p in hist} >= {"sys/cpu_percent", "sys/rss_mb", "sys/host_mem_percent"}
    assert not any(p.name.startswith("sys/gpu") for p in hist)  # no GPU: those series are absent
    assert lb[0]["metrics"]["sys/peak_rss_mb"] == t.metrics["sys/peak_rss_mb"]


def test_monitoring_can_be_turned_off(tmp_path):
    shutil.copy(Path(__file__).parent / "trials" / "fns.py", tmp_path / "fns.py")
    spec = tmp_path / "off.yaml"
    spec.write_text(
        textwrap.dedent("""
        name: mon-off
        objective: {metric: loss, goal: minimize}
        strategy: grid
        trial: {function: "fns:sleeper"}
        monitoring: false
        parameters:
          x: {value: 1.0}
          sleep: {value: 0.5}
    """)
    )
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    run_sweep(spec, store=url, executor="local")
    with opened(url) as st:
        [t] = st.get_trials(st.get_study("mon-off").study_id)
        assert not [p for p in st.get_history(t.trial_id) if p.name.startswith("sys/")]
        assert not [k for k in t.metrics if k.startswith("sys/")]


def test_gpu_metrics_without_pynvml_or_gpus_are_absent_not_errors(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pynvml", None)  # pynvml absent
    assert gpu_samples([]) == []
    samples = gpu_samples([0])
    if shutil.which("nvidia-smi") is None:
        assert samples == []
    else:  # a GPU machine: real values from nvidia-smi
        assert samples and 0 <= samples[0]["util"] <= 100 and samples[0]["mem_total_mb"] > 0
