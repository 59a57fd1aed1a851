"""The ``hypersweep`` command: a thin shell over :mod:`hypersweep.orchestrate` and :mod:`hypersweep.query`.

Each command parses its arguments, makes one library call and renders the result with the one renderer
(:mod:`hypersweep.cli._render`). Errors from the ``HypersweepError`` tree become one clear message and the
exit code of their branch; no traceback for a user mistake.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Sequence

import click

from hypersweep.cli import _artifacts, _db, _manage, _query, _reproduce, _run, _ui  # noqa: F401  (they register)
from hypersweep.cli._app import cli
from hypersweep.cli._render import err
from hypersweep.errors import HypersweepError, RunInterrupted

__all__ = ["cli", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: map the error tree to exit codes, never a traceback for a user mistake.

    Called without ``argv`` it is the process's entry point (the console script, ``python -m``): once the
    command is done its output is flushed, the exit handlers run (Ray's shutdown among them) and the
    process ends at once with ``os._exit``, skipping the interpreter's teardown of ~1,000 modules (0.4 to
    1 s after the last line). Called with ``argv`` (tests, embedding), it raises ``SystemExit`` as usual.
    """
    code = _invoke(argv)
    if argv is None:
        _exit_now(code)
    sys.exit(code)


def _invoke(argv: Sequence[str] | None) -> int:
    """The command's exit code, its error printed."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort as e:  # click turns a KeyboardInterrupt into Abort
        return _interrupted(e.__cause__ or e.__context__)
    except click.ClickException as e:
        e.show()
        return 2 if isinstance(e, click.UsageError) else e.exit_code
    except HypersweepError as e:
        err.print(f"error: {e}", markup=False)
        return e.exit_code
    except KeyboardInterrupt as e:
        return _interrupted(e)
    except BrokenPipeError:
        return 0
    except SystemExit as e:  # a command's own ``sys.exit``
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        err.print(str(e.code), markup=False)
        return 1
    return 0


def _interrupted(cause: BaseException | None) -> int:
    """Ctrl-C: what was recorded and how to resume (a run or resume), else that nothing ran; 130."""
    if isinstance(cause, RunInterrupted):
        err.print(str(cause), markup=False)
    else:
        err.print("interrupted (Ctrl-C)", markup=False)
    return 130


def _exit_now(code: int) -> None:
    """End the process now: flush stdout and stderr, run the exit handlers, then ``os._exit(code)``."""
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe: nothing more can reach it
                pass
        os._exit(code)


if __name__ == "__main__":
    main()
