"""What the dashboard tests share: a small sweep, its trial, and the CLI run in-process."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))

from _clirun import run as run_cli  # noqa: E402

__all__ = ["SWEEP", "TRIAL", "run_cli"]

SWEEP = """\
name: ui-grid
objective: {metric: score, goal: maximize}
strategy: grid
seed: 3
trial: {function: "trialfn:train"}
parameters:
  x: {type: categorical, values: [1, 2, 3]}
  kind: {type: categorical, values: [a, b]}
"""

TRIAL = """\
import hypersweep


def train(params):
    for step in range(3):
        hypersweep.report(step, score=params["x"] * (step + 1) / 10)
    return {"score": params["x"] + (0.5 if params["kind"] == "b" else 0.0)}
"""
