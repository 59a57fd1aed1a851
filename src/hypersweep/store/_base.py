"""The ``Store`` interface: the project's memory, spoken in records and ids.

Contract (every implementation passes ``tests/store/``):

* Only the driver of a study writes its trial results; management commands write their own rows.
* ``create_trials`` allocates trial numbers atomically: concurrent drivers (or processes) never get the
  same number for one study, and numbers are gap-free (0, 1, 2, ...). Reruns (``TrialKind.RERUN``) get
  no number.
* ``finish_trials`` writes many outcomes in one transaction. A trial that is already terminal
  (complete, pruned, failed, interrupted) is never changed: finishing it again is ignored and reported
  in the return value, never silently overwritten.
* ``add_reports`` appends per-step history (a point whose step is not an integer in [0, 2**63) is
  dropped with a ``RuntimeWarning``, never failing the batch); a trial's history reads back ordered by (name, step) and
  keeps every reported point (the same step reported twice keeps the last value).
* Environments are deduplicated by ``EnvironmentRecord.hash``.
* Timestamps are timezone-aware UTC.
* The lease: at most one live owner per study. ``acquire_lease`` succeeds when there is no lease, when
  the lease expired (heartbeat older than ``ttl_s`` by the database's clock), or when it is already
  ours; otherwise it raises ``StudyLockedError`` naming the holder's host and pid.
* Errors surface as the ``StoreError`` tree, never as driver exceptions.

Callers depend on the role they use, not on the whole interface: :class:`TrialWriter` (the engine's
writer), :class:`LeaseHolder` (whoever drives a study), :class:`StoreReader` (the read side, ``query``).
``Store`` implements them all.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from hypersweep.records import (
    ArtifactRecord,
    Direction,
    EndReason,
    EnvironmentRecord,
    LeaseInfo,
    MetricPoint,
    NewStudy,
    NewTrial,
    StudyRecord,
    StudyStatus,
    TrialOutcome,
    TrialRecord,
    TrialState,
    TrialSummary,
)
from hypersweep.store._filter import Expr

__all__ = ["LeaseHolder", "Store", "StoreReader", "TrialWriter"]


class StoreReader(Protocol):
    """The read side: studies, trials, histories, environments, artifacts, the leaderboard."""

    url_masked: str

    def get_study(self, name: str) -> StudyRecord: ...
    def get_study_by_id(self, study_id: int) -> StudyRecord: ...
    def list_studies(self, pattern: str | None = None) -> list[StudyRecord]: ...
    def study_counts(self, study_id: int) -> dict[TrialState, int]: ...
    def studies_counts(self, study_ids: Sequence[int]) -> dict[int, dict[TrialState, int]]: ...
    def best_objectives(self, study_ids: Sequence[int]) -> dict[int, float | None]: ...
    def get_lease(self, study_id: int, ttl_s: float = 30.0) -> LeaseInfo | None: ...
    def get_trials(
        self,
        study_id: int,
        states: Sequence[TrialState] | None = None,
        include_reruns: bool = False,
        with_metrics: bool = True,
    ) -> list[TrialRecord]: ...
    def get_trial(self, study_id: int, number: int) -> TrialRecord: ...
    def trial_summaries(
        self, study_id: int, states: Sequence[TrialState] | None = None, retry_of: int | None = None
    ) -> list[TrialSummary]: ...
    def trial_totals(self, study_id: int) -> tuple[datetime | None, float]: ...
    def objective_series(
        self, study_id: int, maximize: bool, max_points: int
    ) -> tuple[int, list[tuple[int, str, float, float | None]]]: ...
    def get_trial_by_id(self, trial_id: int) -> TrialRecord: ...
    def get_history(self, trial_id: int) -> list[MetricPoint]: ...
    def get_histories(self, trial_ids: Sequence[int]) -> dict[int, list[MetricPoint]]: ...
    def get_environment(self, environment_id: int) -> EnvironmentRecord: ...
    def get_artifacts(self, trial_id: int) -> list[ArtifactRecord]: ...
    def top_trials(
        self,
        study_ids: Sequence[int],
        *,
        metric: str | None = None,
        direction: Direction | None = None,
        limit: int | None = None,
        states: Sequence[TrialState] | None = (TrialState.COMPLETE,),
        where: Expr | None = None,
        sort: str | None = None,
        feasible_first: bool = False,
        offset: int = 0,
    ) -> list[TrialRecord]: ...


class TrialWriter(Protocol):
    """What the engine uses while it drives a study: load the history, create trials, record outcomes,
    step reports and output, poll for ``stop``."""

    def get_study_by_id(self, study_id: int) -> StudyRecord: ...
    def get_trials(
        self,
        study_id: int,
        states: Sequence[TrialState] | None = None,
        include_reruns: bool = False,
        with_metrics: bool = True,
    ) -> list[TrialRecord]: ...
    def get_history(self, trial_id: int) -> list[MetricPoint]: ...
    def get_histories(self, trial_ids: Sequence[int]) -> dict[int, list[MetricPoint]]: ...
    def create_trials(self, study_id: int, trials: Sequence[NewTrial]) -> list[TrialRecord]: ...
    def start_trials(self, starts: Mapping[int, datetime]) -> None: ...
    def finish_trials(self, outcomes: Sequence[TrialOutcome]) -> list[int]: ...
    def add_reports(self, reports: Iterable[tuple[int, MetricPoint]]) -> None: ...
    def append_logs(self, logs: Mapping[int, str], cap: int = 64 * 1024) -> None: ...


class LeaseHolder(Protocol):
    """The study's lease: one live driver per study."""

    def acquire_lease(self, study_id: int, owner: str, host: str, pid: int, ttl_s: float = 30.0) -> None: ...
    def renew_lease(self, study_id: int, owner: str) -> bool: ...
    def release_lease(self, study_id: int, owner: str, status: StudyStatus) -> None: ...


class Store(abc.ABC):
    """Abstract tracking store. Obtain one with :func:`hypersweep.store.open_store`."""

    url_masked: str  # the URL with any password replaced by ***

    # -- studies ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_study(self, study: NewStudy) -> StudyRecord:
        """Create a study; ``StudyExistsError`` when the name is taken."""

    @abc.abstractmethod
    def get_study(self, name: str) -> StudyRecord:
        """Load by name; ``SweepNotFoundError`` when absent."""

    @abc.abstractmethod
    def get_study_by_id(self, study_id: int) -> StudyRecord: ...

    @abc.abstractmethod
    def list_studies(self, pattern: str | None = None) -> list[StudyRecord]:
        """All studies, oldest first; ``pattern`` is a shell glob on the name."""

    @abc.abstractmethod
    def update_study(self, study_id: int, **fields: Any) -> StudyRecord:
        """Change mutable study fields: status, budget_trials, description, spec_text, spec_hash,
        stop_requested, notes, name, git fields. Unknown fields are a ``ValueError`` (a bug, not user input)."""

    @abc.abstractmethod
    def set_tags(self, study_id: int, tags: Mapping[str, str | None]) -> None:
        """Set tags; a None value removes that tag."""

    @abc.abstractmethod
    def delete_study(self, study_id: int) -> None:
        """Remove the study and all its rows in one transaction."""

    @abc.abstractmethod
    def study_counts(self, study_id: int) -> dict[TrialState, int]:
        """Number of sweep trials per state (reruns excluded)."""

    @abc.abstractmethod
    def studies_counts(self, study_ids: Sequence[int]) -> dict[int, dict[TrialState, int]]:
        """``study_counts`` of several studies, in one read."""

    @abc.abstractmethod
    def best_objectives(self, study_ids: Sequence[int]) -> dict[int, float | None]:
        """The best objective of each study's complete sweep trials, in its direction (None: no such
        trial, or no objective), in one read."""

    # -- lease -----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def acquire_lease(self, study_id: int, owner: str, host: str, pid: int, ttl_s: float = 30.0) -> None:
        """Take the study's lease (see module docstring). Sets the study status to running and, in the
        same statement, clears ``stop_requested`` and ``end_reason``: a stop asked of an earlier run
        never stops this one."""

    @abc.abstractmethod
    def renew_lease(self, study_id: int, owner: str) -> bool:
        """Heartbeat. False when the lease is no longer ours (taken over)."""

    @abc.abstractmethod
    def release_lease(
        self, study_id: int, owner: str, status: StudyStatus, end_reason: EndReason | None = None
    ) -> None:
        """Drop our lease and set the final study status and why the run ended (``end_reason``)."""

    @abc.abstractmethod
    def get_lease(self, study_id: int, ttl_s: float = 30.0) -> LeaseInfo | None: ...

    # -- trials ----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_trials(self, study_id: int, trials: Sequence[NewTrial]) -> list[TrialRecord]:
        """Insert trials (state running by default, started_at now), numbering sweep trials atomically."""

    @abc.abstractmethod
    def start_trials(self, starts: Mapping[int, datetime]) -> None:
        """Waiting trials whose workers started them become running at those times (trial_id ->
        start), in one transaction; trials no longer waiting are left as they are."""

    @abc.abstractmethod
    def finish_trials(self, outcomes: Sequence[TrialOutcome]) -> list[int]:
        """Write outcomes in one transaction: state, objective, final metrics, remaining history,
        environment (deduplicated), host/node/gpus, error, artifacts. Returns the trial_ids that were
        already terminal and therefore left unchanged."""

    @abc.abstractmethod
    def add_reports(self, reports: Iterable[tuple[int, MetricPoint]]) -> None:
        """Append per-step metrics for running trials, in one transaction."""

    @abc.abstractmethod
    def append_logs(self, logs: Mapping[int, str], cap: int = 64 * 1024) -> None:
        """Append output to running trials' log tails, keeping the last ``cap`` characters; finished
        trials are left alone (their worker's own tail is final)."""

    @abc.abstractmethod
    def mark_interrupted(self, study_id: int, trial_ids: Sequence[int] | None = None) -> list[int]:
        """Turn running trials (all of the study's when ``trial_ids`` is None) into interrupted; they keep
        what they reported. Returns the trial_ids changed."""

    @abc.abstractmethod
    def get_trials(
        self,
        study_id: int,
        states: Sequence[TrialState] | None = None,
        include_reruns: bool = False,
        with_metrics: bool = True,
    ) -> list[TrialRecord]:
        """Trials of a study ordered by number (reruns last, by id)."""

    @abc.abstractmethod
    def trial_summaries(
        self, study_id: int, states: Sequence[TrialState] | None = None, retry_of: int | None = None
    ) -> list[TrialSummary]:
        """Number, state, objective, duration, start and ``retry_of`` of a study's sweep trials (only
        those rerunning ``retry_of`` when given), in :meth:`get_trials` order, without params or metrics."""

    @abc.abstractmethod
    def trial_totals(self, study_id: int) -> tuple[datetime | None, float]:
        """The first start and the summed duration (s) of a study's sweep trials, in one aggregate."""

    @abc.abstractmethod
    def objective_series(
        self, study_id: int, maximize: bool, max_points: int
    ) -> tuple[int, list[tuple[int, str, float, float | None]]]:
        """(total, rows) of the finished sweep trials with an objective in number order: (number, state,
        objective, best complete objective so far), at most ``max_points`` of them evenly spread (the first and last kept)."""

    @abc.abstractmethod
    def get_trial(self, study_id: int, number: int) -> TrialRecord:
        """One sweep trial by number; ``SweepNotFoundError`` when absent."""

    @abc.abstractmethod
    def get_trial_by_id(self, trial_id: int) -> TrialRecord: ...

    @abc.abstractmethod
    def change_cursor(self, study_id: int) -> int:
        """The study's change cursor now (one primary-key read): pass it to ``trials_changed_since``
        to hear of every change from here on."""

    @abc.abstractmethod
    def trials_changed_since(self, study_id: int, cursor: int = 0) -> tuple[list[TrialRecord], int]:
        """The study's trials (reruns included) inserted or changed since the change cursor ``cursor``
        (0: all of them), in change order, and the cursor to pass next time. A poll with nothing new
        is one primary-key read and returns ``([], cursor)``. Every write that inserts trials or
        changes a trial row (a state, a result, the log tail) moves the cursor; per-step reports do
        not (read them with ``get_history``)."""

    @abc.abstractmethod
    def get_history(self, trial_id: int) -> list[MetricPoint]:
        """Per-step history ordered by name, then step."""

    @abc.abstractmethod
    def get_histories(self, trial_ids: Sequence[int]) -> dict[int, list[MetricPoint]]:
        """``get_history`` of several trials (an empty list for a trial without history), in one read."""

    @abc.abstractmethod
    def get_environment(self, environment_id: int) -> EnvironmentRecord: ...

    @abc.abstractmethod
    def get_artifacts(self, trial_id: int) -> list[ArtifactRecord]: ...

    # -- leaderboard -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def top_trials(
        self,
        study_ids: Sequence[int],
        *,
        metric: str | None = None,
        direction: Direction | None = None,
        limit: int | None = None,
        states: Sequence[TrialState] | None = (TrialState.COMPLETE,),
        where: Expr | None = None,
        sort: str | None = None,
        feasible_first: bool = False,
        offset: int = 0,
    ) -> list[TrialRecord]:
        """The best sweep trials of the given studies, best first, with their final metrics.
        ``feasible_first``: trials not marked infeasible come first (a constrained study's order);
        ``offset``: skip that many first (a page), reading records for the ``limit`` after them only.

        ``where`` is a parsed ``--where`` filter (``hypersweep.store.parse_filter``), compiled to bound
        SQL; ``sort`` another sort key (``metrics.X``, ``params.X``, ``duration_s``, ``number``...),
        ascending unless ``direction`` says otherwise; ``states`` None means any state.

        ``metric`` None (or the studies' objective) sorts by the trial's objective; another name sorts by
        that final metric. ``direction`` None means the studies' objective direction when ``metric`` is
        the objective, else ascending. Trials without a value sort last; ties go by number, then study.
        Reruns are never listed. Done in indexed SQL, not by loading every trial.
        """

    # -- lifecycle -------------------------------------------------------------------------------------
    @abc.abstractmethod
    def check_writable(self) -> None:
        """Raise ``StoreReadOnlyError`` when the store refuses writes (read-only file, role without
        INSERT/UPDATE). Writes nothing: the probe runs in a transaction that is rolled back."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
