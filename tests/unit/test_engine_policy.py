"""The engine's end rules as pure functions, and the launcher's queue-ahead by strategy traits."""

from __future__ import annotations

import math

from hypersweep.engine import StopReason, end_status, queue_ahead
from hypersweep.engine._policy import (
    budget_reason,
    check_stop,
    first_fails_reason,
    idle_reason,
    max_failures_reason,
    target_reason,
    timeout_reason,
)
from hypersweep.records import Direction, StudyStatus
from hypersweep.strategies import StrategyTraits, strategy_traits


def test_budget_and_exhaustion():
    assert budget_reason(5, 5) is StopReason.BUDGET
    assert budget_reason(4, 5) is None and budget_reason(10**6, None) is None
    assert idle_reason(3, 5, exhausted=True, reruns_pending=0) is StopReason.EXHAUSTED
    assert idle_reason(3, 5, exhausted=True, reruns_pending=1) is None
    assert idle_reason(5, 5, exhausted=True, reruns_pending=0) is StopReason.BUDGET


def test_timeout_and_failure_budgets():
    assert timeout_reason(10.0, 10.0) is StopReason.TIMEOUT and timeout_reason(9.9, 10.0) is None
    assert timeout_reason(1e9, math.inf) is None
    assert max_failures_reason(3, 2) is StopReason.FAILURES and max_failures_reason(2, 2) is None
    assert max_failures_reason(100, None) is None


def test_first_three_failures_alike_only_without_max_failures():
    assert first_fails_reason(["E", "E", "E"], None) is StopReason.FAILURES
    assert first_fails_reason(["E", "E"], None) is None
    assert first_fails_reason(["E", "F", "E"], None) is None
    assert first_fails_reason(["E", "", "E"], None) is None
    assert first_fails_reason(["E", "E", "E"], 5) is None
    assert first_fails_reason(["", "E", "E", "E"], None) is None  # only the first three count


def test_target_by_direction_and_precedence():
    assert target_reason(0.05, 0.06, Direction.MINIMIZE) is StopReason.TARGET
    assert target_reason(0.06, 0.06, Direction.MINIMIZE) is StopReason.TARGET  # equal counts
    assert target_reason(0.07, 0.06, Direction.MINIMIZE) is None
    assert target_reason(0.9, 0.95, Direction.MAXIMIZE) is None
    assert target_reason(None, 0.95, Direction.MAXIMIZE) is None
    both = dict(failed_total=9, max_failures=2, first_results=[], best=0.0, target=1.0)
    assert check_stop(now=5, deadline=5, direction=Direction.MINIMIZE, **both) is StopReason.TIMEOUT
    assert check_stop(now=1, deadline=5, direction=Direction.MINIMIZE, **both) is StopReason.FAILURES


def test_end_status():
    assert end_status(StopReason.BUDGET, 5, 5) is StudyStatus.FINISHED
    assert end_status(StopReason.TARGET, 1, 5) is StudyStatus.FINISHED
    assert end_status(StopReason.EXHAUSTED, 5, 5) is StudyStatus.FINISHED
    assert end_status(StopReason.EXHAUSTED, 4, 5) is StudyStatus.INTERRUPTED
    assert end_status(StopReason.STOPPED, 4, 5) is StudyStatus.INTERRUPTED
    assert end_status(StopReason.STOPPED, 5, 5) is StudyStatus.FINISHED
    for reason in (StopReason.TIMEOUT, StopReason.FAILURES, StopReason.INTERRUPTED):
        assert end_status(reason, 5, 5) is StudyStatus.INTERRUPTED


def test_queue_ahead_follows_traits_not_names():
    adaptive, blind = StrategyTraits(adaptive=True), StrategyTraits(adaptive=False)
    assert queue_ahead(adaptive, 4, 4, cluster_queues=True) == 4  # one round: suggestions stay fresh
    assert queue_ahead(blind, 4, 4, cluster_queues=True) == 8
    assert queue_ahead(blind, 2, 4, cluster_queues=True) == 0  # the cluster does not cap it
    assert queue_ahead(blind, 4, 4, cluster_queues=False) == 0
    # what the built-ins declare
    assert strategy_traits("tpe").adaptive and not strategy_traits("random").adaptive
    assert strategy_traits("grid").finite and not strategy_traits("random").finite
