"""The read side: typed rows over the store, shared by the CLI, the report and the dashboard.

Studies, leaderboards (filters, sorting), one trial, exports, DataFrames, the best trial and its
artifacts, management (tag/note/rename/delete) and the HTML report. Nothing here starts a run.
"""

from __future__ import annotations

from hypersweep.query._artifacts import best_trial, download_artifacts, list_artifacts
from hypersweep.query._changes import trial_changes
from hypersweep.query._frames import leaderboard, studies, trials
from hypersweep.query._manage import delete_study, note_study, rename_study, tag_study
from hypersweep.query._plots import study_plots
from hypersweep.query._report import write_report
from hypersweep.query._rows import leaderboard_rows, study_rows, trial_row
from hypersweep.query._show import export_study, show_trial, trial_log
from hypersweep.query._views import (
    MAX_POINTS,
    compare_trials,
    download_artifact,
    learning_curves,
    objective_history,
    studies_overview,
    study_overview,
    timeline,
    trial_detail,
)

__all__ = [
    "MAX_POINTS",
    "best_trial",
    "compare_trials",
    "delete_study",
    "download_artifact",
    "download_artifacts",
    "export_study",
    "leaderboard",
    "leaderboard_rows",
    "learning_curves",
    "list_artifacts",
    "note_study",
    "objective_history",
    "rename_study",
    "show_trial",
    "studies",
    "studies_overview",
    "study_overview",
    "study_plots",
    "study_rows",
    "tag_study",
    "timeline",
    "trial_changes",
    "trial_detail",
    "trial_log",
    "trial_row",
    "trials",
    "write_report",
]
