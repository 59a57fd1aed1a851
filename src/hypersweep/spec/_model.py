"""The validated, immutable sweep: :class:`SweepSpec` and its parts (frozen dataclasses).

Instances are built only by ``parse_spec``/``load_spec`` after validation, so their fields can be trusted.
They hold plain values and pickle cleanly (they travel to Ray workers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hypersweep.errors import SpecViolation
from hypersweep.records import Direction
from hypersweep.spec._constraints import Constraint
from hypersweep.spec._space import Param

__all__ = [
    "Budget",
    "EarlyStopping",
    "Objective",
    "Resources",
    "StrategyConfig",
    "SweepSpec",
    "TrialConfig",
    "param_summary",
]

EarlyStoppingType = Literal["none", "median", "asha", "hyperband"]


@dataclass(frozen=True)
class Objective:
    metric: str
    direction: Direction = Direction.MINIMIZE
    target: float | None = None  # the sweep finishes once a complete trial reaches it (W&B metric.target)


@dataclass(frozen=True)
class StrategyConfig:
    """The strategy that runs (``name``, a name registered in ``hypersweep.strategies``) and its options.

    ``requested`` is ``auto`` or ``bayes`` when the file asked for one of those and ``name`` is what it
    resolved to (``reason`` says why); a study records ``name`` when it is created."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    requested: str | None = None
    reason: str | None = None

    def key(self) -> str:
        """The name the sweep file asked for (what a resume compares)."""
        return self.requested or self.name


@dataclass(frozen=True)
class Budget:
    trials: int | None = None  # finished trials wanted; grid: the grid's size; None: until stopped
    parallel: int | None = None  # None: as many as the cluster fits
    max_failures: int | None = None
    retries: int = 0
    timeout_s: float | None = None  # wall-clock limit of one driver run
    patience: int | None = None  # end after this many finished trials (study life) without a better best


@dataclass(frozen=True)
class TrialConfig:
    function: str | None = None  # "module:function"
    command: tuple[str, ...] | None = None  # argv template (see build_argv)
    program: str | None = None  # W&B `program`
    timeout_s: float | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    wandb: Literal["capture", "off"] = "off"
    data: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resources:
    cpus: float = 1
    gpus: float = 0
    accelerator_type: str | None = None
    custom: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EarlyStopping:
    type: EarlyStoppingType = "none"
    options: Mapping[str, Any] = field(default_factory=dict)


def param_summary(p: Param) -> dict[str, Any]:
    """A JSON-able description of one parameter (for `validate` and resume comparison)."""
    out: dict[str, Any] = {"name": p.name, "kind": p.kind, "distribution": p.distribution}
    if p.kind in ("float", "int"):
        out.update(low=p.low, high=p.high, log=p.log, step=p.step)
    elif p.kind == "categorical":
        out["values"] = list(p.values)
    elif p.kind == "constant":
        out["value"] = p.value
    if p.args:
        out["args"] = dict(p.args)
    if p.when:
        out["when"] = {k: list(v) for k, v in p.when}
    return out


@dataclass(frozen=True)
class SweepSpec:
    name: str
    format: Literal["native", "wandb"]
    workdir: str
    text: str
    spec_hash: str
    parameters: tuple[Param, ...]
    strategy: StrategyConfig
    budget: Budget = field(default_factory=Budget)
    trial: TrialConfig = field(default_factory=TrialConfig)
    resources: Resources = field(default_factory=Resources)
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping)
    objective: Objective | None = None
    description: str | None = None
    file: str | None = None
    seed: int | None = None
    enqueue: tuple[Mapping[str, Any], ...] = ()
    monitoring: Mapping[str, Any] | bool | None = None
    artifacts: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[SpecViolation, ...] = ()
    grid_size: int | None = None  # the grid's size when every parameter is griddable
    # every objective, in order (``objectives:``, or W&B's ``metrics:``); ``objective`` is the first
    objectives: tuple[Objective, ...] = ()
    constraints: tuple[Constraint, ...] = ()  # on final metrics; feasible trials rank first

    def __post_init__(self) -> None:
        if not self.objectives and self.objective is not None:
            object.__setattr__(self, "objectives", (self.objective,))
        elif self.objectives and self.objective is None:
            object.__setattr__(self, "objective", self.objectives[0])

    @property
    def several_objectives(self) -> bool:
        """True for a study with more than one objective (a Pareto front, not one best)."""
        return len(self.objectives) > 1

    def param(self, name: str) -> Param:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def resume_key(self) -> dict[str, Any]:
        """What decides what trials compute and how suggestions are drawn.

        A resume compares this with the stored study's key and refuses when any top-level key differs.
        Budget, resources, monitoring, trial env/timeout/data, artifacts, W&B capture, enqueue, warm_start
        and the description are left out on purpose: they may change between runs.
        """
        # what the file asked for: auto takes no options (those it gives what it picks are derived)
        asked = {} if self.strategy.requested == "auto" else self.strategy.options
        options = {k: v for k, v in asked.items() if k != "warm_start"}
        return {
            "parameters": [param_summary(p) for p in self.parameters],
            "objective": None
            if self.objective is None
            else {"metric": self.objective.metric, "direction": self.objective.direction.value},
            **(
                {
                    "objectives": [
                        {"metric": o.metric, "direction": o.direction.value} for o in self.objectives
                    ]
                }
                if self.several_objectives
                else {}
            ),
            **({"constraints": [c.text for c in self.constraints]} if self.constraints else {}),
            "strategy": {"name": self.strategy.key(), "options": dict(sorted(options.items()))},
            "seed": self.seed,
            "trial": {
                "function": self.trial.function,
                "command": list(self.trial.command) if self.trial.command is not None else None,
                "program": self.trial.program,
            },
            "early_stopping": {
                "type": self.early_stopping.type,
                "options": dict(sorted(self.early_stopping.options.items())),
            },
        }

    def summary(self) -> dict[str, Any]:
        """A JSON-able normalised view of the spec (``hypersweep validate --format json``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "format": self.format,
            "file": self.file,
            "description": self.description,
            "strategy": {
                "name": self.strategy.name,
                "options": dict(self.strategy.options),
                "requested": self.strategy.requested,
                "reason": self.strategy.reason,
            },
            "objective": None
            if self.objective is None
            else {
                "metric": self.objective.metric,
                "direction": self.objective.direction.value,
                "target": self.objective.target,
            },
            "objectives": [{"metric": o.metric, "direction": o.direction.value} for o in self.objectives],
            "constraints": [c.text for c in self.constraints],
            "seed": self.seed,
            "budget": {
                "trials": self.budget.trials,
                "parallel": self.budget.parallel,
                "max_failures": self.budget.max_failures,
                "retries": self.budget.retries,
                "timeout_s": self.budget.timeout_s,
                "patience": self.budget.patience,
            },
            "trial": {
                "function": self.trial.function,
                "command": list(self.trial.command) if self.trial.command is not None else None,
                "program": self.trial.program,
                "timeout_s": self.trial.timeout_s,
                "env": dict(self.trial.env),
                "wandb": self.trial.wandb,
                "data": list(self.trial.data),
            },
            "resources": {
                "cpus": self.resources.cpus,
                "gpus": self.resources.gpus,
                "accelerator_type": self.resources.accelerator_type,
                "custom": dict(self.resources.custom),
            },
            "early_stopping": {
                "type": self.early_stopping.type,
                "options": dict(self.early_stopping.options),
            },
            "parameters": [param_summary(p) for p in self.parameters],
        }
        if self.grid_size is not None:
            out["grid_size"] = self.grid_size
        if self.enqueue:
            out["enqueue"] = [dict(e) for e in self.enqueue]
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        out["warnings"] = [str(w) for w in self.warnings]
        return out
