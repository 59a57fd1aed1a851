"""Small helpers of the SQL store: chunking, process liveness, param columns, last-wins rows."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any

from hypersweep.records import Direction

_CHUNK = 500  # ids per IN (...) list


def _chunks(seq: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _pid_alive(pid: int | None) -> bool:
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OSError:
        return False
    return True


def _param_columns(value: Any) -> tuple[float | None, str | None]:
    """(value_num, value_text) of a param for ``trial_params``."""
    if isinstance(value, bool):
        return (1.0 if value else 0.0), ("true" if value else "false")
    if isinstance(value, int | float):
        f = float(value)
        return (f if math.isfinite(f) else None), (None if math.isfinite(f) else repr(f))
    if isinstance(value, str):
        return None, value
    return None, json.dumps(value, sort_keys=True, default=str)


def _dir(value: str | None) -> Direction | None:
    return Direction(value) if value else None
