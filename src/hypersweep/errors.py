"""The hypersweep exception tree.

Every error a user can cause derives from :class:`HypersweepError`; the CLI maps each branch to an
exit code and prints its message without a traceback::

    HypersweepError                      exit 1 (unexpected)
    ├── SpecError                        exit 2  every violation of a sweep file, with path and line
    ├── UsageError                       exit 2  a bad command-line argument or API call
    ├── ResumeConflictError              exit 2  the file changed keys that a resume cannot accept
    ├── StudyLockedError                 exit 2  another live driver holds the study's lease
    ├── QueryError                       exit 2  a malformed ``--where`` filter, pointing at the column
    ├── StoreError                       exit 3
    │   ├── SweepNotFoundError                   no study of that name
    │   ├── StudyExistsError                     a study of that name already exists
    │   ├── SchemaVersionError                   the store's schema is older or newer than this release
    │   ├── StoreUnavailableError                the server is down or the file is missing or locked
    │   ├── StoreReadOnlyError                   the store refuses writes
    │   └── ArtifactIntegrityError               a downloaded artifact does not match its recorded sha256
    ├── ExecutorError                    exit 4
    │   └── InsufficientResourcesError           no node can ever satisfy a trial's resources
    ├── FailureBudgetExceeded            exit 5  max_failures or the first-3-fail rule stopped the sweep
    └── ReproduceMismatch                exit 6  a rerun did not reproduce its original

:class:`Pruned` is not an error: a trial raises it (through ``hypersweep.report``) to stop early.
:class:`RunInterrupted` is the ``KeyboardInterrupt`` of a run stopped by Ctrl-C (exit 130): its message
says what the store recorded and how to resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ArtifactIntegrityError",
    "ExecutorError",
    "FailureBudgetExceeded",
    "HypersweepError",
    "InsufficientResourcesError",
    "Pruned",
    "QueryError",
    "ReproduceMismatch",
    "RunInterrupted",
    "ResumeConflictError",
    "SchemaVersionError",
    "SpecError",
    "SpecViolation",
    "StoreError",
    "StoreReadOnlyError",
    "StoreUnavailableError",
    "StudyExistsError",
    "StudyLockedError",
    "SweepNotFoundError",
    "UsageError",
]


class HypersweepError(Exception):
    """Root of every error hypersweep raises on purpose."""

    exit_code = 1


@dataclass(frozen=True)
class SpecViolation:
    """One problem in a sweep file: where it is and what to do about it."""

    path: str  # YAML path, e.g. "parameters.lr.low" ("" for the whole document)
    message: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    file: str | None = None

    def __str__(self) -> str:
        where = self.file or "<spec>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        loc = f" {self.path}:" if self.path else ""
        return f"{where}:{loc} {self.message}"


class SpecError(HypersweepError):
    """A sweep file is invalid. Carries every violation at once."""

    exit_code = 2

    def __init__(self, violations: Sequence[SpecViolation] | str, file: str | None = None):
        if isinstance(violations, str):
            violations = [SpecViolation(path="", message=violations, file=file)]
        self.violations: tuple[SpecViolation, ...] = tuple(violations)
        self.file = file
        n = len(self.violations)
        head = f"{file or 'sweep file'}: {n} problem{'s' if n != 1 else ''}"
        super().__init__(head + "\n" + "\n".join(f"  - {v}" for v in self.violations))


class UsageError(HypersweepError):
    """A command-line argument or API argument is wrong."""

    exit_code = 2


class ResumeConflictError(HypersweepError):
    """A study exists and the sweep file changed keys that decide what trials compute."""

    exit_code = 2

    def __init__(self, message: str, keys: Sequence[str] = ()):
        self.keys = tuple(keys)
        super().__init__(message)


class StudyLockedError(HypersweepError):
    """Another live driver holds the study's lease."""

    exit_code = 2

    def __init__(self, message: str, host: str | None = None, pid: int | None = None):
        self.host = host
        self.pid = pid
        super().__init__(message)


class QueryError(HypersweepError):
    """A ``--where`` expression could not be parsed; ``column`` is 1-based."""

    exit_code = 2

    def __init__(self, message: str, expression: str = "", column: int | None = None):
        self.expression = expression
        self.column = column
        text = message
        if expression and column is not None:
            text += f"\n  {expression}\n  {' ' * (column - 1)}^"
        super().__init__(text)


class StoreError(HypersweepError):
    """The tracking store failed or refused an operation."""

    exit_code = 3


class SweepNotFoundError(StoreError):
    """No study of that name in the store."""


class StudyExistsError(StoreError):
    """A study of that name already exists."""


class SchemaVersionError(StoreError):
    """The store's schema is not the one this release uses; the message names the upgrade command."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached: server down, file missing, file locked past the timeout."""


class StoreReadOnlyError(StoreError):
    """The store refuses writes (read-only file, role without INSERT)."""


class ArtifactIntegrityError(StoreError):
    """An artifact is missing from its root, or its bytes do not match the recorded size and sha256."""


class ExecutorError(HypersweepError):
    """The executor could not run trials."""

    exit_code = 4


class InsufficientResourcesError(ExecutorError):
    """No node of the cluster can ever satisfy a trial's resource request."""


class FailureBudgetExceeded(HypersweepError):
    """Too many trials failed: ``budget.max_failures`` or the first-3-fail rule."""

    exit_code = 5


class ReproduceMismatch(HypersweepError):
    """A reproduced trial's metrics differ beyond tolerance, or its rerun failed."""

    exit_code = 6


class Pruned(Exception):  # noqa: N818 - the name users write in `except hypersweep.Pruned`
    """Raised inside a trial by ``hypersweep.report`` when the pruner stops it."""


class RunInterrupted(KeyboardInterrupt):
    """A run or resume stopped by Ctrl-C (``SIGINT``), after its trials in flight were recorded as
    interrupted and its lease released. Still a ``KeyboardInterrupt``; ``str()`` is the message the CLI
    prints: what the store recorded and the exact command that resumes the study."""

    exit_code = 130

    def __init__(self, study: str, counts: dict[str, int] | None, resume_command: str) -> None:
        self.study = study
        self.counts = counts  # trials per state as recorded, None when the store could not be read
        self.resume_command = resume_command
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.counts is None:
            recorded = "the store could not be read to count what was recorded"
        else:
            c = self.counts
            recorded = (
                f"recorded {c.get('complete', 0)} complete, {c.get('pruned', 0)} pruned, "
                f"{c.get('failed', 0)} failed, {c.get('interrupted', 0)} interrupted "
                "(interrupted trials run again first on resume)"
            )
        return (
            f"interrupted: study {self.study!r} stopped by Ctrl-C; {recorded}; the study is resumable:\n"
            f"  {self.resume_command}"
        )

    def __str__(self) -> str:
        return self.message
