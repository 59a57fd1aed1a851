"""The JSON-lines protocol of command trials, as a pure parser: a line in, a message out, no I/O.

A command trial talks to its runner by printing JSON objects, one a line, on stdout (what
``hypersweep.report``, ``log_artifact`` and ``checkpoint`` print in a command trial; see
docs/sweep-file.md, "Command trials")::

    {"step": 3, "loss": 0.25}                       metrics at a step (an integer, 0 <= step < 2**63)
    {"loss": 0.25}                                  final metrics (no step)
    {"hypersweep_artifact": "/abs/path", "name": "model.pt"}         a file to store with the trial
    {"hypersweep_checkpoint": [{"name": ..., "uri": ..., "size": ..., "sha256": ..., "kind": ...}]}

Every other line is plain output. A line that looks like a message but is malformed (a step that is
not an integer in range, a non-list checkpoint, a non-string artifact path, a metric that is not a
number) gives a :class:`ProtocolWarning` for that line and nothing else: the reader warns and keeps
reading. Nothing here raises on any input; undecodable bytes are decoded with replacement characters
and reported (:func:`decode`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from hypersweep.records import ArtifactRecord

__all__ = [
    "MAX_STEP",
    "ArtifactLine",
    "CheckpointLine",
    "Message",
    "MetricsLine",
    "ProtocolWarning",
    "decode",
    "parse_line",
    "parse_step",
]

MAX_STEP = 2**63  # steps are 0 <= step < MAX_STEP (a BIGINT in the store)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NON_FINITE = {"nan": math.nan, "NaN": math.nan, "inf": math.inf, "-inf": -math.inf}
_KINDS = ("file", "checkpoint")


@dataclass(frozen=True)
class MetricsLine:
    """Metrics reported at ``step``; ``step`` None: final metrics."""

    step: int | None
    metrics: dict[str, float]


@dataclass(frozen=True)
class ArtifactLine:
    """A file the trial asks to store: ``path`` as printed (the runner decides whether it may)."""

    name: str | None
    path: str


@dataclass(frozen=True)
class CheckpointLine:
    """Records of checkpoint blobs the trial says it uploaded (the driver checks them)."""

    records: tuple[ArtifactRecord, ...]


@dataclass(frozen=True)
class ProtocolWarning:
    """A malformed protocol line: why it was ignored."""

    message: str


Message = MetricsLine | ArtifactLine | CheckpointLine | ProtocolWarning


def decode(raw: bytes) -> tuple[str, bool]:
    """A line of output as text, and whether it was valid UTF-8 (undecodable bytes become U+FFFD)."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_step(value: Any) -> int | str:
    """A step as an ``int``, or why it is not one: an integer (a whole float is accepted) with
    ``0 <= step < 2**63``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be an integer, got {_short(value)}"
    if isinstance(value, float):
        if not value.is_integer():  # also nan and inf
            return f"must be an integer, got {_short(value)}"
        value = int(value)
    if not 0 <= value < MAX_STEP:
        return f"must be in 0 <= step < 2**63, got {_short(value)}"
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an integer past the float range
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        return _NON_FINITE.get(value)
    return None


def _record(obj: Any) -> ArtifactRecord | str:
    if not isinstance(obj, dict):
        return f"a record must be an object, got {_short(obj)}"
    name, uri, size, sha, kind = (obj.get(k) for k in ("name", "uri", "size", "sha256", "kind"))
    kind = "file" if kind is None else kind
    if not (isinstance(name, str) and name and isinstance(uri, str) and uri):
        return "a record needs a non-empty string 'name' and 'uri'"
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return f"a record's 'size' must be a whole number of bytes, got {_short(size)}"
    if not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
        return f"a record's 'sha256' must be 64 hex digits, got {_short(sha)}"
    if kind not in _KINDS:
        return f"a record's 'kind' must be 'file' or 'checkpoint', got {_short(kind)}"
    return ArtifactRecord(name=name, uri=uri, size=size, sha256=sha, kind=kind)


def _checkpoint(value: Any) -> Message:
    if not isinstance(value, list):
        return ProtocolWarning(f"'hypersweep_checkpoint' must be a list of records, got {_short(value)}")
    records = []
    for item in value:
        rec = _record(item)
        if isinstance(rec, str):
            return ProtocolWarning(f"'hypersweep_checkpoint': {rec}")
        records.append(rec)
    return CheckpointLine(tuple(records))


def _artifact(obj: dict[str, Any]) -> Message:
    path, name = obj["hypersweep_artifact"], obj.get("name")
    if not isinstance(path, str) or not path or "\x00" in path:
        return ProtocolWarning(f"'hypersweep_artifact' must be a file path (a string), got {_short(path)}")
    if name is not None and not isinstance(name, str):
        return ProtocolWarning(f"an artifact's 'name' must be a string, got {_short(name)}")
    return ArtifactLine(name or None, path)


def parse_line(line: str) -> Message | None:
    """What one line of a command trial's stdout says; None for plain output (or a JSON line that
    carries no number: a structured log line)."""
    s = line.strip()
    if not (s.startswith("{") and s.endswith("}")):
        return None
    try:
        obj = json.loads(s)
    except (ValueError, RecursionError):  # not JSON (or nested past the parser's depth): plain output
        return None
    if not isinstance(obj, dict):
        return None
    if "hypersweep_checkpoint" in obj:
        return _checkpoint(obj["hypersweep_checkpoint"])
    if "hypersweep_artifact" in obj:
        return _artifact(obj)
    step = obj.pop("step", None)
    metrics = {}
    for k, v in obj.items():
        f = _number(v)
        if f is not None:
            metrics[k] = f
    if not metrics:
        return None
    if step is None:
        return MetricsLine(None, metrics)
    parsed = parse_step(step)
    if isinstance(parsed, str):
        return ProtocolWarning(f"'step' {parsed}; the line's metrics were not recorded")
    return MetricsLine(parsed, metrics)
