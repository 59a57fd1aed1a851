"""Test doubles for hypersweep: a scripted ``FakeExecutor`` on a simulated clock, and ``run_study`` to
drive the real engine and a real store with it (tests, benchmarks, plug-in strategies)."""

from __future__ import annotations

from hypersweep.testing._fake import (
    Complete,
    Crash,
    Fail,
    FakeExecutor,
    FakeTrial,
    Hang,
    Interrupt,
    Script,
    SimClock,
)
from hypersweep.testing._harness import run_study, start_study

__all__ = [
    "Complete",
    "Crash",
    "Fail",
    "FakeExecutor",
    "FakeTrial",
    "Hang",
    "Interrupt",
    "Script",
    "SimClock",
    "run_study",
    "start_study",
]
