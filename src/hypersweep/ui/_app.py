"""The dashboard as an ASGI app: ``create_app(store)``, over the same ``query`` functions as the CLI.

The server reads the store; it writes only through the actions (stop, tag, note), which are POST forms
with a CSRF token, absent under ``read_only`` and when the store refuses writes (a SELECT-only role).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from hypersweep.errors import (
    HypersweepError,
    QueryError,
    SchemaVersionError,
    StoreError,
    StoreUnavailableError,
    SweepNotFoundError,
    UsageError,
)
from hypersweep.store import Store, open_store, resolve_store_url
from hypersweep.ui._api import api_routes
from hypersweep.ui._auth import TokenMiddleware, new_secret
from hypersweep.ui._live import Feeds
from hypersweep.ui._pages import page_routes, render
from hypersweep.ui._state import UIState

__all__ = ["create_app"]


def _status(e: Exception) -> int:
    if isinstance(e, SweepNotFoundError):
        return 404
    if isinstance(e, QueryError | UsageError):
        return 400
    if isinstance(e, PermissionError):
        return 403
    if isinstance(e, StoreUnavailableError | SchemaVersionError):
        return 503
    return 500


async def _error(request: Request, exc: Exception) -> Response:
    status = _status(exc)
    message = str(exc)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    return render(request, "error.html", status_code=status, status=status, message=message)


def _writable(store: Store) -> str | None:
    """None when the store takes writes; else why not."""
    try:
        store.check_writable()
    except StoreError as e:
        return f"the store refuses writes: {e}"
    return None


def create_app(
    store: str | Store | None = None,
    *,
    token: str | None = None,
    read_only: bool = False,
    poll_s: float = 0.5,
) -> Starlette:
    """The dashboard over ``store`` (a URL, an open :class:`Store`, or None for ``$HYPERSWEEP_STORE`` /
    ``sqlite:///hypersweep.db``). With ``token``, every request must carry it. The store is opened now
    (an old schema raises :class:`SchemaVersionError` naming ``hypersweep db upgrade``) and closed with
    the app when it was opened here."""
    owned = not isinstance(store, Store)
    st = open_store(resolve_store_url(store)) if not isinstance(store, Store) else store
    reason = "started with --read-only" if read_only else _writable(st)
    hs = UIState(
        store=st,
        feeds=Feeds(st, poll_s=poll_s),
        csrf_secret=new_secret(),
        can_act=reason is None,
        read_only_reason=reason,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned:
                st.close()

    from importlib.resources import files

    static = StaticFiles(directory=str(files("hypersweep.ui") / "static"))
    middleware = [Middleware(TokenMiddleware, token=token)] if token else []
    handlers: dict[Any, Any] = {HypersweepError: _error, PermissionError: _error}
    app = Starlette(
        routes=[*api_routes, *page_routes, Mount("/static", app=static, name="static")],
        middleware=middleware,
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.state.hypersweep = hs
    return app
