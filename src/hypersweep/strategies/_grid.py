"""Grid search: walk the spec's points in order, each exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypersweep.records import TrialState
from hypersweep.spec import grid_points
from hypersweep.strategies._base import HistoryTrial, Strategy, Suggestion, params_key
from hypersweep.strategies._optuna import OptunaMirror, make_pruner

__all__ = ["GridStrategy"]


class GridStrategy(Strategy):
    """Every point once: a point that appears in any trial of the study (running, finished, failed or
    interrupted) is never suggested again. Reruns of failed/interrupted points are the engine's job."""

    name = "grid"

    def __init__(self, spec: Any, study_seed: int) -> None:
        self._spec = spec
        self._points = grid_points(spec.parameters)
        self._seen: set[str] = set()
        self._cursor = 0
        es = spec.early_stopping
        self._objective = spec.objective.metric if spec.objective is not None else None
        self._mirror = OptunaMirror(
            spec.parameters,
            spec.objective.direction if spec.objective is not None else None,
            None,
            make_pruner(es),
            prune_resource_is_reports=(getattr(es, "options", {}) or {}).get("resource") == "reports",
        )

    @property
    def size(self) -> int:
        return len(self._points)

    def load_history(self, trials: Sequence[HistoryTrial]) -> None:
        self._seen = {params_key(h.record.params) for h in trials}
        self._cursor = 0
        self._mirror.add_history(trials, self._objective)

    def ask(self, n: int) -> list[Suggestion]:
        out: list[Suggestion] = []
        while len(out) < n and self._cursor < len(self._points):
            point = self._points[self._cursor]
            self._cursor += 1
            key = params_key(point)
            if key in self._seen:
                continue
            self._seen.add(key)
            token = self._mirror.fixed_trial() if self._mirror_needed else None
            out.append(Suggestion(params=point, token=token))
        return out

    def adopt(self, params: Any) -> Suggestion:
        self._seen.add(params_key(params))
        token = self._mirror.fixed_trial() if self._mirror_needed else None
        return Suggestion(params=dict(params), token=token)

    @property
    def _mirror_needed(self) -> bool:
        return getattr(self._spec.early_stopping, "type", "none") != "none"

    def tell(self, suggestion: Suggestion, state: TrialState, value: float | None) -> None:
        if suggestion.token is not None:
            self._mirror.tell(suggestion.token, state, value)

    def report(self, suggestion: Suggestion, step: int, value: float) -> bool:
        if suggestion.token is None:
            return False
        return self._mirror.report(suggestion.token, step, value)

    @property
    def exhausted(self) -> bool:
        return all(params_key(p) in self._seen for p in self._points[self._cursor :])
