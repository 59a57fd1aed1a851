"""A function trial that calls sys.exit() ends as a command trial with that exit code would: 0 is a
normal end (its reported metrics count), anything else fails it. The worker (or, with the local
executor, the driver) goes on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hypersweep.trial._payload import TrialPayload

TRIAL = textwrap.dedent("""
    import sys
    import hypersweep

    def train(config):
        for step in range(3):
            hypersweep.report(step, loss=1.0 / (step + 1))
        sys.exit(config["code"])
""")


def _run(workdir: Path, code: object):  # type: ignore[no-untyped-def]
    (workdir / "exiting_trial.py").write_text(TRIAL)
    payload = TrialPayload(
        trial_id=1,
        study="exit",
        number=0,
        params={"code": code},
        nested_params={"code": code},
        seed=0,
        workdir=str(workdir),
        objective="loss",
        function="exiting_trial:train",
        capture_env=False,
        monitoring_interval_s=None,
    )
    return payload(None)


@pytest.mark.parametrize("code", [0, None])
def test_exit_zero_ends_the_trial_normally(tmp_path: Path, code: object) -> None:
    result = _run(tmp_path, code)
    assert result.state == "complete", result.error
    assert result.metrics["loss"] == pytest.approx(1 / 3)
    assert [p[1] for p in result.points] == [0, 1, 2]


@pytest.mark.parametrize("code", [3, "bad config"])
def test_exit_with_an_error_fails_the_trial(tmp_path: Path, code: object) -> None:
    result = _run(tmp_path, code)
    assert result.state == "failed"
    assert f"sys.exit({code!r})" in (result.error or "")
    assert result.metrics["loss"] == pytest.approx(1 / 3)  # what it reported before is kept
