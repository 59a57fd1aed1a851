"""A trial cancelled in the middle of an import leaves its worker able to import that package again.

Ray cancels a running trial by raising KeyboardInterrupt wherever the worker's main thread is, then
reuses the worker. Here the interrupt is raised by the package itself (deterministically, where a real
cancel lands by chance): its first submodule has finished, the second is cut short.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from hypersweep.trial._imports import forget_orphaned_modules
from hypersweep.trial._payload import TrialPayload


def _package(root: Path, name: str) -> Path:
    """A package whose `__init__` reads an attribute of its first submodule after importing the
    second; the second raises KeyboardInterrupt while a marker file exists."""
    pkg = root / name
    pkg.mkdir()
    marker = root / f"{name}.interrupt"
    marker.touch()
    (pkg / "__init__.py").write_text(
        textwrap.dedent(f"""
        import {name}.first
        import {name}.second
        VALUE = {name}.first.VALUE
    """)
    )
    (pkg / "first.py").write_text("VALUE = 42\n")
    (pkg / "second.py").write_text(
        textwrap.dedent(f"""
        import pathlib
        marker = pathlib.Path({str(marker)!r})
        if marker.exists():
            marker.unlink()
            raise KeyboardInterrupt  # as Ray's cancel would, mid-import
    """)
    )
    (root / f"{name}_trial.py").write_text(
        textwrap.dedent(f"""
        def train(config):
            import {name}
            return {{"loss": float({name}.VALUE)}}
    """)
    )
    return root


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_leftovers_of_an_interrupted_import_break_the_next_one_until_forgotten(on_path):
    _package(on_path, "hs_cut_a")
    with pytest.raises(KeyboardInterrupt):
        import hs_cut_a  # noqa: F401
    assert "hs_cut_a" not in sys.modules and "hs_cut_a.first" in sys.modules  # the orphan
    with pytest.raises(AttributeError, match="partially initialized module 'hs_cut_a'"):
        import hs_cut_a  # noqa: F401,F811
    # the failed retry ran `second` to its end before failing: both are orphans now
    assert forget_orphaned_modules() == ["hs_cut_a.first", "hs_cut_a.second"]
    import hs_cut_a  # noqa: F811

    assert hs_cut_a.VALUE == 42
    assert forget_orphaned_modules() == []  # nothing else in this process was orphaned


def _trial(workdir: Path, number: int) -> TrialPayload:
    return TrialPayload(
        trial_id=number + 1,
        study="cut",
        number=number,
        params={},
        nested_params={},
        seed=number,
        workdir=str(workdir),
        objective="loss",
        function="hs_cut_b_trial:train",
        capture_env=False,
        monitoring_interval_s=None,
    )


def test_a_trial_after_one_cancelled_mid_import_imports_the_same_package(on_path):
    _package(on_path, "hs_cut_b")
    with pytest.raises(KeyboardInterrupt):  # the cancelled trial: Ray sees the interrupt
        _trial(on_path, 0)(None)
    assert "hs_cut_b.first" not in sys.modules  # the worker forgot the leftovers
    result = _trial(on_path, 1)(None)  # the next trial on the same worker process
    assert result.state == "complete", result.error
    assert result.metrics["loss"] == 42.0
