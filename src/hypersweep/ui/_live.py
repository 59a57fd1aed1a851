"""Live updates: one shared poll of the store per study, whatever the number of open pages.

A page asks ``/api/studies/{name}/changes?after=CURSOR``. The server polls the store for that study at
most once per ``poll_s`` (under a lock, so concurrent pages wait for the same poll), keeps the most
recent changes in memory, and answers every page from them: a poll with nothing new returns nothing, a
trial that moved from running to complete comes back once, and no page ever gets the study's history
again. A page whose cursor is older than what is kept is told to reload (``reset``).
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from hypersweep.query import trial_changes
from hypersweep.store import Store

__all__ = ["Feeds"]

KEEP = 5_000  # changes kept per study


@dataclass
class _Feed:
    cursor: int | None = None  # the store's cursor after the last poll; None before the first
    oldest: int = 0  # changes after this cursor are all in `recent`
    recent: collections.deque[tuple[int, dict[str, Any]]] = field(
        default_factory=lambda: collections.deque(maxlen=KEEP)
    )
    counts: dict[str, int] = field(default_factory=dict)
    polled_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Feeds:
    """The live feeds of every study a page watches, polled from one store."""

    def __init__(self, store: Store, *, poll_s: float = 0.5) -> None:
        self.store = store
        self.poll_s = poll_s
        self.polls = 0  # store polls made (for tests and the benchmark)
        self._feeds: dict[str, _Feed] = {}
        self._lock = threading.Lock()

    def _feed(self, name: str) -> _Feed:
        with self._lock:
            return self._feeds.setdefault(name, _Feed())

    def changes(self, name: str, after: int | None) -> dict[str, Any]:
        """What changed in study ``name`` since ``after`` (None: nothing yet, just the current cursor)."""
        feed = self._feed(name)
        with feed.lock:
            if feed.cursor is None or time.monotonic() - feed.polled_at >= self.poll_s:
                got = trial_changes(self.store, name, feed.cursor)
                self.polls += 1
                if feed.cursor is None:
                    feed.oldest = got["cursor"]
                else:
                    for row in got["trials"]:
                        feed.recent.append((row["change"], row))
                    if len(feed.recent) == feed.recent.maxlen:
                        feed.oldest = feed.recent[0][0] - 1
                feed.cursor = got["cursor"]
                feed.counts = got["counts"]
                feed.polled_at = time.monotonic()
            cursor, oldest, counts = feed.cursor, feed.oldest, dict(feed.counts)
            if after is None or after >= cursor:
                return {"cursor": cursor, "trials": [], "counts": counts}
            if after < oldest:
                return {"cursor": cursor, "trials": [], "counts": counts, "reset": True}
            latest: dict[int, dict[str, Any]] = {}
            for seq, row in feed.recent:
                if seq > after:
                    latest[row["number"]] = row  # a trial changed twice: its last state only
        return {
            "cursor": cursor,
            "trials": sorted(latest.values(), key=lambda r: r["change"]),
            "counts": counts,
        }
