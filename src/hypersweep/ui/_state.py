"""What the dashboard's handlers share: the store, the live feeds, and what this server may do."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from hypersweep.store import Store
from hypersweep.ui._live import Feeds

__all__ = ["UIState", "state"]


@dataclass
class UIState:
    store: Store
    feeds: Feeds
    csrf_secret: str
    can_act: bool  # actions (stop, tag, note) are offered: not --read-only, and the store takes writes
    read_only_reason: str | None  # why not, shown on the pages


def state(request: Request) -> UIState:
    hs: UIState = request.app.state.hypersweep
    return hs
