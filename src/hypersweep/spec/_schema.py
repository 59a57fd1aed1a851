"""JSON Schema (Draft 2020-12) of the native sweep-file format, for editors (``hypersweep schema``).

It mirrors the validators in ``_native``/``_sections``; rules a JSON Schema cannot say (low < high, `when`
references, file checks) are enforced by ``load_spec`` only. A unit test keeps the two in step.
"""

from __future__ import annotations

import copy
from typing import Any

from hypersweep.spec._check import MAX_SEED, MAX_TRIALS
from hypersweep.spec._sections import EARLY_STOPPING_OPTIONS
from hypersweep.spec._strategy import OPTION_TYPES, STRATEGY_OPTIONS

__all__ = ["json_schema"]

_DURATION = {
    "description": "seconds, or a duration such as 30m, 1h30m, 10s, 2h",
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0},
        {
            "type": "string",
            "pattern": r"^\s*(\d+(\.\d+)?\s*d)?\s*(\d+(\.\d+)?\s*h)?\s*(\d+(\.\d+)?\s*m)?\s*(\d+(\.\d+)?\s*s)?\s*$",
        },
    ],
}
_WHEN = {
    "type": "object",
    "description": "active only when every named parameter (declared above) has one of the given values",
    "minProperties": 1,
    "additionalProperties": {},
}
_NUMERIC: dict[str, dict[str, Any]] = {
    "low": {"type": "number"},
    "high": {"type": "number"},
    "log": {"type": "boolean", "default": False},
    "step": {"type": "number", "exclusiveMinimum": 0},
    "when": {"$ref": "#/$defs/when"},
}


def _param_schemas() -> list[dict[str, Any]]:
    int_props = copy.deepcopy(_NUMERIC)
    for key in ("low", "high", "step"):
        int_props[key]["type"] = "integer"
    return [
        {
            "title": "float",
            "type": "object",
            "required": ["type", "low", "high"],
            "properties": {"type": {"const": "float"}, **copy.deepcopy(_NUMERIC)},
            "additionalProperties": False,
        },
        {
            "title": "int",
            "type": "object",
            "required": ["type", "low", "high"],
            "properties": {"type": {"const": "int"}, **int_props},
            "additionalProperties": False,
        },
        {
            "title": "categorical",
            "type": "object",
            "required": ["values"],
            "properties": {
                "type": {"const": "categorical"},
                "values": {"type": "array", "minItems": 1},
                "when": {"$ref": "#/$defs/when"},
            },
            "additionalProperties": False,
        },
        {
            "title": "constant",
            "type": "object",
            "required": ["value"],
            "properties": {"type": {"const": "constant"}, "value": {}, "when": {"$ref": "#/$defs/when"}},
            "additionalProperties": False,
        },
    ]


def _option_schema(key: str) -> dict[str, Any]:
    kind, minimum, exclusive, maximum = OPTION_TYPES.get(key, ("bool", None, False, None))
    if kind == "names":
        return {
            "description": "studies whose trials seed the sampler",
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        }
    if kind == "bool":
        return {"type": "boolean"}
    out: dict[str, Any] = {"type": "integer" if kind == "int" else "number"}
    if minimum is not None:
        out["exclusiveMinimum" if exclusive else "minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


def _strategy() -> dict[str, Any]:
    option_types: dict[str, Any] = {
        name: {key: _option_schema(key) for key in keys} for name, keys in STRATEGY_OPTIONS.items()
    }
    with_options = [
        {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"const": name},
                **option_types[name],
            },
            "additionalProperties": False,
        }
        for name, keys in STRATEGY_OPTIONS.items()
        if keys
    ]
    plain = [name for name, keys in STRATEGY_OPTIONS.items() if not keys]
    return {
        "description": "default: auto",
        "anyOf": [
            {"enum": list(STRATEGY_OPTIONS)},
            *with_options,
            {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"enum": plain}},
                "additionalProperties": False,
            },
        ],
    }


def _early_stopping() -> dict[str, Any]:
    option_schema = {
        "warmup_steps": {"type": "integer", "minimum": 0},
        "startup_trials": {"type": "integer", "minimum": 0},
        "min_resource": {"type": "integer", "minimum": 1},
        "max_resource": {"anyOf": [{"type": "integer", "minimum": 1}, {"const": "auto"}]},
        "reduction_factor": {"type": "integer", "minimum": 2},
    }
    variants: list[dict[str, Any]] = [{"enum": list(EARLY_STOPPING_OPTIONS)}]
    for kind, keys in EARLY_STOPPING_OPTIONS.items():
        variants.append(
            {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"const": kind}, **{k: option_schema[k] for k in keys}},
                "additionalProperties": False,
            }
        )
    return {"anyOf": variants}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the native sweep-file format (a fresh dict each call)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://hypersweep.dev/schema/sweep.json",
        "title": "hypersweep sweep file",
        "description": "A hypersweep sweep file (native format). W&B sweep configs (with `method:`) are read too.",
        "type": "object",
        "required": ["parameters", "trial"],
        "additionalProperties": False,
        "$defs": {"when": _WHEN, "duration": _DURATION, "parameter": {"anyOf": _param_schemas()}},
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "study name; default: the file's stem"},
            "description": {"type": "string"},
            "objective": {
                "type": "object",
                "required": ["metric"],
                "properties": {
                    "metric": {"type": "string", "minLength": 1},
                    "goal": {"enum": ["minimize", "maximize"], "default": "minimize"},
                    "target": {"type": "number", "description": "finish once a complete trial reaches it"},
                },
                "additionalProperties": False,
            },
            "objectives": {
                "type": "array",
                "minItems": 1,
                "description": "several objectives (a Pareto front); exclusive with `objective`",
                "items": {
                    "type": "object",
                    "required": ["metric"],
                    "properties": {
                        "metric": {"type": "string", "minLength": 1},
                        "goal": {"enum": ["minimize", "maximize"], "default": "minimize"},
                    },
                    "additionalProperties": False,
                },
            },
            "strategy": _strategy(),
            "seed": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_SEED,
                "description": "default: drawn at random, then recorded",
            },
            "budget": {
                "type": "object",
                "properties": {
                    "trials": {"type": "integer", "minimum": 1, "maximum": MAX_TRIALS},
                    "parallel": {"type": "integer", "minimum": 1, "maximum": MAX_TRIALS},
                    "max_failures": {"type": "integer", "minimum": 0, "maximum": MAX_TRIALS},
                    "retries": {"type": "integer", "minimum": 0, "maximum": MAX_TRIALS, "default": 0},
                    "timeout": {"$ref": "#/$defs/duration"},
                    "patience": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_TRIALS,
                        "description": "end the run after this many finished trials without a better best",
                    },
                },
                "additionalProperties": False,
            },
            "trial": {
                "type": "object",
                "properties": {
                    "function": {
                        "type": "string",
                        "pattern": r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$",
                    },
                    "command": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": ["string", "number", "boolean"]},
                        "description": "argv template: {name} placeholders, {{ }} escapes, W&B ${macros}",
                    },
                    "timeout": {"$ref": "#/$defs/duration"},
                    "env": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
                    "wandb": {"enum": ["capture", "off"], "default": "off"},
                    "data": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                },
                "oneOf": [{"required": ["function"]}, {"required": ["command"]}],
                "additionalProperties": False,
            },
            "resources": {
                "type": "object",
                "properties": {
                    "cpus": {"type": "number", "minimum": 0, "default": 1},
                    "gpus": {"type": "number", "minimum": 0, "default": 0},
                    "accelerator_type": {"type": "string"},
                    "custom": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                },
                "additionalProperties": False,
            },
            "early_stopping": _early_stopping(),
            "parameters": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": {"$ref": "#/$defs/parameter"},
            },
            "enqueue": {
                "type": "array",
                "items": {"type": "object"},
                "description": "param sets to try first",
            },
            "monitoring": {
                "anyOf": [
                    {"type": "boolean"},
                    {"type": "object", "properties": {"interval": {"$ref": "#/$defs/duration"}}},
                ]
            },
            "artifacts": {"type": "object", "properties": {"root": {"type": "string"}}},
            "constraints": {
                "type": "array",
                "items": {
                    "type": "string",
                    "pattern": r"^\s*metrics\.[A-Za-z_][\w./-]*\s*(<=|>=|<|>)\s*\S+\s*$",
                },
                "description": "comparisons on final metrics (`metrics.NAME OP NUMBER`); feasible trials rank first",
            },
        },
    }
