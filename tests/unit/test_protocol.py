"""The command trials' JSON-lines protocol as a pure parser: each kind of line, each malformed one a
warning, and (property) arbitrary bytes give a message, a warning or plain output, never an exception."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from hypersweep.records import ArtifactRecord
from hypersweep.trial._protocol import (
    MAX_STEP,
    ArtifactLine,
    CheckpointLine,
    MetricsLine,
    ProtocolWarning,
    decode,
    parse_line,
    parse_step,
)

SHA = "ab" * 32


def test_metrics_at_a_step_and_final_metrics() -> None:
    assert parse_line('{"step": 3, "loss": 0.5, "acc": 1, "note": "x"}\n') == MetricsLine(
        3, {"loss": 0.5, "acc": 1.0}
    )
    odd = parse_line('{"loss": "nan", "gain": "-inf", "top": "inf"}')
    assert isinstance(odd, MetricsLine) and odd.step is None
    assert (
        math.isnan(odd.metrics["loss"])
        and odd.metrics["gain"] == -math.inf
        and odd.metrics["top"] == math.inf
    )
    assert parse_line('{"step": 2.0, "loss": 1}') == MetricsLine(2, {"loss": 1.0})
    assert parse_line(f'{{"step": {MAX_STEP - 1}, "loss": 1}}') == MetricsLine(MAX_STEP - 1, {"loss": 1.0})
    assert parse_line('{"loss": 1e999}') == MetricsLine(None, {"loss": math.inf})
    assert parse_line('{"loss": ' + "9" * 400 + "}") == MetricsLine(None, {"loss": math.inf})


@pytest.mark.parametrize(
    "line",
    [
        "hello",
        "[1, 2]",
        "{not json}",
        '{"step": 1, "note": "no numbers"}',
        '{"flag": true}',
        "{" * 5000 + "}",
    ],
)
def test_plain_output(line: str) -> None:
    assert parse_line(line) is None


@pytest.mark.parametrize(
    "step", ['"warmup"', "1e400", "-1", str(MAX_STEP), "1.5", "true", "null", "[1]", "NaN"]
)
def test_a_bad_step_is_a_warning(step: str) -> None:
    msg = parse_line(f'{{"step": {step}, "loss": 1}}')
    if step == "null":  # no step: final metrics
        assert msg == MetricsLine(None, {"loss": 1.0})
        return
    assert isinstance(msg, ProtocolWarning) and "'step'" in msg.message


def test_parse_step() -> None:
    assert parse_step(0) == 0 and parse_step(7.0) == 7
    assert isinstance(parse_step(-1), str) and isinstance(parse_step(2**63), str)
    assert isinstance(parse_step(math.inf), str) and isinstance(parse_step(True), str)


def test_artifact_and_checkpoint_lines() -> None:
    assert parse_line('{"hypersweep_artifact": "/w/model.pt", "name": null}') == ArtifactLine(
        None, "/w/model.pt"
    )
    assert parse_line('{"hypersweep_artifact": "m.pt", "name": "a/b"}') == ArtifactLine("a/b", "m.pt")
    rec = {
        "name": "checkpoints/000001-3/x",
        "uri": "file:///r/x",
        "size": 3,
        "sha256": SHA,
        "kind": "checkpoint",
    }
    assert parse_line(json.dumps({"hypersweep_checkpoint": [rec]})) == CheckpointLine(
        (ArtifactRecord("checkpoints/000001-3/x", "file:///r/x", 3, SHA, "checkpoint"),)
    )


@pytest.mark.parametrize(
    "obj",
    [
        {"hypersweep_checkpoint": {"uri": "/etc/hostname"}},
        {"hypersweep_checkpoint": ["x"]},
        {"hypersweep_checkpoint": [{"name": "a", "uri": "u", "size": -1, "sha256": SHA}]},
        {"hypersweep_checkpoint": [{"name": "a", "uri": "u", "size": 1, "sha256": "zz"}]},
        {"hypersweep_checkpoint": [{"name": "a", "uri": "u", "size": 1, "sha256": SHA, "kind": "x"}]},
        {"hypersweep_artifact": 42},
        {"hypersweep_artifact": ""},
        {"hypersweep_artifact": "a", "name": 5},
    ],
)
def test_malformed_records_are_warnings(obj: dict) -> None:
    assert isinstance(parse_line(json.dumps(obj)), ProtocolWarning)


def test_decode() -> None:
    assert decode(b"ok\n") == ("ok\n", True)
    assert decode(b"caf\xe9\n") == ("caf\ufffd\n", False)


_json_values = hs.recursive(
    hs.none() | hs.booleans() | hs.integers() | hs.floats() | hs.text(max_size=8),
    lambda inner: hs.lists(inner, max_size=3) | hs.dictionaries(hs.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_keys = hs.sampled_from(
    ["step", "loss", "hypersweep_checkpoint", "hypersweep_artifact", "name", "uri", "size"]
)


@settings(deadline=None)  # a pure parser; a loaded machine is not a failure
@given(hs.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    text, _ = decode(raw)
    msg = parse_line(text)
    assert msg is None or isinstance(msg, MetricsLine | ArtifactLine | CheckpointLine | ProtocolWarning)


@settings(deadline=None)
@given(hs.dictionaries(_keys | hs.text(max_size=6), _json_values, max_size=5))
def test_arbitrary_json_objects_give_a_message_or_a_warning(obj: dict) -> None:
    line = json.dumps(obj)
    msg = parse_line(line)
    if isinstance(msg, MetricsLine):
        assert msg.step is None or 0 <= msg.step < MAX_STEP
        assert all(isinstance(v, float) for v in msg.metrics.values())
    elif isinstance(msg, CheckpointLine):
        assert all(isinstance(r, ArtifactRecord) and r.size >= 0 for r in msg.records)
    elif isinstance(msg, ArtifactLine):
        assert isinstance(msg.path, str) and msg.path
    else:
        assert msg is None or isinstance(msg, ProtocolWarning)
