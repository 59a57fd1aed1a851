"""The ``hypersweep`` command: a thin shell over :mod:`hypersweep.orchestrate` and :mod:`hypersweep.query`.

Each command parses its arguments, makes one library call and renders the result with the one renderer
(:mod:`hypersweep.cli._render`). Errors from the ``HypersweepError`` tree become one clear message and the
exit code of their branch; no traceback for a user mistake.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from hypersweep.cli import _artifacts, _db, _manage, _query, _reproduce, _run, _ui  # noqa: F401  (they register)
from hypersweep.cli._app import cli
from hypersweep.cli._render import err
from hypersweep.errors import HypersweepError

__all__ = ["cli", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: map the error tree to exit codes, never a traceback for a user mistake."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(2 if isinstance(e, click.UsageError) else e.exit_code)
    except HypersweepError as e:
        err.print(f"error: {e}", markup=False)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted: running trials were marked interrupted; the study is resumable")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(0)


if __name__ == "__main__":
    main()
