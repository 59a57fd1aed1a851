"""The read side: typed rows over the store, shared by the CLI, the report and the dashboard.

Studies, leaderboards (filters, sorting), one trial, exports, DataFrames, the best trial and its
artifacts, management (tag/note/rename/delete) and the HTML report. Nothing here starts a run.
"""

from __future__ import annotations

from hypersweep.query._artifacts import best_trial, download_artifacts, list_artifacts
from hypersweep.query._frames import leaderboard, studies, trials
from hypersweep.query._manage import delete_study, note_study, rename_study, tag_study
from hypersweep.query._report import write_report
from hypersweep.query._rows import leaderboard_rows, study_rows, trial_row
from hypersweep.query._show import export_study, show_trial, trial_log

__all__ = [
    "best_trial",
    "delete_study",
    "download_artifacts",
    "export_study",
    "leaderboard",
    "leaderboard_rows",
    "list_artifacts",
    "note_study",
    "rename_study",
    "show_trial",
    "studies",
    "study_rows",
    "tag_study",
    "trial_log",
    "trial_row",
    "trials",
    "write_report",
]
