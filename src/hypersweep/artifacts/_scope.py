"""Which artifact records a trial may hand back, and which URIs a download may read.

A trial's records come back from its worker, and a command trial's checkpoint records come from lines
it printed: text that anything in the trial's output could forge. The driver keeps a record only when
its URI is exactly where hypersweep itself writes that trial's blobs under the artifact root (see
docs/artifacts.md, "Where they go")::

    {root}/{study}/{trial_key}/{name}                                        kind "file"
    {root}/{study}/checkpoints/{params_hash}/{n:06d}-{trial_key}/{rel}       kind "checkpoint",
                                                        named checkpoints/{n:06d}-{trial_key}/{rel}

A download reads only URIs inside the artifact root (``download_refusal`` in ``_blobs``): nothing
outside it is opened, so a forged record reveals nothing about the file it names.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypersweep.artifacts._blobs import CHECKPOINT_KIND, CHECKPOINTS, FILE_KIND, _fs, _uri, check_name
from hypersweep.artifacts._checkpoints import params_hash
from hypersweep.records import ArtifactRecord

__all__ = ["ArtifactScope", "accepted_records", "layout_root", "record_refusal", "trial_scope"]

_log = logging.getLogger(__name__)
_CKPT_NAME = re.compile(rf"{CHECKPOINTS}/(\d+)-([^/]+)/(.+)")


@dataclass(frozen=True)
class ArtifactScope:
    """Where one trial's blobs live: the root, the study, the trial's key and its params' hash."""

    root: str
    study: str
    trial_key: str
    params_hash: str


def trial_scope(root: str | None, study: str, trial_key: str, params: Any) -> ArtifactScope | None:
    """The scope of a trial's artifacts (None without an artifact root: then it has none)."""
    if not root:
        return None
    return ArtifactScope(root, study, trial_key, params_hash(params))


@functools.lru_cache(maxsize=64)
def _root_uri(root: str) -> str:
    fs, base = _fs(root, None)
    return _uri(fs, base).rstrip("/")


def _relative(name: str) -> str | None:
    try:
        rel = check_name(name)
    except ValueError:
        return None
    return rel if rel == name else None  # the name as stored, not one that normalizes to it


def record_refusal(record: ArtifactRecord, scope: ArtifactScope | None) -> str | None:
    """Why ``record`` is not one of the trial's own blobs under the root (None: it is)."""
    if scope is None:
        return f"artifact {record.name!r}: the trial has no artifact root"
    try:
        study, key = check_name(scope.study), check_name(scope.trial_key)
        base = f"{_root_uri(scope.root)}/{study}"
    except (ValueError, OSError, ImportError) as e:
        return f"artifact {record.name!r}: {e}"
    expected: str | None = None
    if record.kind == FILE_KIND and _relative(record.name) is not None:
        expected = f"{base}/{key}/{record.name}"
    elif record.kind == CHECKPOINT_KIND:
        m = _CKPT_NAME.fullmatch(record.name)
        if m is not None and m.group(2) == key and _relative(m.group(3)) is not None:
            expected = f"{base}/{CHECKPOINTS}/{scope.params_hash}/{m.group(1)}-{key}/{m.group(3)}"
    if expected is None:
        return (
            f"artifact {record.name!r} (kind {record.kind!r}): not a name hypersweep gives this trial's blobs"
        )
    if record.uri != expected:
        return (
            f"artifact {record.name!r}: its URI {record.uri!r} is not where this trial's blobs are stored "
            f"under the artifact root ({expected})"
        )
    return None


def accepted_records(
    records: Iterable[ArtifactRecord], scope: ArtifactScope | None, refused: list[str] | None = None
) -> tuple[ArtifactRecord, ...]:
    """The records that name the trial's own blobs under its artifact root (see :func:`record_refusal`);
    each other one is dropped with a message appended to ``refused`` (or logged as a warning)."""
    out = []
    for rec in records:
        why = record_refusal(rec, scope)
        if why is None:
            out.append(rec)
        elif refused is not None:
            refused.append(why)
        else:
            _log.warning("%s: not recorded", why)
    return tuple(out)


def layout_root(record: ArtifactRecord, study: str, trial_key: str) -> str | None:
    """The artifact root a stored record's URI implies, from the layout of ``study``'s trial
    ``trial_key``; None when the URI is not in that layout."""
    if record.kind == CHECKPOINT_KIND:
        m = _CKPT_NAME.fullmatch(record.name)
        if m is None or m.group(2) != trial_key or _relative(m.group(3)) is None:
            return None
        pattern = (
            rf"(.+)/{re.escape(study)}/{CHECKPOINTS}/[0-9a-f]{{16}}/{re.escape(m.group(1))}-"
            + re.escape(f"{trial_key}/{m.group(3)}")
        )
    elif _relative(record.name) is not None:
        pattern = "(.+)/" + re.escape(f"{study}/{trial_key}/{record.name}")
    else:
        return None
    found = re.fullmatch(pattern, record.uri)
    return found.group(1) if found else None
