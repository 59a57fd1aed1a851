from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

TRIALS = Path(__file__).parent / "trials"


@pytest.fixture
def make_sweep(tmp_path):
    """Write a sweep file (and the trial modules beside it) into a temp folder; return its path."""

    def make(text: str, name: str = "sweep.yaml") -> Path:
        for f in TRIALS.glob("*.py"):
            shutil.copy(f, tmp_path / f.name)
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return make


@pytest.fixture
def store_url(tmp_path):
    return f"sqlite:///{tmp_path / 'hs.db'}"
