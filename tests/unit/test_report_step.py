"""``hypersweep.report``'s step: an integer in [0, 2**63); anything else is a warning, never a crash."""

from __future__ import annotations

import pytest

from hypersweep.trial._context import TrialContext, TrialInfo, report, reset_context, set_context


def _ctx() -> TrialContext:
    return TrialContext(info=TrialInfo(study="s", number=0, params={}, seed=0), push=None, sync=False)


@pytest.mark.parametrize("step", [1e30, -1, 2**63, 1.5, float("inf"), float("nan"), "3", True, None])
def test_bad_step_is_a_warning_and_the_report_is_dropped(step: object) -> None:
    ctx = _ctx()
    token = set_context(ctx)
    try:
        with pytest.warns(RuntimeWarning, match="is not an integer in"):
            report(step, loss=1.0)  # type: ignore[arg-type]
        report(2, loss=0.5)
    finally:
        reset_context(token)
    assert ctx.take_pending() == [("loss", 2, 0.5)]


@pytest.mark.parametrize(("step", "kept"), [(3_000_000_000, 3_000_000_000), (2**63 - 1, 2**63 - 1), (4.0, 4)])
def test_large_and_integral_steps_are_kept(step: float, kept: int) -> None:
    ctx = _ctx()
    token = set_context(ctx)
    try:
        report(step, loss=1.0)  # type: ignore[arg-type]
    finally:
        reset_context(token)
    assert ctx.take_pending() == [("loss", kept, 1.0)]
