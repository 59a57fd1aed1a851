"""pandas DataFrames over the store, for notebooks: ``leaderboard``, ``studies``, ``trials``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hypersweep.query._rows import leaderboard_rows, study_rows, trial_row
from hypersweep.store import opened

if TYPE_CHECKING:
    import pandas as pd
from hypersweep.records import TrialState

__all__ = ["leaderboard", "studies", "trials"]


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    flat = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in ("params", "metrics", "values")}
        row.update({f"params.{k}": v for k, v in (r.get("params") or {}).items()})
        row.update({f"values.{k}": v for k, v in (r.get("values") or {}).items()})
        row.update({f"metrics.{k}": v for k, v in (r.get("metrics") or {}).items()})
        flat.append(row)
    df = pd.DataFrame(flat)
    for col in ("started_at", "finished_at", "updated_at"):
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True)
    return df.convert_dtypes(dtype_backend="numpy_nullable") if len(df) else df


def leaderboard(
    names: str | Sequence[str],
    *,
    store: str | None = None,
    top: int | None = 10,
    include_pruned: bool = False,
    pareto: bool = False,
) -> pd.DataFrame:
    """Ranked trials of one or more studies (names may be globs), params and metrics as columns; a study
    with several objectives by Pareto rank (a ``pareto_rank`` column), ``pareto``: the front only."""
    names = [names] if isinstance(names, str) else list(names)
    with opened(store) as st:
        return _frame(leaderboard_rows(st, names, top=top, include_pruned=include_pruned, pareto=pareto))


def studies(pattern: str | None = None, *, store: str | None = None) -> pd.DataFrame:
    """One row per study: strategy, status, trial counts, budget, best objective."""
    with opened(store) as st:
        return _frame(study_rows(st, pattern))


def trials(name: str, *, store: str | None = None, states: Sequence[str] | None = None) -> pd.DataFrame:
    """Every trial of a study (any state), ordered by number."""
    with opened(store) as st:
        study = st.get_study(name)
        wanted = [TrialState(s) for s in states] if states else None
        rows = [trial_row(study, t) for t in st.get_trials(study.study_id, states=wanted)]
    return _frame(rows)
