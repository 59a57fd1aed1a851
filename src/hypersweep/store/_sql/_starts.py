"""Starts: trials queued in the executor (``waiting``) become ``running`` when their workers start them.

Mixed into the SQL store. One transaction per batch; a trial that is no longer waiting (it finished
first, or was interrupted) is left as it is, so a late start never reopens a trial.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from hypersweep.records import TrialState
from hypersweep.store._sql._convert import bump_change_seq
from hypersweep.store._sql._models import Trial
from hypersweep.store._sql._util import _chunks

__all__ = ["TrialStarts"]

_WAITING = TrialState.WAITING.value


class TrialStarts:
    _tx: Callable[..., AbstractContextManager[Connection]]

    def start_trials(self, starts: Mapping[int, datetime]) -> None:
        if not starts:
            return
        with self._tx(write=True, action="record trial starts") as conn:
            study_of: dict[int, int] = {}
            for chunk in _chunks(list(starts)):
                stmt = select(Trial.id, Trial.study_id).where(Trial.id.in_(chunk), Trial.state == _WAITING)
                study_of.update({tid: sid for tid, sid in conn.execute(stmt)})
            if not study_of:
                return
            seqs = bump_change_seq(conn, set(study_of.values()))  # live pages see the change
            stmt2 = (
                update(Trial)
                .where(Trial.id == bindparam("b_id"), Trial.state == _WAITING)
                .values(
                    state=TrialState.RUNNING.value,
                    started_at=bindparam("b_at"),
                    change_seq=bindparam("b_seq"),
                )
            )
            conn.execute(
                stmt2,
                [{"b_id": tid, "b_at": starts[tid], "b_seq": seqs[sid]} for tid, sid in study_of.items()],
            )
