"""The ``Strategy`` interface: what to try next.

A strategy is rebuilt from the store's trial history (``load_history``) on start and on resume; it is
never pickled. ``ask`` returns up to ``n`` suggestions (fewer when a grid runs out); every suggestion is
later closed with ``tell``. ``report`` feeds an intermediate value to the pruner and says whether the
trial should stop.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypersweep.records import MetricPoint, TrialRecord, TrialState

__all__ = ["HistoryTrial", "Strategy", "StrategyTraits", "Suggestion", "params_key", "trial_seed"]


@dataclass(frozen=True)
class Suggestion:
    """Params to run (flat, dotted names) and the strategy's handle to close it with ``tell``."""

    params: Mapping[str, Any]
    token: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class HistoryTrial:
    """A trial of the store's history, as a strategy needs it."""

    record: TrialRecord
    history: Sequence[MetricPoint] = ()


def params_key(params: Mapping[str, Any]) -> str:
    """Canonical identity of a parameter set (order-independent, stable across runs)."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


def trial_seed(study_seed: int, params: Mapping[str, Any]) -> int:
    """Seed of a trial: derived from the study seed and the params' identity (docs/semantics.md section 3)."""
    digest = hashlib.sha256(f"{study_seed}:{params_key(params)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True)
class StrategyTraits:
    """What a strategy declares about itself (see ``hypersweep.strategies._registry``); the engine's
    launcher and the run decide ask-ahead, chunking and the default budget from these, never from names.
    The defaults are the cautious ones: adaptive, infinite, one objective, no extra."""

    adaptive: bool = True  # learns from results: ask ahead shallowly, never chunk
    finite: bool = False  # a finite list of points walked once (its size is the default budget)
    multi_objective: bool = False  # can optimise several objectives
    extra: str | None = None  # optional-dependency extra it needs


class Strategy(abc.ABC):
    name: str
    traits: StrategyTraits = StrategyTraits()  # set from the registry by ``make_strategy``

    @abc.abstractmethod
    def load_history(self, trials: Sequence[HistoryTrial]) -> None:
        """Rebuild the state from finished (and running) trials of the store."""

    @abc.abstractmethod
    def ask(self, n: int) -> list[Suggestion]:
        """Up to ``n`` new suggestions; an empty list means the space is exhausted."""

    @abc.abstractmethod
    def tell(self, suggestion: Suggestion, state: TrialState, value: float | None) -> None:
        """Close a suggestion with its outcome (complete, pruned, failed or interrupted)."""

    def tell_values(
        self,
        suggestion: Suggestion,
        state: TrialState,
        values: Sequence[float | None],
        constraints: Sequence[float] | None = None,
    ) -> None:
        """Close a suggestion with every objective value, in the spec's order (the engine calls this; a
        strategy for several objectives overrides it, a single-objective one gets the first value).
        ``constraints``: the violation of each of the spec's constraints (<= 0: holds), for a complete
        or pruned trial of a constrained study; a strategy that searches towards feasibility uses them."""
        self.tell(suggestion, state, values[0] if values else None)

    def adopt(self, params: Mapping[str, Any]) -> Suggestion:
        """A suggestion for given params (a rerun, an enqueued set): the model sees it like its own."""
        return Suggestion(params=dict(params), token=None)

    def report(self, suggestion: Suggestion, step: int, value: float) -> bool:
        """Feed an intermediate objective value; True when the trial should be pruned."""
        return False

    def warm_start(self, trials: Sequence[HistoryTrial]) -> int:
        """Feed finished trials of other studies to the model; returns how many were used."""
        return 0

    @property
    def exhausted(self) -> bool:
        """True when ``ask`` will never return anything again (a finished grid)."""
        return False
