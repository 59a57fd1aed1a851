"""Who may talk to the dashboard: an optional token (Bearer header, or ``?token=`` once, which sets an
HttpOnly cookie), and CSRF protection for the POST actions (a per-server secret in a SameSite cookie and
in each form)."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["CSRF_COOKIE", "TOKEN_COOKIE", "TokenMiddleware", "check_csrf", "new_secret"]

TOKEN_COOKIE = "hypersweep_token"
CSRF_COOKIE = "hypersweep_csrf"


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


class TokenMiddleware:
    """Answer 401 to any request without the token; ``?token=T`` sets the cookie and redirects to the
    same URL without it (so the token leaves the address bar and the history)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        auth = request.headers.get("authorization", "")
        bearer = auth[7:] if auth.lower().startswith("bearer ") else None
        response: Response | None = None
        if _same(bearer, self.token) or _same(request.cookies.get(TOKEN_COOKIE), self.token):
            await self.app(scope, receive, send)
            return
        if _same(request.query_params.get("token"), self.token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
        else:
            response = PlainTextResponse(
                "401: this dashboard needs its token: open the URL that `hypersweep ui` printed, "
                "or send `Authorization: Bearer TOKEN`",
                status_code=401,
            )
        await response(scope, receive, send)


def check_csrf(request: Request, form_value: str | None, secret: str) -> bool:
    """The form's token and the cookie both hold this server's secret (a cross-site form has neither)."""
    return _same(form_value, secret) and _same(request.cookies.get(CSRF_COOKIE), secret)
