"""hypersweep's offline W&B capture.

The folder holding this file is put first on a command trial's ``PYTHONPATH`` when the sweep's
``trial.wandb`` is ``capture`` (the default for W&B sweep files): the trial's ``import wandb`` then
imports the stand-in in ``wandb/``, which turns ``wandb.init``/``config``/``log``/``summary``/``save``
and artifacts into hypersweep's JSON lines on stdout. The stand-in uses the standard library only and
never contacts W&B. Nothing here imports it.
"""

from __future__ import annotations

import os

__all__ = ["SHIM_PATH"]

SHIM_PATH = os.path.dirname(os.path.abspath(__file__))
