"""The JSON API under ``/api/``: the same rows the CLI prints with ``--format json``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hypersweep import query
from hypersweep.errors import UsageError
from hypersweep.ui._state import state

__all__ = ["api_routes", "int_param"]


def int_param(
    request: Request, key: str, default: int | None, *, low: int = 0, high: int = 10**9
) -> int | None:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"?{key}= must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise UsageError(f"?{key}= must be between {low} and {high}, not {value}")
    return value


def _json(data: Any) -> JSONResponse:
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


def _name(request: Request) -> str:
    return str(request.path_params["name"])


def _number(request: Request) -> int:
    return int(request.path_params["number"])


def studies(request: Request) -> JSONResponse:
    q = request.query_params
    return _json(query.studies_overview(state(request).store, q.get("pattern") or None, tag=q.get("tag")))


def study(request: Request) -> JSONResponse:
    return _json(query.study_overview(state(request).store, _name(request)))


def leaderboard(request: Request) -> JSONResponse:
    q = request.query_params
    rows = query.leaderboard_rows(
        state(request).store,
        [_name(request)],
        top=int_param(request, "top", 10, low=1, high=10_000),
        where=q.get("where") or None,
        sort=q.get("sort") or None,
        order=q.get("order") or None,
        include_pruned=q.get("include_pruned") in ("1", "true"),
    )
    return _json(rows)


def trial(request: Request) -> JSONResponse:
    return _json(query.trial_detail(state(request).store, _name(request), _number(request)))


def trial_history(request: Request) -> JSONResponse:
    row = query.show_trial(state(request).store, _name(request), _number(request))
    return _json({"history": row["history"], "system_metrics": row["system_metrics"]})


def trial_log(request: Request) -> JSONResponse:
    text, st = query.trial_log(state(request).store, _name(request), _number(request))
    after = int_param(request, "after", 0) or 0
    return _json({"state": st.value, "length": len(text), "text": text[after:]})


def history(request: Request) -> JSONResponse:
    return _json(query.objective_history(state(request).store, _name(request)))


def curves(request: Request) -> JSONResponse:
    return _json(query.learning_curves(state(request).store, _name(request)))


def timeline(request: Request) -> JSONResponse:
    return _json(query.timeline(state(request).store, _name(request)))


def plots(request: Request) -> JSONResponse:
    return _json(query.study_plots(state(request).store, _name(request)))


def changes(request: Request) -> JSONResponse:
    after = int_param(request, "after", None)
    return _json(state(request).feeds.changes(_name(request), after))


def compare(request: Request) -> JSONResponse:
    return _json(query.compare_trials(state(request).store, parse_refs(request.query_params.getlist("t"))))


def parse_refs(values: list[str]) -> list[tuple[str, int]]:
    """``STUDY:NUMBER`` items (the last colon splits, so study names may hold one)."""
    refs = []
    for v in values:
        name, sep, number = v.rpartition(":")
        if not sep or not name or not number.isdigit():
            raise UsageError(f"a trial to compare is STUDY:NUMBER, not {v!r}")
        refs.append((name, int(number)))
    return refs


api_routes = [
    Route("/api/studies", studies),
    Route("/api/compare", compare),
    Route("/api/studies/{name}", study),
    Route("/api/studies/{name}/leaderboard", leaderboard),
    Route("/api/studies/{name}/history", history),
    Route("/api/studies/{name}/curves", curves),
    Route("/api/studies/{name}/timeline", timeline),
    Route("/api/studies/{name}/plots", plots),
    Route("/api/studies/{name}/changes", changes),
    Route("/api/studies/{name}/trials/{number:int}", trial),
    Route("/api/studies/{name}/trials/{number:int}/history", trial_history),
    Route("/api/studies/{name}/trials/{number:int}/log", trial_log),
]
