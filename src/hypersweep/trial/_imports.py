"""Keeping a reused worker process importable after a trial is interrupted.

Ray cancels a running trial by raising ``KeyboardInterrupt`` in the worker's main thread, wherever it
is, and then reuses the worker for later trials. When the interrupt lands inside an ``import``, Python
removes the package being imported from ``sys.modules`` but keeps the submodules that had finished:
the next ``import package`` then runs the package again against those leftovers, and fails with
``partially initialized module 'package' has no attribute 'sub'`` (seen with fsspec). Forgetting the
leftovers lets the next import start from scratch, as it would in a fresh process.
"""

from __future__ import annotations

import sys

__all__ = ["forget_orphaned_modules"]


def forget_orphaned_modules() -> list[str]:
    """Remove from ``sys.modules`` every submodule whose parent package is no longer there (the trace
    of an import cut short), and return their names. Parents are looked at before their children, so
    a whole orphaned subtree goes."""
    gone: list[str] = []
    for name in sorted(sys.modules, key=lambda n: n.count(".")):
        parent = name.rpartition(".")[0]
        if parent and parent not in sys.modules:
            sys.modules.pop(name, None)
            gone.append(name)
    return gone
