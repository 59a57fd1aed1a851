"""Constraints: ``constraints: ["metrics.mem_mb <= 512", "metrics.latency_ms < 20"]``.

Each compares one of a trial's final metrics with a number, in the ``--where`` language's syntax
(docs/semantics.md section 5) restricted to that form. A trial is feasible when all of them hold. Samplers
that search towards feasibility (TPE, GP, NSGA-II) are told each constraint as a violation amount: <= 0
when it holds, > 0 otherwise (a strict comparison that fails by equality gets a small positive margin),
and ``MISSING_VIOLATION`` (large and finite: Optuna refuses NaN) when the metric is missing or not finite.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypersweep.spec._check import Report
from hypersweep.spec._yaml import Path, load_yaml

__all__ = [
    "MISSING_VIOLATION",
    "Constraint",
    "constraints_of",
    "feasible",
    "parse_constraints",
    "violations",
]

MISSING_VIOLATION = 1e12
_STRICT_MARGIN = 1e-12
_FORM = re.compile(
    r"^\s*metrics\.(?P<metric>[A-Za-z_][\w./-]*)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<bound>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_OPS = ("<=", "<", ">=", ">")
_NEGATION = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}


@dataclass(frozen=True)
class Constraint:
    text: str  # as written (normalised spacing)
    metric: str
    op: str  # one of <=, <, >=, >
    bound: float

    def violation(self, metrics: Mapping[str, float]) -> float:
        """<= 0 when the constraint holds for these final metrics, > 0 by how much it does not."""
        value = metrics.get(self.metric)
        if value is None or not math.isfinite(value):
            return MISSING_VIOLATION
        over = value - self.bound if self.op in ("<=", "<") else self.bound - value
        if self.op in ("<", ">") and over >= 0:
            return max(over, _STRICT_MARGIN * max(1.0, abs(self.bound)))
        return over

    def reason(self, metrics: Mapping[str, float]) -> str | None:
        """Why the constraint does not hold (None when it does), in words."""
        value = metrics.get(self.metric)
        if value is None or not math.isfinite(value):
            what = "missing" if value is None else f"{value}"
            return f"{self.text}: metrics.{self.metric} is {what}"
        if self.violation(metrics) <= 0:
            return None
        return f"{self.text}: metrics.{self.metric} = {value:g} {_NEGATION[self.op]} {self.bound:g}"


def parse_constraints(r: Report, raw: Any, path: Path) -> tuple[Constraint, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        r.error(path, 'constraints must be a list of comparisons, e.g. ["metrics.mem_mb <= 512"]')
        return ()
    out: list[Constraint] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        c = _parse_one(item)
        if c is None:
            r.error(
                (*path, i),
                f"{item!r} is not a constraint: write `metrics.NAME OP NUMBER` with OP one of "
                f'{", ".join(_OPS)} (e.g. "metrics.mem_mb <= 512")',
            )
            continue
        if c.text in seen:
            r.error((*path, i), f"constraint {c.text!r} is listed twice")
            continue
        seen.add(c.text)
        out.append(c)
    return tuple(out)


def _parse_one(item: Any) -> Constraint | None:
    if not isinstance(item, str):
        return None
    m = _FORM.match(item)
    if m is None:
        return None
    bound = float(m["bound"])
    if not math.isfinite(bound):
        return None
    return Constraint(f"metrics.{m['metric']} {m['op']} {m['bound']}", m["metric"], m["op"], bound)


def violations(constraints: Sequence[Constraint], metrics: Mapping[str, float]) -> tuple[float, ...]:
    return tuple(c.violation(metrics) for c in constraints)


def feasible(constraints: Sequence[Constraint], metrics: Mapping[str, float]) -> bool | None:
    """True when every constraint holds; None without constraints."""
    if not constraints:
        return None
    return all(v <= 0 for v in violations(constraints, metrics))


def constraints_of(text: str) -> tuple[Constraint, ...]:
    """The constraints a recorded sweep file names (native ``constraints:``, or a W&B file's
    ``hypersweep.constraints``), read without validating the rest; unreadable items are skipped."""
    try:
        data = load_yaml(text).data
    except Exception:  # noqa: BLE001 - a recorded file that no longer parses has no constraints to show
        return ()
    if not isinstance(data, dict):
        return ()
    raw = data.get("constraints")
    if raw is None and isinstance(data.get("hypersweep"), dict):
        raw = data["hypersweep"].get("constraints")
    items = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return tuple(c for c in (_parse_one(i) for i in items) if c is not None)
