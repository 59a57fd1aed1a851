"""The public API is curated: this test locks ``hypersweep.__all__`` and the import-time cost."""

from __future__ import annotations

import subprocess
import sys

import hypersweep

EXPECTED = {
    "ArtifactIntegrityError",
    "checkpoint",
    "restore_checkpoint",
    "Direction",
    "ExecutorError",
    "FailureBudgetExceeded",
    "HypersweepError",
    "InsufficientResourcesError",
    "Pruned",
    "QueryError",
    "ResumeConflictError",
    "RunResult",
    "SchemaVersionError",
    "SpecError",
    "StoreError",
    "StoreUnavailableError",
    "StudyLockedError",
    "StudyStatus",
    "SweepNotFoundError",
    "SweepSpec",
    "TrialState",
    "__version__",
    "current_trial",
    "leaderboard",
    "load_spec",
    "log_artifact",
    "report",
    "reproduce",
    "ReproduceResult",
    "resume_sweep",
    "run_sweep",
    "seed_everything",
    "stop_sweep",
    "studies",
    "trial_seed",
    "trials",
    "write_report",
}


def test_all_is_locked():
    assert set(hypersweep.__all__) == EXPECTED, "update EXPECTED (and the docs) when the public API changes"


def test_every_public_name_resolves():
    for name in hypersweep.__all__:
        assert getattr(hypersweep, name) is not None


def test_trial_side_import_stays_light():
    """A trial's `import hypersweep` must not pull in the driver's heavy dependencies."""
    code = "import sys, hypersweep; print(sorted(m for m in ('ray', 'optuna', 'sqlalchemy', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
