"""Store URLs made safe to show: the password masked."""

from __future__ import annotations

import re

__all__ = ["mask_url"]

_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|sslpassword)=)[^&#]*")


def mask_url(url: str) -> str:
    """``url`` with its password (in the authority or a ``password=`` query item) replaced by ``***``.

    Works on any URL-shaped string without SQLAlchemy, so it is safe to call on user input before parsing.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return _QUERY_SECRET.sub(r"\1***", url)
    head, qsep, query = rest.partition("?")
    at = head.rfind("@")
    if at >= 0:
        userinfo, hostpart = head[:at], head[at + 1 :]
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            head = f"{user}:***@{hostpart}"
    masked = f"{scheme}://{head}{qsep}{query}"
    return _QUERY_SECRET.sub(r"\1***", masked)
