"""When a run ends: pure functions of plain inputs (no executor, no store), one per rule.

Each returns the :class:`StopReason` that ends the run, or None. ``check_stop`` applies the rules that end
a run at once, in their order of precedence; ``idle_reason`` the ones that end a run with nothing in
flight; ``end_status`` what the study's status becomes. The table they implement is in
``docs/resume.md``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence

from hypersweep.records import Direction, StudyStatus

__all__ = [
    "FIRST_FAILS",
    "StopReason",
    "budget_reason",
    "check_stop",
    "end_status",
    "exhausted_reason",
    "first_fails_reason",
    "idle_reason",
    "max_failures_reason",
    "patience_reason",
    "target_reason",
    "timeout_reason",
]

FIRST_FAILS = 3  # the first this-many results of a run all failed with the same error: stop


class StopReason(str, enum.Enum):
    BUDGET = "budget reached"
    EXHAUSTED = "search space exhausted"
    TARGET = "metric.target reached"
    TIMEOUT = "timeout"
    STOPPED = "stopped by `hypersweep stop`"
    FAILURES = "failure budget exceeded"
    INTERRUPTED = "interrupted (Ctrl-C)"
    PATIENCE = "no better best within budget.patience trials"


# reasons that end the run at once: the trials in flight are cancelled (they become interrupted)
IMMEDIATE = frozenset({StopReason.TARGET, StopReason.TIMEOUT, StopReason.FAILURES, StopReason.PATIENCE})


def budget_reason(finished: int, budget: int | None) -> StopReason | None:
    """``budget.trials`` finished trials (complete or pruned) reached."""
    return StopReason.BUDGET if budget is not None and finished >= budget else None


def exhausted_reason(exhausted: bool, reruns_pending: int) -> StopReason | None:
    """The strategy has nothing left to suggest and no rerun waits."""
    return StopReason.EXHAUSTED if exhausted and not reruns_pending else None


def timeout_reason(now: float, deadline: float) -> StopReason | None:
    """``budget.timeout`` passed (``deadline`` on the same clock as ``now``; ``math.inf``: none)."""
    return StopReason.TIMEOUT if now >= deadline else None


def max_failures_reason(failed_total: int, max_failures: int | None) -> StopReason | None:
    """More failed trials in the study than ``budget.max_failures`` allows."""
    return StopReason.FAILURES if max_failures is not None and failed_total > max_failures else None


def first_fails_reason(first_results: Sequence[str], max_failures: int | None) -> StopReason | None:
    """Without ``budget.max_failures``: the run's first ``FIRST_FAILS`` results all failed with one error.

    ``first_results`` are the run's first results in order, the first line of the error for a failure
    and "" for a success (only the first ``FIRST_FAILS`` are looked at)."""
    first = first_results[:FIRST_FAILS]
    if max_failures is None and len(first) == FIRST_FAILS and all(first) and len(set(first)) == 1:
        return StopReason.FAILURES
    return None


def target_reason(best: float | None, target: float | None, direction: Direction | None) -> StopReason | None:
    """The best objective so far reached ``objective.target`` (equal counts)."""
    if target is None or best is None or direction is None or not math.isfinite(best):
        return None
    return None if direction.better(target, best) else StopReason.TARGET


def patience_reason(since_best: int, patience: int | None) -> StopReason | None:
    """``budget.patience`` finished trials in a row (over the study's life) without a better best."""
    return StopReason.PATIENCE if patience is not None and since_best >= patience else None


def check_stop(
    *,
    now: float,
    deadline: float,
    failed_total: int,
    max_failures: int | None,
    first_results: Sequence[str],
    best: float | None,
    target: float | None,
    direction: Direction | None,
    since_best: int = 0,
    patience: int | None = None,
) -> StopReason | None:
    """The rules checked on every turn of the loop, in precedence order: timeout, failures, target,
    patience."""
    return (
        timeout_reason(now, deadline)
        or max_failures_reason(failed_total, max_failures)
        or first_fails_reason(first_results, max_failures)
        or target_reason(best, target, direction)
        or patience_reason(since_best, patience)
    )


def idle_reason(finished: int, budget: int | None, exhausted: bool, reruns_pending: int) -> StopReason | None:
    """Why a run with nothing in flight ends: budget met, else space exhausted; None: launch more."""
    return budget_reason(finished, budget) or exhausted_reason(exhausted, reruns_pending)


def end_status(reason: StopReason, finished: int, budget: int | None) -> StudyStatus:
    """Finished when the run did what was asked (budget met, target reached, a grid done, a stop after the
    budget was met); interrupted otherwise (resumable)."""
    met = budget is not None and finished >= budget
    if reason in (StopReason.BUDGET, StopReason.TARGET, StopReason.PATIENCE):
        return StudyStatus.FINISHED
    if reason in (StopReason.EXHAUSTED, StopReason.STOPPED) and met:
        return StudyStatus.FINISHED
    return StudyStatus.INTERRUPTED
