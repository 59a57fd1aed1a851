"""Serving the dashboard with uvicorn: loopback unless a token guards it, a free port when the asked
one is taken, in the foreground (``hypersweep ui``) or beside a sweep (``run --ui``)."""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
from dataclasses import dataclass
from urllib.parse import quote

import uvicorn

from hypersweep.errors import UsageError
from hypersweep.store import Store
from hypersweep.ui._app import create_app

__all__ = ["DEFAULT_PORT", "Served", "is_loopback", "prepare", "serve_background", "serve_foreground"]

DEFAULT_PORT = 8321


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _free_port(host: str, port: int) -> int:
    """``port`` when it can be bound on ``host``, else one the OS picks."""
    for candidate in (port, 0):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            try:
                s.bind((host, candidate))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise UsageError(f"cannot listen on {host}: no port is free")


@dataclass
class Served:
    """Where the dashboard listens: its URL (with the token, when there is one) and a note to print."""

    server: uvicorn.Server
    url: str
    notes: list[str]


def prepare(
    store: str | Store | None,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    token: str | None = None,
    read_only: bool = False,
) -> Served:
    """The server, not yet started: the token is required on any host but loopback (one is generated and
    carried in the URL when none is given)."""
    notes = []
    if not is_loopback(host) and not token:
        token = secrets.token_urlsafe(18)
        notes.append(f"{host} is not loopback, so the dashboard needs a token: it is in the URL below")
    chosen = _free_port(host, port)
    if chosen != port:
        notes.append(f"port {port} is busy: serving on {chosen} instead")
    app = create_app(store, token=token, read_only=read_only)
    config = uvicorn.Config(app, host=host, port=chosen, log_level="warning", access_log=False, lifespan="on")
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{chosen}/" + (f"?token={quote(token)}" if token else "")
    return Served(uvicorn.Server(config), url, notes)


def serve_foreground(served: Served) -> None:
    served.server.run()


def serve_background(served: Served) -> threading.Thread:
    """Start the server in a daemon thread (beside a running sweep); returns once it listens."""
    thread = threading.Thread(target=served.server.run, name="hypersweep-ui", daemon=True)
    thread.start()
    while not served.server.started and thread.is_alive():
        thread.join(0.02)
    return thread
