"""Every example in sweeps/ validates, and runs to completion with a tiny budget on the Ray executor."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hypersweep.orchestrate import run_sweep
from hypersweep.records import StudyStatus, TrialState
from hypersweep.spec import load_spec
from hypersweep.store import opened

SWEEPS = Path(__file__).parents[1] / "sweeps"
EXAMPLES = sorted(SWEEPS.glob("*.yaml"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_without_warnings(path):
    spec = load_spec(path)
    assert not spec.warnings, [str(w) for w in spec.warnings]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_on_ray(path, tmp_path, ray_session):
    if "torch" in path.stem:
        pytest.importorskip(
            "torch", reason="the PyTorch example needs the examples extra: pip install -e '.[examples]'"
        )
    folder = tmp_path / "sweeps"
    shutil.copytree(SWEEPS, folder)
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    res = run_sweep(folder / path.name, store=url, trials=3, parallel=2)
    assert res.status is StudyStatus.FINISHED
    with opened(url) as st:
        trials = st.get_trials(res.study.study_id)
    assert sum(t.state.is_finished for t in trials) == 3
    assert not [t for t in trials if t.state is TrialState.FAILED], [t.error for t in trials]
    assert res.top and res.top[0]["objective"] is not None
