"""``hypersweep ui``: a live dashboard over the store (Starlette on uvicorn, Jinja2 pages, plotly.js).

Install it with ``pip install 'hypersweep[ui]'``. Pages and the JSON API under ``/api/`` call the same
:mod:`hypersweep.query` functions as the CLI; see ``docs/ui.md``.
"""

from __future__ import annotations

from hypersweep.ui._app import create_app
from hypersweep.ui._serve import (
    DEFAULT_PORT,
    Served,
    is_loopback,
    prepare,
    serve_background,
    serve_foreground,
)

__all__ = [
    "DEFAULT_PORT",
    "Served",
    "create_app",
    "is_loopback",
    "prepare",
    "serve_background",
    "serve_foreground",
]
