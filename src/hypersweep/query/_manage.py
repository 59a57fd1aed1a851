"""Study management: tag, note, rename, delete (refused while a driver holds the study)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from hypersweep.errors import StudyExistsError, StudyLockedError, SweepNotFoundError, UsageError
from hypersweep.records import StudyRecord
from hypersweep.store import Store

__all__ = ["delete_study", "note_study", "rename_study", "tag_study"]


def _refuse_if_live(st: Store, study: StudyRecord, what: str) -> None:
    lease = st.get_lease(study.study_id)
    if lease is not None and not lease.expired:
        raise StudyLockedError(
            f"cannot {what} study {study.name!r}: a driver is running it (host {lease.host}, pid {lease.pid}); "
            f"stop it first with `hypersweep stop {shlex.quote(study.name)}`",
            host=lease.host,
            pid=lease.pid,
        )


def tag_study(st: Store, name: str, tags: Mapping[str, str | None]) -> StudyRecord:
    study = st.get_study(name)
    st.set_tags(study.study_id, tags)
    return st.get_study_by_id(study.study_id)


def note_study(st: Store, name: str, text: str) -> StudyRecord:
    study = st.get_study(name)
    return st.update_study(study.study_id, notes=text)


def rename_study(st: Store, old: str, new: str) -> StudyRecord:
    if not new or new != new.strip():
        raise UsageError("the new name must be non-empty, without leading or trailing spaces")
    study = st.get_study(old)
    try:
        st.get_study(new)
    except SweepNotFoundError:
        pass
    else:
        raise StudyExistsError(f"a study named {new!r} already exists")
    _refuse_if_live(st, study, "rename")
    return st.update_study(study.study_id, name=new)


def delete_study(st: Store, name: str) -> int:
    """Remove the study's rows in one transaction; returns how many trials it had."""
    study = st.get_study(name)
    _refuse_if_live(st, study, "delete")
    n = sum(st.study_counts(study.study_id).values())
    st.delete_study(study.study_id)
    return n
