"""``budget.patience`` through the CLI on the local executor: the run ends on patience and says how to go
on; ``resume`` counts over the study's life and takes ``--set budget.patience=``; keys that change what
trials compute are refused on resume."""

from __future__ import annotations

import json

from _clirun import run

SWEEP = """\
name: patient
objective: {metric: loss, goal: minimize}
strategy: grid
budget: {patience: 2}
trial: {function: "lossfn:f"}
parameters:
  x: {type: categorical, values: [3, 1, 2, 4, 0.5, 5]}
"""


def test_patience_ends_the_run_and_resume_goes_on_with_a_larger_one(tmp_path):
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    (tmp_path / "lossfn.py").write_text("def f(params):\n    return {'loss': params['x']}\n")
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    first = run("run", str(tmp_path / "sweep.yaml"), "--store", url, "--executor", "local", "--quiet")
    assert first.returncode == 0, first.stderr
    text = first.stdout + first.stderr
    assert "budget.patience=2" in text and "--set budget.patience=" in text

    def study() -> dict:
        (row,) = json.loads(run("studies", "--store", url, "--format", "json").stdout)
        return row

    row = study()  # 3, 1 improve; 2, 4 do not
    assert (row["status"], row["end_reason"], row["trials_complete"]) == ("finished", "patience", 4)
    again = run("resume", "patient", "--store", url, "--executor", "local", "--quiet")
    assert again.returncode == 0 and study()["trials_complete"] == 4  # the same count: nothing ran
    assert "budget.patience=2" in again.stdout + again.stderr
    more = run(
        "resume", "patient", "--store", url, "--executor", "local", "--quiet", "--set", "budget.patience=3"
    )
    assert more.returncode == 0, more.stderr
    row = study()  # 0.5 improves, 5 does not: the grid is done
    assert (row["trials_complete"], row["best_objective"], row["end_reason"]) == (6, 0.5, "budget")
    conflict = run(
        "resume", "patient", "--store", url, "--executor", "local", "--set", "objective.metric=acc"
    )
    assert conflict.returncode == 2 and "objective" in conflict.stderr


def test_patience_without_an_objective_is_a_spec_error(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP.replace("objective: {metric: loss, goal: minimize}\n", ""))
    p = run("validate", str(path))
    assert p.returncode == 2 and "budget.patience" in p.stderr and "needs an objective" in p.stderr
