"""``SQLStore``: the :class:`~hypersweep.store.Store` contract over SQLAlchemy Core (SQLite, PostgreSQL).

Every operation runs in :meth:`SQLStore._tx`, the one scope that begins, commits, rolls back and
translates SQLAlchemy errors into the ``StoreError`` tree. Write scopes take the write lock up front
(``BEGIN IMMEDIATE`` on SQLite; ``SELECT ... FOR UPDATE`` of the study row on PostgreSQL where numbering
or the lease needs it). Bulk writes (``finish_trials``, ``add_reports``) are one statement per table
per transaction (``_bulk``). Rows never leave this module: callers get records.
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hypersweep.errors import StoreUnavailableError, StudyExistsError, StudyLockedError, SweepNotFoundError
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
    TrialKind,
    TrialOutcome,
    TrialRecord,
    TrialState,
    clean_float,
)
from hypersweep.store._base import Store
from hypersweep.store._filter import Expr
from hypersweep.store._sql import _engine, _reads
from hypersweep.store._sql._bulk import NEXT_TRIAL_IDS, bulk_insert, dialect_insert, json_rows
from hypersweep.store._sql._convert import (
    bump_change_seq,
    checked_points,
    lease_expired,
    lease_info,
    study_record,
    trial_records,
)
from hypersweep.store._sql._models import (
    Artifact,
    Environment,
    Metric,
    MetricHistory,
    Study,
    StudyTag,
    Trial,
    TrialParam,
)
from hypersweep.store._sql._queries import TrialQuery, resolve_direction
from hypersweep.store._sql._starts import TrialStarts
from hypersweep.store._sql._util import _chunks, _dir, _param_columns

__all__ = ["SQLStore"]

_MUTABLE_STUDY_FIELDS = frozenset(
    {
        "status",
        "budget_trials",
        "description",
        "spec_text",
        "spec_hash",
        "stop_requested",
        "notes",
        "name",
        "git_commit",
        "git_dirty",
        "git_diff_hash",
        "code_hash",
        "data_hashes",
    }
)
_OPEN_STATES = (TrialState.WAITING.value, TrialState.RUNNING.value)
# column order of the rows given to bulk_insert (keys first)
_PARAM_COLS = ("trial_id", "name", "value_num", "value_text")
_METRIC_COLS = ("trial_id", "name", "value")
_HISTORY_COLS = ("trial_id", "name", "step", "value")
_ARTIFACT_COLS = ("trial_id", "name", "uri", "size", "sha256", "kind")
LOG_TAIL_CHARS = 64 * 1024


class SQLStore(_reads.SummaryReads, TrialStarts, Store):
    """The SQL tracking store. Open with :func:`hypersweep.store.open_store`."""

    def __init__(self, surl: _engine.StoreURL) -> None:
        self._surl = surl
        self.url_masked = surl.masked
        self._engine = _engine.make_engine(surl)
        self._is_pg = not surl.is_sqlite
        self._env_ids: dict[str, int] = {}  # environment hash -> id, of committed rows only

    # -- opening ---------------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, *, create: bool = False, busy_timeout_s: float | None = None) -> SQLStore:
        surl = _engine.parse_store_url(url, busy_timeout_s)
        missing = surl.sqlite_path is not None and not surl.sqlite_path.exists()
        if missing and (not create or surl.read_only_uri):
            raise StoreUnavailableError(
                f"store {surl.masked}: no database file at {surl.sqlite_path}"
                " (commands that only read never create one)"
            )
        if create:
            _engine.check_sqlite_writable(surl, "write to it")
            if surl.sqlite_path is not None:
                try:
                    surl.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise StoreUnavailableError(f"store {surl.masked}: cannot create its folder: {e}") from e
        else:
            surl = _engine.for_reading(surl)  # a read-only file, folder or mount: read it as such
        store = cls(surl)
        try:
            _engine.ensure_schema(store._engine, surl, create=create or surl.is_memory)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def upgrade(cls, url: str) -> tuple[str | None, str]:
        surl = _engine.parse_store_url(url)
        if surl.sqlite_path is not None and not surl.sqlite_path.exists():
            raise StoreUnavailableError(f"store {surl.masked}: no database file at {surl.sqlite_path}")
        _engine.check_sqlite_writable(surl, "upgrade its schema")
        store = cls(surl)
        try:
            return _engine.upgrade_schema(store._engine, surl)
        finally:
            store.close()

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SQLStore({self.url_masked!r})"

    # -- the one session scope -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _tx(self, write: bool = False, action: str = "") -> Iterator[Connection]:
        """A transaction: commit on success, roll back on error, SQLAlchemy errors -> ``StoreError``."""
        try:
            with self._engine.connect() as conn:
                if write:
                    conn.execution_options(hs_write=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as e:
            raise _engine.translate_error(e, self._surl, action) from e

    def _now(self, conn: Connection) -> datetime:
        """The database's clock, as aware UTC."""
        if self._is_pg:
            value = conn.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
        else:
            raw = conn.exec_driver_sql("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')").scalar_one()
            value = datetime.fromisoformat(raw)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def _lock_study(self, conn: Connection, study_id: int) -> Any:
        stmt = select(Study).where(Study.id == study_id)
        if self._is_pg:
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first()
        if row is None:
            raise SweepNotFoundError(f"no study with id {study_id} in {self.url_masked}")
        return row

    # -- studies ---------------------------------------------------------------------------------------
    @staticmethod
    def _study_record(row: Any, tags: Mapping[str, str], now: datetime, ttl_s: float = 30.0) -> StudyRecord:
        return study_record(row, tags, now, ttl_s)

    def _tags(self, conn: Connection, study_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {i: {} for i in study_ids}
        for chunk in _chunks(list(study_ids)):
            stmt = select(StudyTag.study_id, StudyTag.key, StudyTag.value).where(StudyTag.study_id.in_(chunk))
            for sid, key, value in conn.execute(stmt.order_by(StudyTag.key)):
                out[sid][key] = value
        return out

    def _load_study(self, conn: Connection, *conds: Any, missing: str) -> StudyRecord:
        row = conn.execute(select(Study).where(*conds)).first()
        if row is None:
            raise SweepNotFoundError(f"{missing} in {self.url_masked}")
        return self._study_record(row, self._tags(conn, [row.id])[row.id], self._now(conn))

    def create_study(self, study: NewStudy) -> StudyRecord:
        with self._tx(write=True, action="create study") as conn:
            now = self._now(conn)
            values = {
                "name": study.name,
                "spec_text": study.spec_text,
                "spec_hash": study.spec_hash,
                "spec_format": study.spec_format,
                "strategy": study.strategy,
                "objective_metric": study.objective_metric,
                "direction": study.direction.value if study.direction else None,
                "directions": [Direction(d).value for d in study.directions] or None,
                "change_seq": 0,
                "budget_trials": study.budget_trials,
                "seed": study.seed,
                "status": StudyStatus.INTERRUPTED.value,  # running only while a driver holds the lease
                "workdir": study.workdir,
                "spec_path": study.spec_path,
                "description": study.description,
                "git_commit": study.git_commit,
                "git_dirty": study.git_dirty,
                "git_diff_hash": study.git_diff_hash,
                "code_hash": study.code_hash,
                "data_hashes": dict(study.data_hashes),
                "launched_by": study.launched_by,
                "launched_host": study.launched_host,
                "stop_requested": False,
                "created_at": now,
                "updated_at": now,
            }
            try:
                study_id = conn.execute(insert(Study).values(**values).returning(Study.id)).scalar_one()
            except IntegrityError as e:
                raise StudyExistsError(
                    f"a study named {study.name!r} already exists in {self.url_masked}"
                ) from e
            return self._load_study(conn, Study.id == study_id, missing=f"no study with id {study_id}")

    def get_study(self, name: str) -> StudyRecord:
        with self._tx() as conn:
            return self._load_study(conn, Study.name == name, missing=f"no study named {name!r}")

    def get_study_by_id(self, study_id: int) -> StudyRecord:
        with self._tx() as conn:
            return self._load_study(conn, Study.id == study_id, missing=f"no study with id {study_id}")

    def list_studies(self, pattern: str | None = None) -> list[StudyRecord]:
        with self._tx() as conn:
            stmt = select(Study).order_by(Study.created_at, Study.id)
            if pattern is not None and not any(c in pattern for c in "[]\\"):
                like = pattern.replace("%", "\\%").replace("_", "\\_").replace("*", "%").replace("?", "_")
                stmt = stmt.where(Study.name.like(like, escape="\\"))
            rows = [r for r in conn.execute(stmt) if pattern is None or fnmatch.fnmatchcase(r.name, pattern)]
            tags = self._tags(conn, [r.id for r in rows])
            now = self._now(conn)
            return [self._study_record(r, tags[r.id], now) for r in rows]

    def update_study(self, study_id: int, **fields: Any) -> StudyRecord:
        unknown = set(fields) - _MUTABLE_STUDY_FIELDS
        if unknown:
            raise ValueError(f"not mutable study fields: {sorted(unknown)}")
        values = {k: (v.value if isinstance(v, StudyStatus | Direction) else v) for k, v in fields.items()}
        with self._tx(write=True, action="update study") as conn:
            self._lock_study(conn, study_id)
            values["updated_at"] = self._now(conn)
            try:
                conn.execute(update(Study).where(Study.id == study_id).values(**values))
            except IntegrityError as e:
                raise StudyExistsError(f"a study named {fields.get('name')!r} already exists") from e
            return self._load_study(conn, Study.id == study_id, missing=f"no study with id {study_id}")

    def set_tags(self, study_id: int, tags: Mapping[str, str | None]) -> None:
        """Set tags; a value of None removes that tag."""
        with self._tx(write=True, action="set tags") as conn:
            self._lock_study(conn, study_id)
            if tags:
                conn.execute(
                    delete(StudyTag).where(StudyTag.study_id == study_id, StudyTag.key.in_(list(tags)))
                )
            rows = [
                {"study_id": study_id, "key": k, "value": str(v)} for k, v in tags.items() if v is not None
            ]
            if rows:
                conn.execute(insert(StudyTag), rows)
            conn.execute(update(Study).where(Study.id == study_id).values(updated_at=self._now(conn)))

    def delete_study(self, study_id: int) -> None:
        with self._tx(write=True, action="delete study") as conn:
            self._lock_study(conn, study_id)
            trial_ids = select(Trial.id).where(Trial.study_id == study_id).scalar_subquery()
            for table in (MetricHistory, Metric, TrialParam, Artifact):
                conn.execute(delete(table).where(table.trial_id.in_(trial_ids)))
            conn.execute(update(Trial).where(Trial.study_id == study_id).values(retry_of=None))
            conn.execute(delete(Trial).where(Trial.study_id == study_id))
            conn.execute(delete(StudyTag).where(StudyTag.study_id == study_id))
            conn.execute(delete(Study).where(Study.id == study_id))

    def study_counts(self, study_id: int) -> dict[TrialState, int]:
        return self.studies_counts([study_id])[study_id]

    def studies_counts(self, study_ids: Sequence[int]) -> dict[int, dict[TrialState, int]]:
        with self._tx() as conn:
            return _reads.state_counts(conn, study_ids)

    def best_objectives(self, study_ids: Sequence[int]) -> dict[int, float | None]:
        with self._tx() as conn:
            return _reads.best_objectives(conn, study_ids)

    # -- lease -----------------------------------------------------------------------------------------
    def acquire_lease(self, study_id: int, owner: str, host: str, pid: int, ttl_s: float = 30.0) -> None:
        with self._tx(write=True, action="acquire lease") as conn:
            row = self._lock_study(conn, study_id)
            now = self._now(conn)
            if row.lease_owner not in (None, owner) and not lease_expired(row, now, ttl_s):
                age = (now - row.lease_heartbeat_at).total_seconds()
                raise StudyLockedError(
                    f"study {row.name!r} is driven by pid {row.lease_pid} on {row.lease_host} "
                    f"(last heartbeat {age:.0f} s ago; a lease expires after {ttl_s:g} s)",
                    host=row.lease_host,
                    pid=row.lease_pid,
                )
            conn.execute(
                update(Study)
                .where(Study.id == study_id)
                .values(
                    lease_owner=owner,
                    lease_host=host,
                    lease_pid=pid,
                    lease_heartbeat_at=now,
                    status=StudyStatus.RUNNING.value,
                    stop_requested=False,  # a stop asked of an earlier run is spent: this run starts afresh
                    end_reason=None,
                    updated_at=now,
                )
            )

    def renew_lease(self, study_id: int, owner: str) -> bool:
        with self._tx(write=True, action="renew lease") as conn:
            now = self._now(conn)
            stmt = (
                update(Study)
                .where(Study.id == study_id, Study.lease_owner == owner)
                .values(lease_heartbeat_at=now)
            )
            return conn.execute(stmt).rowcount == 1

    def release_lease(
        self, study_id: int, owner: str, status: StudyStatus, end_reason: EndReason | None = None
    ) -> None:
        with self._tx(write=True, action="release lease") as conn:
            now = self._now(conn)
            extra = {} if end_reason is None else {"end_reason": EndReason(end_reason).value}
            conn.execute(
                update(Study)
                .where(Study.id == study_id, Study.lease_owner == owner)
                .values(
                    lease_owner=None,
                    lease_host=None,
                    lease_pid=None,
                    lease_heartbeat_at=None,
                    status=StudyStatus(status).value,
                    updated_at=now,
                    **extra,
                )
            )

    def get_lease(self, study_id: int, ttl_s: float = 30.0) -> LeaseInfo | None:
        """The lease, ``expired`` also when its holder is a dead process on this host."""
        with self._tx() as conn:
            row = conn.execute(select(Study).where(Study.id == study_id)).first()
            if row is None:
                raise SweepNotFoundError(f"no study with id {study_id} in {self.url_masked}")
            return lease_info(row, self._now(conn), ttl_s)

    # -- trials ----------------------------------------------------------------------------------------
    def create_trials(self, study_id: int, trials: Sequence[NewTrial]) -> list[TrialRecord]:
        if not trials:
            return []
        with self._tx(write=True, action="create trials") as conn:
            self._lock_study(conn, study_id)  # the write lock (SQLite) / row lock (PostgreSQL)
            top = conn.execute(select(func.max(Trial.number)).where(Trial.study_id == study_id)).scalar()
            next_number = 0 if top is None else top + 1
            seq = bump_change_seq(conn, [study_id])[study_id]
            now = self._now(conn)
            rows: list[dict[str, Any]] = []
            for t in trials:
                number = None
                if t.kind is TrialKind.SWEEP:
                    number, next_number = next_number, next_number + 1
                rows.append(
                    {
                        "study_id": study_id,
                        "number": number,
                        "kind": t.kind.value,
                        "state": t.state.value,
                        "params": dict(t.params),
                        "seed": t.seed,
                        "started_at": now if t.state is TrialState.RUNNING else None,
                        "retry_of": t.retry_of,
                        "gpu_ids": [],
                        "change_seq": seq,
                    }
                )
            if self._is_pg:  # ids drawn from the sequence up front: the batch is one JSON insert
                ids = sorted(conn.execute(NEXT_TRIAL_IDS, {"n": len(rows)}).scalars())
                for row, tid in zip(rows, ids, strict=True):
                    row["id"] = tid
                names = list(rows[0])
                bulk_insert(conn, self._is_pg, Trial.__table__, names, [tuple(r.values()) for r in rows])
            else:
                stmt = insert(Trial).returning(Trial.id, sort_by_parameter_order=True)
                ids = list(conn.execute(stmt, rows).scalars())
            params = [
                (tid, name, *_param_columns(value))
                for tid, t in zip(ids, trials, strict=True)
                for name, value in t.params.items()
            ]
            bulk_insert(conn, self._is_pg, TrialParam.__table__, _PARAM_COLS, params)
        return [
            TrialRecord(
                trial_id=tid,
                study_id=study_id,
                number=row["number"],
                state=t.state,
                params=dict(t.params),
                seed=t.seed,
                kind=t.kind,
                started_at=row["started_at"],
                retry_of=t.retry_of,
                change_seq=seq,
            )
            for tid, t, row in zip(ids, trials, rows, strict=True)
        ]

    def _environment_ids(
        self, conn: Connection, envs: Mapping[str, EnvironmentRecord], now: datetime
    ) -> dict[str, int]:
        wanted = [h for h in envs if h not in self._env_ids]
        ids = {h: self._env_ids[h] for h in envs if h in self._env_ids}
        if wanted:
            rows = [
                {
                    "hash": e.hash,
                    "python_version": e.python_version,
                    "python_implementation": e.python_implementation,
                    "os": e.os,
                    "kernel": e.kernel,
                    "cpu_model": e.cpu_model,
                    "cpu_count": e.cpu_count,
                    "ml_packages": dict(e.ml_packages),
                    "packages": dict(e.packages),
                    "gpus": [dict(g) for g in e.gpus],
                    "gpu_driver": e.gpu_driver,
                    "cuda_version": e.cuda_version,
                    "created_at": now,
                }
                for h in wanted
                for e in [envs[h]]
            ]
            conn.execute(
                dialect_insert(self._is_pg, Environment).on_conflict_do_nothing(index_elements=["hash"]), rows
            )
            found = conn.execute(select(Environment.hash, Environment.id).where(Environment.hash.in_(wanted)))
            ids.update({h: i for h, i in found})
        return ids

    def finish_trials(self, outcomes: Sequence[TrialOutcome]) -> list[int]:
        if not outcomes:
            return []
        with self._tx(write=True, action="finish trials") as conn:
            ids = list(dict.fromkeys(o.trial_id for o in outcomes))
            seqs = self._bump_for(conn, ids)  # the study rows first: the lock order of every writer
            current: dict[int, tuple[str, datetime | None, int]] = {}
            for chunk in _chunks(ids):
                stmt = select(Trial.id, Trial.state, Trial.started_at, Trial.study_id).where(
                    Trial.id.in_(chunk)
                )
                if self._is_pg:
                    stmt = stmt.with_for_update()
                current.update({i: (s, st, sid) for i, s, st, sid in conn.execute(stmt)})
            missing = [i for i in ids if i not in current]
            if missing:
                raise SweepNotFoundError(f"no trial with id {missing[0]} in {self.url_masked}")
            now = self._now(conn)
            unchanged: list[int] = []
            todo: list[TrialOutcome] = []
            seen: set[int] = set()
            for o in outcomes:
                if o.trial_id in seen or current[o.trial_id][0] not in _OPEN_STATES:
                    unchanged.append(o.trial_id)
                    continue
                seen.add(o.trial_id)
                todo.append(o)
            if not todo:
                return unchanged
            envs = {o.environment.hash: o.environment for o in todo if o.environment is not None}
            env_ids = self._environment_ids(conn, envs, now) if envs else {}
            updates: list[dict[str, Any]] = []
            metrics: list[tuple[Any, ...]] = []
            history: list[tuple[Any, ...]] = []
            artifacts: list[tuple[Any, ...]] = []
            for o in todo:
                started = o.started_at or current[o.trial_id][1]
                finished = o.finished_at or now
                state = TrialState(o.state)
                values = [clean_float(v) for v in o.values]
                updates.append(
                    {
                        "b_id": o.trial_id,
                        "state": state.value,
                        "objective": values[0] if values else None,
                        "objective_values": values or None,
                        "feasible": o.feasible if state.is_finished else None,
                        "change_seq": seqs[current[o.trial_id][2]],
                        "started_at": started,
                        "finished_at": finished,
                        "duration_s": (finished - started).total_seconds() if started else None,
                        "worker_host": o.worker_host,
                        "ray_node_id": o.ray_node_id,
                        "gpu_ids": list(o.gpu_ids),
                        "error": o.error,
                        "log_tail": o.log_tail,
                        "environment_id": env_ids.get(o.environment.hash) if o.environment else None,
                    }
                )
                metrics.extend((o.trial_id, k, clean_float(v)) for k, v in o.metrics.items())
                history.extend(
                    checked_points((o.trial_id, p.name, p.step, clean_float(p.value)) for p in o.history)
                )
                artifacts.extend((o.trial_id, a.name, a.uri, a.size, a.sha256, a.kind) for a in o.artifacts)
            self._update_trials(conn, updates)
            bulk_insert(conn, self._is_pg, Metric.__table__, _METRIC_COLS, metrics, _METRIC_COLS[:2])
            bulk_insert(conn, self._is_pg, MetricHistory.__table__, _HISTORY_COLS, history, _HISTORY_COLS[:3])
            bulk_insert(conn, self._is_pg, Artifact.__table__, _ARTIFACT_COLS, artifacts)
        self._env_ids.update(env_ids)  # only now: ids cached before a rollback would dangle on the retry
        return unchanged

    def _bump_for(self, conn: Connection, trial_ids: Sequence[int]) -> dict[int, int]:
        """Bump the change cursor of the studies of ``trial_ids``: the new value per study id."""
        study_ids: set[int] = set()
        for chunk in _chunks(list(trial_ids)):
            study_ids.update(conn.scalars(select(Trial.study_id).where(Trial.id.in_(chunk)).distinct()))
        return bump_change_seq(conn, study_ids)

    def _update_trials(self, conn: Connection, updates: list[dict[str, Any]]) -> None:
        if not updates:
            return
        cols = [k for k in updates[0] if k != "b_id"]
        if self._is_pg:  # one UPDATE ... FROM json_to_recordset, not a statement per trial
            src = json_rows(updates, {"b_id": Integer()} | {c: Trial.__table__.c[c].type for c in cols})
            conn.execute(
                update(Trial)
                .where(Trial.id == src.c.b_id, or_(*(Trial.state == s for s in _OPEN_STATES)))
                .values({c: src.c[c] for c in cols})
            )
            return
        stmt = (
            update(Trial)
            .where(Trial.id == bindparam("b_id"), or_(*(Trial.state == s for s in _OPEN_STATES)))
            .values({c: bindparam(c) for c in cols})
        )
        conn.execute(stmt, updates)

    def add_reports(self, reports: Iterable[tuple[int, MetricPoint]]) -> None:
        points = checked_points((tid, p.name, p.step, p.value) for tid, p in reports)
        latest = {(tid, name, step): value for tid, name, step, value in points}  # the last report wins
        if not latest:
            return
        with self._tx(write=True, action="add reports") as conn:
            ids = list({tid for tid, _, _ in latest})
            open_ids: set[int] = set()
            for chunk in _chunks(ids):
                stmt = select(Trial.id).where(Trial.id.in_(chunk), Trial.state.in_(_OPEN_STATES))
                if self._is_pg:  # what a foreign key would take: no delete of these trials until commit
                    stmt = stmt.with_for_update(read=True, key_share=True)
                open_ids.update(conn.scalars(stmt))
            rows = [  # finished (and unknown) trials get nothing: history only references live trials
                (tid, name, step, clean_float(value))
                for (tid, name, step), value in latest.items()
                if tid in open_ids
            ]
            bulk_insert(conn, self._is_pg, MetricHistory.__table__, _HISTORY_COLS, rows, _HISTORY_COLS[:3])

    def append_logs(self, logs: Mapping[int, str], cap: int = LOG_TAIL_CHARS) -> None:
        """Append output to running trials' log tails (kept to the last ``cap`` characters)."""
        if not logs:
            return
        with self._tx(write=True, action="append logs") as conn:
            ids = list(logs)
            seqs = self._bump_for(conn, ids)
            rows = {}
            for chunk in _chunks(ids):
                stmt = select(Trial.id, Trial.log_tail, Trial.study_id).where(
                    Trial.id.in_(chunk), Trial.state.in_(_OPEN_STATES)
                )
                rows.update({r.id: (r.log_tail or "", r.study_id) for r in conn.execute(stmt)})
            for tid, (old, sid) in rows.items():
                text = (old + logs[tid])[-cap:]
                stmt2 = update(Trial).where(Trial.id == tid).values(log_tail=text, change_seq=seqs[sid])
                conn.execute(stmt2)

    def mark_interrupted(self, study_id: int, trial_ids: Sequence[int] | None = None) -> list[int]:
        """Waiting and running trials become interrupted (``trial_ids`` None: the study's sweep trials)."""
        with self._tx(write=True, action="mark interrupted") as conn:
            self._lock_study(conn, study_id)
            stmt = select(Trial.id, Trial.started_at).where(
                Trial.study_id == study_id, Trial.state.in_(_OPEN_STATES)
            )
            if trial_ids is None:
                stmt = stmt.where(Trial.kind == TrialKind.SWEEP.value)
                found = list(conn.execute(stmt))
            else:
                found = []
                for chunk in _chunks(list(trial_ids)):
                    found.extend(conn.execute(stmt.where(Trial.id.in_(chunk))))
            if not found:
                return []
            now = self._now(conn)
            seq = bump_change_seq(conn, [study_id])[study_id]
            updates = [
                {
                    "b_id": tid,
                    "state": TrialState.INTERRUPTED.value,
                    "change_seq": seq,
                    "finished_at": now,
                    "duration_s": (now - started).total_seconds() if started else None,
                }
                for tid, started in found
            ]
            self._update_trials(conn, updates)
            return sorted(tid for tid, _ in found)

    # -- reading trials --------------------------------------------------------------------------------
    def _records(self, conn: Connection, rows: Sequence[Any], with_metrics: bool) -> list[TrialRecord]:
        return trial_records(conn, rows, with_metrics)

    def get_trials(
        self,
        study_id: int,
        states: Sequence[TrialState] | None = None,
        include_reruns: bool = False,
        with_metrics: bool = True,
    ) -> list[TrialRecord]:
        stmt = select(Trial).where(Trial.study_id == study_id)
        if states is not None:
            stmt = stmt.where(Trial.state.in_([TrialState(s).value for s in states]))
        if not include_reruns:
            stmt = stmt.where(Trial.kind == TrialKind.SWEEP.value)
        stmt = stmt.order_by(Trial.number.is_(None), Trial.number, Trial.id)
        with self._tx() as conn:
            return self._records(conn, list(conn.execute(stmt)), with_metrics)

    def change_cursor(self, study_id: int) -> int:
        with self._tx() as conn:
            top = conn.execute(select(Study.change_seq).where(Study.id == study_id)).scalar()
        if top is None:
            raise SweepNotFoundError(f"no study with id {study_id} in {self.url_masked}")
        return int(top)

    def trials_changed_since(self, study_id: int, cursor: int = 0) -> tuple[list[TrialRecord], int]:
        with self._tx() as conn:
            top = conn.execute(select(Study.change_seq).where(Study.id == study_id)).scalar()
            if top is None:
                raise SweepNotFoundError(f"no study with id {study_id} in {self.url_masked}")
            if top <= cursor:  # nothing new: one primary-key read
                return [], cursor
            stmt = (
                select(Trial)
                .where(Trial.study_id == study_id, Trial.change_seq > cursor)
                .order_by(Trial.change_seq, Trial.id)
            )
            rows = list(conn.execute(stmt))
            if not rows:
                return [], cursor
            return self._records(conn, rows, True), max(r.change_seq for r in rows)

    def _one_trial(self, *conds: Any, missing: str) -> TrialRecord:
        with self._tx() as conn:
            row = conn.execute(select(Trial).where(*conds)).first()
            if row is None:
                raise SweepNotFoundError(f"{missing} in {self.url_masked}")
            return self._records(conn, [row], True)[0]

    def get_trial(self, study_id: int, number: int) -> TrialRecord:
        try:
            return self._one_trial(Trial.study_id == study_id, Trial.number == number, missing="")
        except SweepNotFoundError:
            name = self.get_study_by_id(study_id).name  # the user's name for it, not the internal id
            raise SweepNotFoundError(
                f"no trial number {number} in study {name!r} in {self.url_masked}"
            ) from None

    def get_trial_by_id(self, trial_id: int) -> TrialRecord:
        return self._one_trial(Trial.id == trial_id, missing=f"no trial with id {trial_id}")

    def get_history(self, trial_id: int) -> list[MetricPoint]:
        return self.get_histories([trial_id])[trial_id]

    def get_histories(self, trial_ids: Sequence[int]) -> dict[int, list[MetricPoint]]:
        with self._tx() as conn:
            return _reads.histories(conn, trial_ids)

    def get_environment(self, environment_id: int) -> EnvironmentRecord:
        with self._tx() as conn:
            r = conn.execute(select(Environment).where(Environment.id == environment_id)).first()
            if r is None:
                raise SweepNotFoundError(f"no environment with id {environment_id} in {self.url_masked}")
            return EnvironmentRecord(
                hash=r.hash,
                python_version=r.python_version,
                python_implementation=r.python_implementation,
                os=r.os,
                kernel=r.kernel,
                cpu_model=r.cpu_model,
                cpu_count=r.cpu_count,
                ml_packages=dict(r.ml_packages or {}),
                packages=dict(r.packages or {}),
                gpus=tuple(dict(g) for g in (r.gpus or ())),
                gpu_driver=r.gpu_driver,
                cuda_version=r.cuda_version,
            )

    def get_artifacts(self, trial_id: int) -> list[ArtifactRecord]:
        stmt = select(Artifact).where(Artifact.trial_id == trial_id).order_by(Artifact.id)
        with self._tx() as conn:
            return [ArtifactRecord(r.name, r.uri, r.size, r.sha256, r.kind) for r in conn.execute(stmt)]

    # -- leaderboard -----------------------------------------------------------------------------------
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
        from hypersweep.store._sql._where import compile_filter, sort_key

        conditions = [compile_filter(where, sqlite=not self._is_pg)] if where is not None else []
        with self._tx() as conn:
            objectives = list(
                conn.execute(
                    select(Study.objective_metric, Study.direction).where(Study.id.in_(list(study_ids)))
                )
            )
            names = {o for o, _ in objectives}
            by_objective = metric is None or (len(names) == 1 and metric in names)
            if sort is not None and sort not in ("objective", *(f"metrics.{n}" for n in names if n), *names):
                by_objective = False
            default_dir = _dir(objectives[0][1]) if objectives and by_objective else None
            query = TrialQuery(
                study_ids=list(study_ids),
                states=None if states is None else [TrialState(s) for s in states],
                where=conditions,
                sort_objective=by_objective and bool(objectives),
                sort_metric=None if by_objective else metric,
                sort_expr=None if by_objective or sort is None else sort_key(sort),
                descending=resolve_direction(direction, default_dir),
                limit=None if limit is None else limit + offset,
                feasible_first=feasible_first,
            )
            ids = query.ordered_ids(conn)[offset:]  # ids only (an index range); records for the page
            if not ids:
                return []
            rows = {r.id: r for r in conn.execute(select(Trial).where(Trial.id.in_(ids)))}
            return self._records(conn, [rows[i] for i in ids], True)

    # -- lifecycle -------------------------------------------------------------------------------------
    def check_writable(self) -> None:
        probe = {
            "hash": "hypersweep-write-probe",
            "python_version": "",
            "python_implementation": "",
            "os": "",
            "kernel": "",
            "cpu_model": "",
            "cpu_count": 0,
            "ml_packages": {},
            "packages": {},
            "gpus": [],
            "created_at": datetime.now(UTC),
        }
        try:
            with self._engine.connect() as conn:
                conn.execution_options(hs_write=True)
                with conn.begin() as tx:
                    conn.execute(insert(Environment).values(**probe))
                    conn.execute(update(Study).where(Study.id == -1).values(notes=None))
                    tx.rollback()
        except SQLAlchemyError as e:
            raise _engine.translate_error(e, self._surl, "write check") from e
