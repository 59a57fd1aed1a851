"""The HTML pages: studies, a study, a trial, compare, the cross-study leaderboard; and the actions.

Pages are rendered on the server with Jinja2 (autoescaped: every user string is text); charts and live
updates are filled in by ``static/app.js`` from the JSON API.
"""

from __future__ import annotations

import getpass
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from hypersweep import query
from hypersweep.errors import QueryError, UsageError
from hypersweep.orchestrate import stop_sweep
from hypersweep.ui._api import int_param, parse_refs
from hypersweep.ui._auth import CSRF_COOKIE, check_csrf
from hypersweep.ui._state import state

__all__ = ["PAGE_SIZE", "page_routes", "render"]

PAGE_SIZE = 50

_env = Environment(
    loader=PackageLoader("hypersweep.ui", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _sortlink(params: Any, column: str) -> str:
    """The query string that sorts by ``column`` (again: the other way), from page 1."""
    items = {k: v for k, v in params.items() if k not in ("sort", "order", "page")}
    order = "asc"
    if params.get("sort") == column and params.get("order") != "desc":
        order = "desc"
    items.update(sort=column, order=order)
    return urlencode(items)


def _pagelink(params: Any, page: int) -> str:
    items = {k: v for k, v in params.items() if k != "page"}
    items["page"] = str(page)
    return urlencode(items)


_env.filters["fmt"] = _fmt
_env.filters["duration"] = _duration
_env.filters["sortlink"] = _sortlink
_env.filters["pagelink"] = _pagelink


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    hs = state(request)
    html = _env.get_template(template).render(
        request=request,
        can_act=hs.can_act,
        read_only_reason=hs.read_only_reason,
        csrf=hs.csrf_secret,
        store=hs.store.url_masked,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
    response.set_cookie(CSRF_COOKIE, hs.csrf_secret, httponly=True, samesite="strict")
    return response


def studies_page(request: Request) -> HTMLResponse:
    q = request.query_params
    pattern, tag = q.get("pattern") or None, q.get("tag") or None
    rows = query.studies_overview(state(request).store, pattern, tag=tag)
    return render(request, "studies.html", rows=rows, pattern=pattern or "", tag=tag or "")


def _leaderboard_args(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "where": q.get("where") or None,
        "sort": q.get("sort") or None,
        "order": q.get("order") or None,
        "include_pruned": q.get("include_pruned") in ("1", "true", "on"),
    }


def study_page(request: Request) -> HTMLResponse:
    st = state(request).store
    name = str(request.path_params["name"])
    study = query.study_overview(st, name)
    args = _leaderboard_args(request)
    page = int_param(request, "page", 1, low=1) or 1
    error = None
    try:
        # the page's rows (and one more, to know there is a next page): deep pages read ids, not records
        rows = query.leaderboard_rows(st, [name], top=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, **args)
    except (UsageError, QueryError) as e:  # a bad filter: the page, with the message under the filter box
        rows, error = [], str(e)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    params = sorted({k for r in rows for k in r["params"]})
    metrics = sorted({k for r in rows for k in r["metrics"]})
    return render(
        request,
        "study.html",
        study=study,
        rows=rows,
        params=params,
        metrics=metrics,
        args=args,
        page=page,
        more=more,
        filter_error=error,
        page_size=PAGE_SIZE,
    )


def trial_page(request: Request) -> HTMLResponse:
    name, number = str(request.path_params["name"]), int(request.path_params["number"])
    row = query.trial_detail(state(request).store, name, number)
    return render(request, "trial.html", trial=row)


def compare_page(request: Request) -> HTMLResponse:
    refs = parse_refs(request.query_params.getlist("t"))
    data = query.compare_trials(state(request).store, refs) if refs else None
    return render(request, "compare.html", data=data, refs=[f"{n}:{k}" for n, k in refs])


def leaderboard_page(request: Request) -> HTMLResponse:
    q = request.query_params
    names = [n for n in q.getlist("names") if n] or ([q["pattern"]] if q.get("pattern") else [])
    rows: list[dict[str, Any]] = []
    error = None
    if names:
        try:
            rows = query.leaderboard_rows(
                state(request).store,
                names,
                top=int_param(request, "top", 50, low=1, high=10_000),
                **_leaderboard_args(request),
            )
        except (UsageError, QueryError) as e:
            error = str(e)
    params = sorted({k for r in rows for k in r["params"]})
    return render(request, "leaderboard.html", rows=rows, names=names, params=params, filter_error=error)


def download(request: Request) -> Response:
    """One artifact of a trial, fetched from the artifact root and verified (size and sha256) first."""
    name, number = str(request.path_params["name"]), int(request.path_params["number"])
    artifact = request.query_params.get("name", "")
    st = state(request).store
    tmp = tempfile.mkdtemp(prefix="hypersweep-ui-")
    try:
        paths = query.download_artifact(st, name, number, artifact, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(
        paths,
        filename=os.path.basename(artifact) or "artifact",
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )


async def _action(request: Request) -> tuple[str, dict[str, str]]:
    hs = state(request)
    name = str(request.path_params["name"])
    form = await request.form()
    fields = {k: str(v) for k, v in form.items()}
    if not hs.can_act:
        raise UsageError(f"this dashboard is read-only ({hs.read_only_reason})")
    if not check_csrf(request, fields.get("csrf"), hs.csrf_secret):
        raise PermissionError("the form's CSRF token is missing or wrong: reload the page and try again")
    return name, fields


def _back(name: str, message: str) -> RedirectResponse:
    from urllib.parse import quote

    return RedirectResponse(f"/studies/{quote(name, safe='')}?msg={quote(message)}", status_code=303)


async def stop_action(request: Request) -> Response:
    name, _ = await _action(request)
    result = stop_sweep(name, store=state(request).store)
    message = getattr(result, "message", None) or f"asked the driver of {name} to stop"
    return _back(name, str(message))


async def tag_action(request: Request) -> Response:
    name, fields = await _action(request)
    key = fields.get("key", "").strip()
    if not key:
        raise UsageError("a tag needs a key")
    query.tag_study(state(request).store, name, {key: fields.get("value") or None})
    return _back(name, f"tag {key} set by {getpass.getuser()}")


async def note_action(request: Request) -> Response:
    name, fields = await _action(request)
    query.note_study(state(request).store, name, fields.get("text", ""))
    return _back(name, f"note saved by {getpass.getuser()}")


def _static_plotly() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def plotly_js(request: Request) -> FileResponse:
    return FileResponse(
        _static_plotly(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
    )


page_routes = [
    Route("/", studies_page),
    Route("/compare", compare_page),
    Route("/leaderboard", leaderboard_page),
    Route("/static/plotly.min.js", plotly_js),
    Route("/studies/{name}", study_page),
    Route("/studies/{name}/trials/{number:int}", trial_page),
    Route("/studies/{name}/trials/{number:int}/artifact", download),
    Route("/studies/{name}/stop", stop_action, methods=["POST"]),
    Route("/studies/{name}/tag", tag_action, methods=["POST"]),
    Route("/studies/{name}/note", note_action, methods=["POST"]),
]
