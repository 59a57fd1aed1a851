"""Two sweep folders with a trial module of the same name, run in one process: each runs its own file."""

from __future__ import annotations

from hypersweep.orchestrate import run_sweep
from hypersweep.store import opened

SWEEP = """\
name: {name}
objective: {{metric: score, goal: maximize}}
strategy: grid
trial: {{function: "samename_trial:train"}}
parameters:
  x: {{type: categorical, values: [1]}}
"""


def test_each_folder_runs_its_own_module(tmp_path):
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    for name, value in (("first", 1.0), ("second", 2.0)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "sweep.yaml").write_text(SWEEP.format(name=name))
        (folder / "samename_trial.py").write_text(f"def train(params):\n    return {{'score': {value}}}\n")
        run_sweep(folder / "sweep.yaml", store=url, executor="local")
    with opened(url) as st:
        got = {n: st.get_trials(st.get_study(n).study_id)[0].objective for n in ("first", "second")}
    assert got == {"first": 1.0, "second": 2.0}
