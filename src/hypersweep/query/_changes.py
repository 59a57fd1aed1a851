"""What changed in a study since a cursor: the read behind the dashboard's live updates."""

from __future__ import annotations

from typing import Any

from hypersweep.query._rows import trial_row
from hypersweep.store import Store

__all__ = ["trial_changes"]


def trial_changes(st: Store, name: str, after: int | None) -> dict[str, Any]:
    """``{"cursor": C, "trials": [rows changed after ``after``, each with its ``change``], "counts": {...}}``.

    ``after`` None asks for the current cursor only (no rows). A trial that moved from running to
    complete since ``after`` is in ``trials`` with its new state; nothing changed: ``trials`` is empty.
    """
    study = st.get_study(name)
    rows = []
    if after is None:
        cursor = st.change_cursor(study.study_id)
    else:
        trials, cursor = st.trials_changed_since(study.study_id, after)
        for t in trials:
            if t.number is None:  # a rerun of `reproduce`: not part of the sweep's table
                continue
            row = trial_row(study, t)
            row["change"] = t.change_seq
            rows.append(row)
    counts = {state.value: n for state, n in st.study_counts(study.study_id).items()}
    return {"cursor": cursor, "trials": rows, "counts": counts}
