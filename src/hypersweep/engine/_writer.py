"""The engine's writer: everything the driver writes to the store, buffered and retried.

Outcomes and step reports are buffered and written in grouped commits; every write is retried
(tenacity, exponential backoff) while the store is unavailable, renewing the lease before each retry;
the lease's heartbeat; and the adoption of a trial batch whose commit reached the database before the
connection dropped.
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

import tenacity

from hypersweep.errors import StoreError, StoreUnavailableError, StudyLockedError
from hypersweep.records import MetricPoint, NewTrial, StudyRecord, TrialOutcome, TrialRecord, TrialState
from hypersweep.store import LeaseHolder, TrialWriter
from hypersweep.strategies import params_key

__all__ = ["STORE_BACKOFF_S", "STORE_RETRY_S", "Writer"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

STORE_RETRY_S = 60.0  # how long the driver retries an unavailable store before it stops
STORE_BACKOFF_S = (0.1, 5.0)  # first and longest wait between tries (exponential, jittered)
FLUSH_RESULTS_S = 0.1  # outcomes are committed at most this far apart...
FLUSH_RESULTS_N = 256  # ...or once this many wait
FLUSH_REPORTS_S = 1.0  # step reports and trial output, at least this often
HEARTBEAT_S = 5.0


class _Store(TrialWriter, LeaseHolder, Protocol):
    """The roles the writer uses (for annotations only)."""


class Writer:
    """Buffers and writes one study's outcomes, reports and output; renews its lease.

    ``known()`` gives the trial ids this driver started and has not yet written (in flight): with the
    buffered outcomes, they tell an orphaned batch (adopted) from another process's trials (an error).
    ``on_give_up()`` runs when the store stays unavailable past ``retry_s``: it cancels the trials in
    flight, since nothing can record them."""

    def __init__(
        self,
        store: _Store,
        study: StudyRecord,
        *,
        lease_owner: str,
        retry_s: float,
        known: Callable[[], Collection[int]],
        on_give_up: Callable[[], None],
        now: float,
    ) -> None:
        self.store = store
        self.study = study
        self.lease_owner = lease_owner
        self.retry_s = retry_s
        self._known = known
        self._on_give_up = on_give_up
        self.outcomes: list[TrialOutcome] = []
        self.starts: dict[int, datetime] = {}  # trial_id -> when its worker started it (was waiting)
        self.reports: list[tuple[int, MetricPoint]] = []
        self.logs: dict[int, str] = {}  # trial_id -> output not yet written (running trials)
        self._last_flush = self._last_reports = self._last_beat = now

    # -- buffering -------------------------------------------------------------------------------------
    def add_outcome(self, outcome: TrialOutcome) -> None:
        self.outcomes.append(outcome)

    def add_start(self, trial_id: int, at: datetime) -> None:
        self.starts[trial_id] = at

    def add_report(self, trial_id: int, point: MetricPoint) -> None:
        self.reports.append((trial_id, point))

    def add_log(self, trial_id: int, text: str) -> None:
        self.logs[trial_id] = self.logs.get(trial_id, "") + text

    def tick(self, now: float) -> None:
        """Write what is due: outcomes every ``FLUSH_RESULTS_S`` (or ``FLUSH_RESULTS_N`` of them), reports
        and output every ``FLUSH_REPORTS_S``; renew the lease every ``HEARTBEAT_S``."""
        if (self.outcomes or self.starts) and (
            now - self._last_flush >= FLUSH_RESULTS_S or len(self.outcomes) >= FLUSH_RESULTS_N
        ):
            self.flush()
            self._last_flush = now
        if (self.reports or self.logs) and now - self._last_reports >= FLUSH_REPORTS_S:
            self.flush_reports()
            self._last_reports = now
        if now - self._last_beat >= HEARTBEAT_S:
            self._last_beat = now
            self.heartbeat()

    def flush_reports(self) -> None:
        if self.reports:
            reports = list(self.reports)  # kept in memory until written
            self.call("writing step reports", lambda: self.store.add_reports(reports), check_lease=True)
            del self.reports[: len(reports)]
        if self.logs:
            logs = dict(self.logs)
            self.call("writing trial output", lambda: self.store.append_logs(logs), check_lease=True)
            for key, text in logs.items():
                rest = self.logs.get(key, "")[len(text) :]
                if rest:
                    self.logs[key] = rest
                else:
                    self.logs.pop(key, None)

    def flush(self) -> None:
        self.flush_reports()
        if self.starts:
            # a trial whose outcome is written in this flush needs no start of its own: it carries one
            ending = {o.trial_id for o in self.outcomes}
            starts = {k: v for k, v in self.starts.items() if k not in ending}
            if starts:
                self.call("recording starts", lambda: self.store.start_trials(starts), check_lease=True)
            self.starts.clear()
        if self.outcomes:
            outcomes = list(self.outcomes)  # kept in memory until written
            # an outcome written by a try whose connection then dropped is ignored on the next try
            self.call("recording results", lambda: self.store.finish_trials(outcomes), check_lease=True)
            del self.outcomes[: len(outcomes)]

    # -- reads the loop makes --------------------------------------------------------------------------
    def stop_requested(self) -> bool:
        study = self.call("polling for stop", lambda: self.store.get_study_by_id(self.study.study_id))
        return study.stop_requested

    # -- retried store calls ---------------------------------------------------------------------------
    def call(self, what: str, call: Callable[[], _T], *, check_lease: bool = False) -> _T:
        """``call()``, retried with exponential backoff while it raises ``StoreUnavailableError`` (a
        server restarting, a SQLite lock held past the busy timeout), for at most ``retry_s``.

        Every store write the loop makes is idempotent or made so by ``call`` (see ``create_trials``),
        so a try that committed before its connection dropped is safe to repeat. With ``check_lease``,
        each retry first renews the lease, so a driver whose lease another took over during the outage
        stops (``StudyLockedError``) instead of writing. Past the deadline ``on_give_up`` runs and
        ``StoreUnavailableError`` ends the run; the study stays resumable.
        """
        tries = 0
        first_failure: list[float] = []

        def attempt() -> _T:
            nonlocal tries
            tries += 1
            if tries > 1 and check_lease:
                self.renew_lease()
            return call()

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if not first_failure:
                first_failure.append(time.monotonic())
                err = state.outcome.exception() if state.outcome is not None else None
                _log.warning(
                    "%s; retrying %s for up to %g s (HYPERSWEEP_STORE_RETRY_S)", err, what, self.retry_s
                )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(StoreUnavailableError),
            wait=tenacity.wait_exponential_jitter(multiplier=STORE_BACKOFF_S[0], max=STORE_BACKOFF_S[1]),
            stop=tenacity.stop_before_delay(max(self.retry_s, 0.0)),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            result = retrying(attempt)
        except StoreUnavailableError as e:
            self._on_give_up()
            name = self.study.name
            raise StoreUnavailableError(
                f"{e}\nstudy {name!r} stopped: the store stayed unavailable while {what} "
                f"({tries} tries over {self.retry_s:g} s, HYPERSWEEP_STORE_RETRY_S); "
                f"resume it with `hypersweep resume {shlex.quote(name)}` once the store is back"
            ) from e
        if first_failure:
            _log.warning(
                "store available again after %.1f s; %s done", time.monotonic() - first_failure[0], what
            )
        return result

    # -- the lease -------------------------------------------------------------------------------------
    def renew_lease(self) -> None:
        if self.lease_owner and not self.store.renew_lease(self.study.study_id, self.lease_owner):
            raise StudyLockedError(
                f"study {self.study.name!r}: another driver took over the lease; this driver stops"
            )

    def heartbeat(self) -> None:
        self.call("renewing the lease", self.renew_lease)

    # -- creating trials, with batch adoption ----------------------------------------------------------
    def create_trials(self, news: Sequence[NewTrial]) -> list[TrialRecord]:
        """``create_trials``, safe to retry: a try whose commit reached the database before the connection
        dropped left the batch in the store, so before trying again we look for it and adopt it."""
        sent = False

        def attempt() -> list[TrialRecord]:
            nonlocal sent
            if sent:
                found = self._committed_batch(news)
                if found is not None:
                    return found
            sent = True
            return self.store.create_trials(self.study.study_id, news)

        return self.call("creating trials", attempt, check_lease=True)

    def _committed_batch(self, news: Sequence[NewTrial]) -> list[TrialRecord] | None:
        """The trials an earlier, ambiguous ``create_trials(news)`` committed, or None if it did not.

        This driver holds the lease, so it alone creates sweep trials; a running sweep trial that it
        neither has in flight nor holds an unwritten outcome for comes from that try (one transaction:
        all of the batch or none of it)."""
        known = set(self._known()) | {o.trial_id for o in self.outcomes}
        running = self.store.get_trials(
            self.study.study_id, states=[TrialState.WAITING, TrialState.RUNNING], with_metrics=False
        )
        orphans = [t for t in running if t.trial_id not in known]
        if not orphans:
            return None
        want = [(params_key(n.params), n.seed, n.retry_of) for n in news]
        if [(params_key(t.params), t.seed, t.retry_of) for t in orphans] != want:
            raise StoreError(
                f"study {self.study.name!r}: the store holds running trials this driver did not start "
                f"(numbers {', '.join(str(t.number) for t in orphans)}); another process writes to the study"
            )
        _log.warning(
            "trials %s were created before the connection dropped; adopting them", [t.number for t in orphans]
        )
        return orphans
